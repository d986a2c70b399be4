package metrics

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// TQuantile975 returns the 0.975 quantile of Student's t with df degrees of
// freedom (the normal's 1.96 in the limit), NaN for df < 1.
func TQuantile975(df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}

// Interval is a mean with its two-sided 95% confidence interval (Student's
// t over the values); Lo and Hi are NaN with fewer than two values.
type Interval struct {
	Mean, Lo, Hi float64
	N            int
}

// CI95 returns the mean of xs and its 95% t interval.
func CI95(xs []float64) Interval {
	m, s := MeanStd(xs)
	iv := Interval{Mean: m, Lo: math.NaN(), Hi: math.NaN(), N: len(xs)}
	if len(xs) >= 2 {
		h := TQuantile975(len(xs)-1) * s / math.Sqrt(float64(len(xs)))
		iv.Lo, iv.Hi = m-h, m+h
	}
	return iv
}

// Contains reports whether v lies in [Lo, Hi]; false when there is no
// interval.
func (iv Interval) Contains(v float64) bool { return iv.Lo <= v && v <= iv.Hi }
