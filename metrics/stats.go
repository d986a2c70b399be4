package metrics

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// MeanStd returns the mean and the sample standard deviation (n-1) of xs:
// NaN and NaN for no values, the value and 0 for one.
func MeanStd(xs []float64) (mean, std float64) {
	switch len(xs) {
	case 0:
		return math.NaN(), math.NaN()
	case 1:
		return xs[0], 0
	}
	return stat.MeanStdDev(xs, nil)
}

// ranks returns the rank of each value (1-based), ties given their mean rank.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		mid := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mid
		}
		i = j + 1
	}
	return r
}

// Pearson returns the linear correlation of x and y (gonum's
// stat.Correlation): NaN when either is constant or has fewer than two
// values.
func Pearson(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("metrics: Pearson: length mismatch")
	}
	if len(x) < 2 {
		return math.NaN()
	}
	_, sx := stat.MeanStdDev(x, nil)
	_, sy := stat.MeanStdDev(y, nil)
	if sx == 0 || sy == 0 {
		return math.NaN()
	}
	return stat.Correlation(x, y, nil)
}

// Spearman returns the rank correlation of x and y: the Pearson correlation
// of their ranks, ties given their mean rank (scipy.stats.spearmanr's
// definition).
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("metrics: Spearman: length mismatch")
	}
	return Pearson(ranks(x), ranks(y))
}
