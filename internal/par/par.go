// Package par splits loops across the CPUs.
package par

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SplitEnv names the environment variable that fixes how many ranges For
// splits a loop into; without it, the process's GOMAXPROCS at start.
const SplitEnv = "VQTOOL_SPLIT"

var split = func() int {
	if v, err := strconv.Atoi(os.Getenv(SplitEnv)); err == nil && v > 0 {
		return v
	}
	return runtime.GOMAXPROCS(0)
}()

// Split is how many ranges ForRanges splits a loop into (at most), and For
// piecesPerRange times as many pieces.
func Split() int { return split }

// piecesPerRange is how many pieces For cuts a loop into per range of the
// split. The CPUs claim pieces as they come free, so a CPU that the system
// takes away for a while (another process, a wake-up that waits) holds up
// a loop by at most the piece it is running, and the others do the rest;
// more pieces cost an atomic claim and a call of f each.
const piecesPerRange = 4

// For calls f on contiguous pieces covering [0, n), in parallel, each piece
// at least grain items; f must be safe to run concurrently on disjoint
// pieces, and its results must not depend on where the pieces fall (an
// element-wise pass, rows computed each on its own): see ForRanges.
//
// The pieces depend on n, grain and Split, fixed when the process starts,
// not on the GOMAXPROCS of the moment nor on which goroutine runs which
// piece. A process started with SplitEnv set to another's Split (and fewer
// Ps, as the jobs of vqtool experiment --jobs are) computes the same bits.
//
// A panic in f, on whichever goroutine it ran, panics in the caller of For
// once no piece is running (a helper's panic as a *HelperPanic); the
// pieces not yet started then never run.
func For(n, grain int, f func(lo, hi int)) { loop(n, grain, piecesPerRange, f) }

// ForRanges is For with one piece per range of the split: at most Split
// ranges, the same as long as Split is. It is for f whose results depend on
// its ranges, such as sums per range combined afterwards.
func ForRanges(n, grain int, f func(lo, hi int)) { loop(n, grain, 1, f) }

func loop(n, grain, per int, f func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	ranges := min(split, n/grain)
	if ranges <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	j := &job{f: f, n: n, pieces: int64(min(ranges*per, n/grain))}
	workers := min(runtime.GOMAXPROCS(0), int(j.pieces))
	if workers <= 1 {
		for i := range j.pieces {
			j.run(i)
		}
		return
	}
	if helpers.TryLock() { // the common case: one loop at a time, on the waiting helpers
		defer helpers.Unlock()
		helpers.run(j, workers)
		return
	}
	for range workers - 1 { // a loop inside a loop, or loops side by side
		go j.work(true)
	}
	defer j.wait() // even when f panics here: no piece runs after For returns
	j.work(false)
}

// A job is one loop's pieces, claimed in order by whoever comes. A job is
// never reused: a helper that arrives late finds no piece left to claim.
type job struct {
	f      func(lo, hi int)
	n      int
	pieces int64
	next   atomic.Int64 // pieces claimed; closed and beyond once a piece panicked
	done   atomic.Int64 // pieces finished, panicked, or never to run
	panic  atomic.Pointer[HelperPanic]
	// callerPanicked is set, on the caller's goroutine, when f panicked there.
	callerPanicked bool
}

// closed is next once a piece has panicked: no claim succeeds after.
const closed = 1 << 62

// run calls f on piece i.
func (j *job) run(i int64) {
	n := int64(j.n)
	j.f(int(i*n/j.pieces), int((i+1)*n/j.pieces))
}

// work claims and runs pieces until none is left. If f panics, the piece
// counts as done, the pieces nobody claimed are closed (counted done,
// never run), and a helper's panic is kept for the caller of For, which
// re-raises it; on the caller's goroutine the panic goes on.
func (j *job) work(helper bool) {
	ok := false
	defer func() {
		if ok {
			return
		}
		if !helper {
			j.callerPanicked = true
		} else if r := recover(); r != nil {
			j.panic.CompareAndSwap(nil, &HelperPanic{Value: r, Stack: debug.Stack()})
		}
		if c := j.next.Swap(closed); c < closed {
			j.done.Add(j.pieces - min(c, j.pieces))
		}
		j.done.Add(1)
	}()
	for {
		i := j.next.Add(1) - 1
		if i >= j.pieces {
			ok = true
			return
		}
		j.run(i)
		j.done.Add(1)
	}
}

// wait returns when every piece is done, and re-raises a helper's panic
// unless the caller is panicking already. The pieces still running when
// the caller runs out run on other CPUs: spin, and yield only if they take
// long (the goroutine running one may be waiting for a P).
func (j *job) wait() {
	var start time.Time
	for spins := 0; j.done.Load() < j.pieces; spins++ {
		if spins%64 != 63 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
		}
		if time.Since(start) > spinFor {
			runtime.Gosched()
		}
	}
	if p := j.panic.Load(); p != nil && !j.callerPanicked { // else the caller's own panic goes on
		panic(p)
	}
}

// HelperPanic is what For panics with when f panicked on another goroutine:
// the value f panicked with and that goroutine's stack.
type HelperPanic struct {
	Value any
	Stack []byte
}

func (p *HelperPanic) Error() string {
	return fmt.Sprintf("%v [in a par.For piece on another goroutine]\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the value f panicked with if it is an error.
func (p *HelperPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// A new goroutine lands in the run queue of the P that starts it, and an
// idle P is woken by the OS, which on a virtual machine takes tens of
// microseconds (measured here: 60-80 us a loop, 217 loops a generator
// step). So For hands its pieces to helper goroutines that, after a loop,
// spin for spinFor before they sleep: a step's loops, a few hundred
// microseconds apart, start on the other CPUs at once. The caller does not
// wait for a helper to arrive: it claims pieces too, and a helper that
// comes late (woken, or its thread without a CPU) finds fewer to do.
const spinFor = 300 * time.Microsecond

var helpers pool

// testHookAfterBump, when set by a test, runs between a helper's bump and
// the check whether it sleeps: a sender held up there.
var testHookAfterBump func()

// testHookHelper, when set by a test, runs on a helper before it looks for
// the job it was called to: a helper whose thread has no CPU.
var testHookHelper atomic.Pointer[func()]

// pool is the helper goroutines and the job they are to work on; its mutex
// is held by the For using them.
type pool struct {
	sync.Mutex
	hs  []*helper
	job atomic.Pointer[job] // nil between loops
}

type helper struct {
	seq   atomic.Uint64 // bumped for each loop
	sleep atomic.Bool   // parked on wake
	wake  chan struct{} // cap 1
}

// run calls on workers-1 helpers to work on j, works on it here, and
// returns when all its pieces are done.
func (p *pool) run(j *job, workers int) {
	for len(p.hs) < workers-1 {
		h := &helper{wake: make(chan struct{}, 1)}
		p.hs = append(p.hs, h)
		go p.loop(h)
	}
	p.job.Store(j)
	defer p.job.Store(nil) // the job's f is not kept alive past the loop
	for _, h := range p.hs[:workers-1] {
		h.seq.Add(1)
		if testHookAfterBump != nil {
			testHookAfterBump()
		}
		if h.sleep.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	defer j.wait() // even when f panics here: no piece runs after For returns
	j.work(false)
}

// loop is helper h: it works on each job the pool starts, spinning for
// spinFor after each before it sleeps.
func (p *pool) loop(h *helper) {
	var seen uint64
	for {
		start, spins := time.Now(), 0
		for h.seq.Load() == seen {
			spins++
			if spins%64 != 0 {
				continue
			}
			if time.Since(start) < spinFor {
				runtime.Gosched()
				continue
			}
			h.sleep.Store(true)
			if h.seq.Load() != seen { // a loop came: take it, unless its sender is waking us
				if h.sleep.CompareAndSwap(true, false) {
					break
				}
			}
			// A wake may be stale: a sender held up between its bump and
			// its CompareAndSwap can find this helper asleep again, after
			// it worked on that loop. So the loop condition decides, not
			// the wake.
			<-h.wake
			start, spins = time.Now(), 0
		}
		seen = h.seq.Load()
		if hook := testHookHelper.Load(); hook != nil {
			(*hook)()
		}
		if j := p.job.Load(); j != nil { // nil: the loop is over already
			j.work(true)
		}
	}
}
