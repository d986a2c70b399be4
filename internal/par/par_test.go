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
