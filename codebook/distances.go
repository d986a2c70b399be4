package codebook

import (
	"math"
	"slices"

	"github.com/vqtool/vqtool/dist2"
)

// Spacing is how far each code is from its nearest other code: how tightly
// the codebook is packed.
type Spacing struct {
	Nearest []float32 `json:"nearest_neighbour_distance"` // per code
	Mean    float64   `json:"nearest_neighbour_mean"`
	Median  float64   `json:"nearest_neighbour_median"` // the upper median for an even count
}

// SpacingOf measures d's nearest-neighbour distances (d of at least two codes).
func SpacingOf(d dist2.Distance) Spacing {
	k := d.CodebookSize()
	s := Spacing{Nearest: make([]float32, k)}
	row := make([]float32, k)
	for x := range k {
		d.RowTo(row, x)
		best := float32(math.Inf(1))
		for v, dv := range row {
			if v != x {
				best = min(best, dv)
			}
		}
		s.Nearest[x] = best
	}
	sorted := slices.Clone(s.Nearest)
	slices.Sort(sorted)
	s.Median = float64(sorted[k/2])
	for _, v := range sorted {
		s.Mean += float64(v) / float64(k)
	}
	return s
}

// Matrix returns d as a dense row-major K x K matrix.
func Matrix(d dist2.Distance) []float32 {
	k := d.CodebookSize()
	m := make([]float32, k*k)
	for x := range k {
		d.RowTo(m[x*k:(x+1)*k], x)
	}
	return m
}
