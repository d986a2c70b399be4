// Package par splits loops across the CPUs.
package par

import (
	"os"
	"runtime"
	"strconv"
	"sync"
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
	run := func(w int) {
		for r := w; r < ranges; r += workers {
			f(r*n/ranges, (r+1)*n/ranges)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { run(w) })
	}
	run(0)
	wg.Wait()
}
