// Package par splits loops across the CPUs.
package par

import (
	"runtime"
	"sync"
)

// For calls f on contiguous ranges covering [0, n), in parallel, one range per
// CPU when each range gets at least grain items; f must be safe to run
// concurrently on disjoint ranges.
func For(n, grain int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if grain < 1 {
		grain = 1
	}
	workers = min(workers, n/grain)
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(w*n/workers, (w+1)*n/workers)
	}
	f(0, n/workers)
	wg.Wait()
}
