package metrics

import "math"

// t975 holds the 0.975 quantile of Student's t for 1 to 30 degrees of
// freedom.
var t975 = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// TQuantile975 returns the 0.975 quantile of Student's t with df degrees of
// freedom (the normal's 1.96 in the limit), NaN for df < 1.
func TQuantile975(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(t975):
		return t975[df-1]
	}
	// Cornish-Fisher expansion around the normal quantile; within 1e-3 of
	// the exact value beyond 30 degrees of freedom.
	z, d := 1.959964, float64(df)
	return z + (z*z*z+z)/(4*d) + (5*math.Pow(z, 5)+16*z*z*z+3*z)/(96*d*d)
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
