package par

import (
	"runtime"
	"slices"
	"sync"
	"testing"
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
