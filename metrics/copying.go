package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/vqtool/vqtool/codebook"
)

// CopyingConfig sets the data-copying test: the cells the training features
// are cut into, and the share of the generated samples a cell must hold to
// count.
type CopyingConfig struct {
	Cells    int     // k-means cells of the training features
	MinShare float64 // a cell counts when it holds at least this share of the generated samples (tau)
	Seed     uint64  // of the k-means seeding
}

// DefaultCopyingConfig is 20 cells, each counted when it holds at least
// 1% of the generated samples.
func DefaultCopyingConfig() CopyingConfig { return CopyingConfig{Cells: 20, MinShare: 0.01, Seed: 1} }

// Copying is C_T, the data-copying statistic of Meehan, Chaudhuri and
// Dasgupta (AISTATS 2020), over feature rows of d values: train (the
// training set T), test (held-out P) and fake (generated Q). The training
// features are cut into k-means cells; in each cell that holds enough of
// fake, the distances of test and of fake rows to their nearest training
// row are compared by the Mann-Whitney U test, as a z-score; C_T is the
// mean of the cells' z-scores weighted by their share of test. C_T well
// below 0 (about -3 and under) says the samples lie closer to the training
// set than new data does: copying. Above 0 says they lie farther: the
// model underfits there. It returns an error when no cell holds enough
// samples.
func Copying(train []float32, nt int, test []float32, np int, fake []float32, nq int, d int, cfg CopyingConfig) (float64, error) {
	switch {
	case d < 1 || len(train) != nt*d || len(test) != np*d || len(fake) != nq*d:
		return 0, fmt.Errorf("metrics: copying test over %d, %d and %d rows of %d: the features do not match", nt, np, nq, d)
	case cfg.Cells < 1 || nt < cfg.Cells || np < 1 || nq < 1:
		return 0, fmt.Errorf("metrics: copying test with %d cells over %d training, %d test and %d generated rows: want at least one row a cell and some of each", cfg.Cells, nt, np, nq)
	}
	cells, err := codebook.New(cfg.Cells, d, rand.New(rand.NewPCG(cfg.Seed, 0)))
	if err != nil {
		return 0, err
	}
	if err := cells.InitKMeans(train, 10, rand.New(rand.NewPCG(cfg.Seed, 1))); err != nil {
		return 0, err
	}
	cellOf := func(x []float32, n int) []int32 {
		idx := make([]int32, n)
		cells.NearestTo(idx, make([]float32, n), x)
		return idx
	}
	pCell, qCell := cellOf(test, np), cellOf(fake, nq)
	pDist, qDist := nearestDistances(test, np, train, nt, d), nearestDistances(fake, nq, train, nt, d)
	var sum, weight float64
	for c := range int32(cfg.Cells) {
		var p, q []float64
		for i, k := range pCell {
			if k == c {
				p = append(p, pDist[i])
			}
		}
		for i, k := range qCell {
			if k == c {
				q = append(q, qDist[i])
			}
		}
		if len(p) == 0 || float64(len(q)) < cfg.MinShare*float64(nq) || len(q) == 0 {
			continue
		}
		w := float64(len(p)) / float64(np)
		sum += w * mannWhitneyZ(q, p)
		weight += w
	}
	if weight == 0 {
		return 0, fmt.Errorf("metrics: copying test: no cell holds %.0f%% of the %d generated rows and any test row", 100*cfg.MinShare, nq)
	}
	return sum / weight, nil
}

// nearestDistances returns the Euclidean distance of each of the n rows of
// x to its nearest row of ref.
// The distances are computed for rows blocks at a time, so that a
// training set of any size takes a block's worth of memory.
func nearestDistances(x []float32, n int, ref []float32, nr, d int) []float64 {
	out := make([]float64, n)
	rows := max(1, min(n, (1<<22)/max(nr, 1))) // at most 16 MiB of distances a block
	for lo := 0; lo < n; lo += rows {
		hi := min(n, lo+rows)
		sq := sqDistances(x[lo*d:hi*d], hi-lo, ref, nr, d)
		for i := range hi - lo {
			m := math.Inf(1)
			for _, v := range sq[i*nr : (i+1)*nr] {
				m = min(m, float64(v))
			}
			out[lo+i] = math.Sqrt(max(m, 0))
		}
	}
	return out
}

// mannWhitneyZ is the z-score of the Mann-Whitney U statistic of a against
// b, U counting the pairs in which a's value is the larger (ties a half):
// below 0 when a's values tend to be smaller than b's.
func mannWhitneyZ(a, b []float64) float64 {
	type item struct {
		v     float64
		fromA bool
	}
	all := make([]item, 0, len(a)+len(b))
	for _, v := range a {
		all = append(all, item{v, true})
	}
	for _, v := range b {
		all = append(all, item{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	// Rank sum of a, ties at their mean rank.
	var rankA float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		mean := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].fromA {
				rankA += mean
			}
		}
		i = j
	}
	m, n := float64(len(a)), float64(len(b))
	u := rankA - m*(m+1)/2
	return (u - m*n/2) / math.Sqrt(m*n*(m+n+1)/12)
}
