package par

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// For covers [0, n) once, in the same ranges whatever GOMAXPROCS is.
func TestForRangesDoNotDependOnGOMAXPROCS(t *testing.T) {
	ranges := func(n, grain int) [][2]int {
		var mu sync.Mutex
		var got [][2]int
		seen := make([]int, n)
		For(n, grain, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, [2]int{lo, hi})
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d grain=%d: item %d done %d times", n, grain, i, c)
			}
		}
		slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
		return got
	}
	for _, c := range [][2]int{{0, 1}, {1, 1}, {7, 1}, {100, 3}, {1000, 1}, {10, 20}} {
		want := ranges(c[0], c[1])
		old := runtime.GOMAXPROCS(1)
		got := ranges(c[0], c[1])
		runtime.GOMAXPROCS(old)
		if !slices.Equal(got, want) {
			t.Errorf("n=%d grain=%d: %v with one P, %v with %d", c[0], c[1], got, want, old)
		}
	}
}

// Loops side by side, a loop inside a loop, and a loop after the helpers
// have gone to sleep each cover their items once.
func TestForOnHelpers(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one P: For runs its ranges in turn")
	}
	check := func(n int) {
		seen := make([]atomic.Int32, n)
		For(n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		})
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Errorf("n=%d: item %d done %d times", n, i, c)
			}
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				check(37)
			}
		})
	}
	wg.Wait()
	For(8, 1, func(lo, hi int) { check(16) })
	time.Sleep(2 * spinFor)
	check(5)
}

// A range that panics in the calling goroutine (and a test that recovers)
// leaves no range running after For returns, and the next loops whole.
func TestForPanicWaitsForTheOtherRanges(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one P: For runs its ranges in turn")
	}
	for range 50 {
		var running atomic.Int32
		func() {
			defer func() { _ = recover() }()
			For(2, 1, func(lo, hi int) {
				if lo == 0 {
					panic("range 0")
				}
				running.Add(1)
				time.Sleep(200 * time.Microsecond)
				running.Add(-1)
			})
		}()
		if n := running.Load(); n != 0 {
			t.Fatalf("For returned by a panic with %d ranges still running", n)
		}
		checkNextLoop(t)
	}
}

// A sender held up between a helper's bump and its wake finds the helper,
// which has run the loop meanwhile, asleep again: that wake must not run
// the loop a second time.
func TestForStaleWakeRunsNothingTwice(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one P: For runs its ranges in turn")
	}
	For(2, 1, func(lo, hi int) {}) // the helper exists
	testHookAfterBump = func() { time.Sleep(3 * spinFor) }
	defer func() { testHookAfterBump = nil }()
	var calls atomic.Int32
	For(2, 1, func(lo, hi int) { calls.Add(1) })
	testHookAfterBump = nil
	time.Sleep(spinFor / 3) // a stale wake would run the ranges now
	if c := calls.Load(); c != 2 {
		t.Fatalf("%d range calls for 2 ranges", c)
	}
	checkNextLoop(t)
}

// checkNextLoop runs a loop that sums 0..99 and checks that it covered each
// item once.
func checkNextLoop(t *testing.T) {
	t.Helper()
	var sum atomic.Int64
	For(100, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sum.Add(int64(i))
		}
	})
	if sum.Load() != 4950 {
		t.Fatalf("the next loop summed %d, want 4950", sum.Load())
	}
}

// For cuts a loop into piecesPerRange pieces per range of the split, and
// ForRanges into the split's ranges, each at least grain items.
func TestPieces(t *testing.T) {
	pieces := func(loop func(int, int, func(int, int)), n, grain int) [][2]int {
		var mu sync.Mutex
		var got [][2]int
		loop(n, grain, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, [2]int{lo, hi})
		})
		slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
		return got
	}
	even := func(n, k int) [][2]int {
		var r [][2]int
		for i := range k {
			r = append(r, [2]int{i * n / k, (i + 1) * n / k})
		}
		return r
	}
	for _, c := range [][2]int{{1000, 1}, {1000, 100}, {1000, 400}, {7, 1}, {3, 1}} {
		n, grain := c[0], c[1]
		ranges := max(1, min(Split(), n/grain))
		if got, want := pieces(ForRanges, n, grain), even(n, ranges); !slices.Equal(got, want) {
			t.Errorf("ForRanges(%d, %d): %v, want %v", n, grain, got, want)
		}
		k := 1
		if ranges > 1 {
			k = min(ranges*piecesPerRange, n/grain)
		}
		if got, want := pieces(For, n, grain), even(n, k); !slices.Equal(got, want) {
			t.Errorf("For(%d, %d): %v, want %v", n, grain, got, want)
		}
	}
}

// A helper that does not come (its thread without a CPU) holds up no loop:
// the caller runs every piece, and the helper, when it comes, runs none.
func TestForDoesNotWaitForAHelper(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 || Split() < 2 {
		t.Skip("one P or a split of one: For runs its pieces in turn")
	}
	For(100, 1, func(lo, hi int) {}) // the helpers exist
	release := make(chan struct{})
	var held atomic.Int32
	hook := func() {
		held.Add(1)
		<-release
	}
	testHookHelper.Store(&hook)
	defer func() {
		testHookHelper.Store(nil)
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	var calls atomic.Int32
	for deadline := time.Now().Add(5 * time.Second); held.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no helper came in 5 s")
		}
		checkNextLoop(t)
	}
	for range 100 {
		checkNextLoop(t)
		For(100, 1, func(lo, hi int) { calls.Add(1) })
	}
	if c := calls.Load(); c != 100*min(int32(Split()*piecesPerRange), 100) {
		t.Fatalf("%d pieces ran in 100 loops", c)
	}
	testHookHelper.Store(nil)
	before := calls.Load()
	close(release)
	time.Sleep(spinFor)
	if c := calls.Load(); c != before {
		t.Fatalf("%d pieces ran after For returned", c-before)
	}
	checkNextLoop(t)
}

// A piece held up on one goroutine does not hold up the others: they run
// every other piece meanwhile.
func TestForOthersTakeTheRestOfALoop(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 || Split() < 2 {
		t.Skip("one P or a split of one: For runs its pieces in turn")
	}
	const n = 64
	for range 20 {
		var first atomic.Bool
		var done atomic.Int32
		k := int32(min(Split()*piecesPerRange, n))
		For(n, 1, func(lo, hi int) {
			if first.CompareAndSwap(false, true) {
				deadline := time.Now().Add(5 * time.Second)
				for done.Load() < k-1 {
					if time.Now().After(deadline) {
						t.Errorf("%d of the other %d pieces ran while one was held up", done.Load(), k-1)
						break
					}
					runtime.Gosched()
				}
			}
			done.Add(1)
		})
		if d := done.Load(); d != k {
			t.Fatalf("%d pieces ran, want %d", d, k)
		}
	}
}

// A panic in a piece reaches the caller of For, raw when the piece ran on
// the caller's goroutine, as a *HelperPanic when it ran on another; For
// returns only when no piece is running.
func TestForPanicReachesTheCaller(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 || Split() < 2 {
		t.Skip("one P or a split of one: For runs its pieces in turn")
	}
	var raw, helper int
	for range 50 {
		var first, panicked atomic.Bool
		var running atomic.Int32
		r := func() (r any) {
			defer func() { r = recover() }()
			For(64, 1, func(lo, hi int) {
				running.Add(1)
				defer running.Add(-1)
				if first.CompareAndSwap(false, true) { // held until another piece panics
					for deadline := time.Now().Add(5 * time.Second); !panicked.Load() && time.Now().Before(deadline); {
						runtime.Gosched()
					}
					time.Sleep(100 * time.Microsecond)
					return
				}
				panicked.Store(true)
				panic("boom")
			})
			return nil
		}()
		if n := running.Load(); n != 0 {
			t.Fatalf("For returned by a panic with %d pieces still running", n)
		}
		switch p := r.(type) {
		case string:
			if p != "boom" {
				t.Fatalf("recovered %q", p)
			}
			raw++
		case *HelperPanic:
			if p.Value != "boom" || len(p.Stack) == 0 {
				t.Fatalf("recovered %#v", p)
			}
			helper++
		default:
			t.Fatalf("recovered %#v, want the panic", r)
		}
		checkNextLoop(t)
	}
	t.Logf("%d panics on the caller's goroutine, %d on a helper's", raw, helper)
}
