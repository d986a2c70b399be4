// Package par splits loops across the CPUs.
package par

import (
	"os"
	"runtime"
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

// Split is how many ranges For splits a loop into (at most).
func Split() int { return split }

// For calls f on contiguous ranges covering [0, n), in parallel, one range per
// CPU when each range gets at least grain items; f must be safe to run
// concurrently on disjoint ranges.
//
// The ranges depend on Split, fixed when the process starts, not on the
// GOMAXPROCS of the moment: with fewer Ps the same ranges run in turn. A
// process started with SplitEnv set to another's Split (and fewer Ps, as
// the jobs of vqtool experiment --jobs are) computes the same bits.
func For(n, grain int, f func(lo, hi int)) {
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
	workers := min(runtime.GOMAXPROCS(0), ranges)
	if workers <= 1 {
		runRanges(f, n, ranges, 1, 0)
		return
	}
	if helpers.TryLock() { // the common case: one loop at a time, on the waiting helpers
		defer helpers.Unlock()
		helpers.run(f, n, ranges, workers)
		return
	}
	var wg sync.WaitGroup // a loop inside a loop, or loops side by side
	for w := 1; w < workers; w++ {
		wg.Go(func() { runRanges(f, n, ranges, workers, w) })
	}
	defer wg.Wait() // even when f panics here: no range runs after For returns
	runRanges(f, n, ranges, workers, 0)
}

// runRanges calls f on the ranges of worker w: r = w, w+workers, ... of
// the ranges that split [0, n).
func runRanges(f func(lo, hi int), n, ranges, workers, w int) {
	for r := w; r < ranges; r += workers {
		f(r*n/ranges, (r+1)*n/ranges)
	}
}

// A new goroutine lands in the run queue of the P that starts it, and an
// idle P is woken by the OS, which on a virtual machine takes tens of
// microseconds (measured here: 60-80 us a loop, 217 loops a generator
// step). So For hands its ranges to helper goroutines that, after a loop,
// spin for spinFor before they sleep: a step's loops, a few hundred
// microseconds apart, start on the other CPUs at once.
const spinFor = 300 * time.Microsecond

var helpers pool

// testHookAfterBump, when set by a test, runs between a helper's bump and
// the check whether it sleeps: a sender held up there.
var testHookAfterBump func()

// pool is the helper goroutines and the loop they are running; its mutex
// is held by the For using them.
type pool struct {
	sync.Mutex
	hs   []*helper
	f    func(lo, hi int)
	n    int
	rng  int          // ranges
	wk   int          // workers
	left atomic.Int32 // helpers still running the loop
}

type helper struct {
	seq   atomic.Uint64 // bumped for each loop
	w     int
	sleep atomic.Bool   // parked on wake
	wake  chan struct{} // cap 1
}

// run runs f's ranges of workers 1 .. workers-1 on helpers and of worker 0
// here, and returns when all are done.
func (p *pool) run(f func(lo, hi int), n, ranges, workers int) {
	for len(p.hs) < workers-1 {
		h := &helper{w: len(p.hs) + 1, wake: make(chan struct{}, 1)}
		p.hs = append(p.hs, h)
		go p.loop(h)
	}
	p.f, p.n, p.rng, p.wk = f, n, ranges, workers
	p.left.Store(int32(workers - 1))
	woke := false
	for _, h := range p.hs[:workers-1] {
		h.seq.Add(1)
		if testHookAfterBump != nil {
			testHookAfterBump()
		}
		if h.sleep.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
			woke = true
		}
	}
	defer p.wait(woke) // even when f panics here, so that the next loop finds the helpers idle
	runRanges(f, n, ranges, workers, 0)
}

// wait returns when the helpers are done with the loop. A helper woken from
// sleep waits in this P's queue until another P, itself woken, takes it:
// yield to it (woke) rather than wait for that. A spinning helper is
// already running elsewhere: yield only if it is still not done after a
// long while.
func (p *pool) wait(woke bool) {
	var start time.Time
	for spins := 0; p.left.Load() > 0; spins++ {
		if spins%64 != 63 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
		}
		if woke || time.Since(start) > spinFor {
			runtime.Gosched()
		}
	}
	p.f = nil
}

// loop is helper h: it runs its share of each loop the pool starts,
// spinning for spinFor after each before it sleeps.
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
			// it ran that loop. So the loop condition decides, not the
			// wake.
			<-h.wake
			start, spins = time.Now(), 0
		}
		seen = h.seq.Load()
		if h.w < p.wk {
			runRanges(p.f, p.n, p.rng, p.wk, h.w)
		}
		p.left.Add(-1)
	}
}
