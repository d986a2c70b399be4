package vqvae

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/dist2"
)

// Region is a rectangle of a token grid: rows [Y0, Y1), columns [X0, X1).
type Region struct {
	Y0 int `json:"y0"`
	X0 int `json:"x0"`
	Y1 int `json:"y1"`
	X1 int `json:"x1"`
}

// CenterRegion returns the size x size tokens at the center of a grid.
func CenterRegion(grid, size int) Region {
	y0 := (grid - size) / 2
	return Region{Y0: y0, X0: y0, Y1: y0 + size, X1: y0 + size}
}

// ParseRegion reads a region of a grid of grid x grid tokens: "center",
// the size x size tokens at its center (CenterRegion), or "Y0,X0,Y1,X1",
// rows [Y0, Y1) and columns [X0, X1); one that leaves the grid is an error.
func ParseRegion(s string, size, grid int) (Region, error) {
	if s == "center" {
		r := CenterRegion(grid, size)
		return r, r.Check(grid)
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return Region{}, fmt.Errorf("vqvae: region %q: want center or Y0,X0,Y1,X1", s)
	}
	var v [4]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return Region{}, fmt.Errorf("vqvae: region %q: %q is not an integer", s, p)
		}
		v[i] = n
	}
	r := Region{Y0: v[0], X0: v[1], Y1: v[2], X1: v[3]}
	return r, r.Check(grid)
}

// Check reports a region that is empty or leaves the grid.
func (r Region) Check(grid int) error {
	if r.Y0 < 0 || r.X0 < 0 || r.Y1 > grid || r.X1 > grid || r.Y0 >= r.Y1 || r.X0 >= r.X1 {
		return fmt.Errorf("vqvae: token region rows [%d, %d) columns [%d, %d): want a non-empty rectangle inside the %dx%d grid",
			r.Y0, r.Y1, r.X0, r.X1, grid, grid)
	}
	return nil
}

// Tokens returns the number of tokens in the region.
func (r Region) Tokens() int { return (r.Y1 - r.Y0) * (r.X1 - r.X0) }

// SwapMode says how a token is replaced.
type SwapMode int

const (
	Original SwapMode = iota // keep it
	Near                     // a code drawn from its nearest codes (itself excluded)
	Random                   // a code drawn uniformly from the codebook
	Far                      // a code drawn from its farthest codes
)

// SwapModes lists the modes in the order of the paper's Figure 4.
var SwapModes = []SwapMode{Original, Near, Random, Far}

func (m SwapMode) String() string {
	return [...]string{"original", "nearby", "random", "distant"}[m]
}

// Swapper replaces tokens by codes chosen by their codebook distance.
type Swapper struct {
	Near, Far int // how many nearest and farthest codes to draw from
	cb        *codebook.Codebook
	dist      dist2.Distance
	ranked    map[int32][]int32 // codes by distance to a code, nearest first, itself excluded
	row       []float32
}

// NewSwapper prepares replacements over cb under a distance kind.
func NewSwapper(cb *codebook.Codebook, kind dist2.VectorKind, near, far int) (*Swapper, error) {
	if near < 1 || far < 1 || near > cb.CodebookSize-1 || far > cb.CodebookSize-1 {
		return nil, fmt.Errorf("vqvae: %d nearest and %d farthest codes: want each in [1, %d]", near, far, cb.CodebookSize-1)
	}
	d, err := cb.Distance(kind)
	if err != nil {
		return nil, err
	}
	return &Swapper{Near: near, Far: far, cb: cb, dist: d, ranked: map[int32][]int32{}, row: make([]float32, cb.CodebookSize)}, nil
}

// Ranked returns every other code by distance to code x, nearest first.
func (s *Swapper) Ranked(x int32) []int32 {
	if r, ok := s.ranked[x]; ok {
		return r
	}
	s.dist.RowTo(s.row, int(x))
	r := make([]int32, 0, s.cb.CodebookSize-1)
	for j := range int32(s.cb.CodebookSize) {
		if j != x {
			r = append(r, j)
		}
	}
	slices.SortStableFunc(r, func(a, b int32) int {
		switch {
		case s.row[a] < s.row[b]:
			return -1
		case s.row[a] > s.row[b]:
			return 1
		}
		return 0
	})
	s.ranked[x] = r
	return r
}

// Distance returns d(a, b) under the swapper's distance.
func (s *Swapper) Distance(a, b int32) float32 {
	s.dist.RowTo(s.row, int(a))
	return s.row[b]
}

// Swap copies grid (gs x gs) into dst and replaces each token of region,
// independently, as mode says.
func (s *Swapper) Swap(dst, grid []int32, gs int, region Region, mode SwapMode, r *rand.Rand) {
	copy(dst, grid)
	if mode == Original {
		return
	}
	for y := region.Y0; y < region.Y1; y++ {
		for x := region.X0; x < region.X1; x++ {
			t := grid[y*gs+x]
			var v int32
			switch mode {
			case Near:
				v = s.Ranked(t)[r.IntN(s.Near)]
			case Far:
				rk := s.Ranked(t)
				v = rk[len(rk)-1-r.IntN(s.Far)]
			case Random:
				v = int32(r.IntN(s.cb.CodebookSize))
			}
			dst[y*gs+x] = v
		}
	}
}

// SwapRank replaces each token of region by the code at a rank drawn from
// [lo, hi) of its own ranking (0 is the nearest other code), and returns the
// mean distance from the old codes to the new ones.
func (s *Swapper) SwapRank(dst, grid []int32, gs int, region Region, lo, hi int, r *rand.Rand) float64 {
	copy(dst, grid)
	var sum float64
	for y := region.Y0; y < region.Y1; y++ {
		for x := region.X0; x < region.X1; x++ {
			t := grid[y*gs+x]
			v := s.Ranked(t)[lo+r.IntN(hi-lo)]
			dst[y*gs+x] = v
			sum += float64(s.Distance(t, v))
		}
	}
	return sum / float64(region.Tokens())
}
