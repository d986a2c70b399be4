package metrics

import (
	"math"
	"testing"
)

func TestSpearman(t *testing.T) {
	tests := []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{1, 8, 27, 64}, 1}, // monotone, not linear
		{[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// Known case with ties: ranks x = [1, 2.5, 2.5, 4], y = [1, 2, 3, 4].
		{[]float64{1, 2, 2, 3}, []float64{1, 2, 3, 4}, 0.9486832980505138},
		// IQ against hours of television (the textbook example): rho = -29/165.
		{[]float64{106, 86, 100, 101, 99, 103, 97, 113, 112, 110}, []float64{7, 0, 27, 50, 28, 29, 20, 12, 6, 17}, -29.0 / 165},
	}
	for _, tc := range tests {
		if got := Spearman(tc.x, tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Spearman(%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestPearson(t *testing.T) {
	tests := []struct {
		x, y []float64
		want float64
	}{
		// sxy 6, sxx 10, syy 6: r = 6/sqrt(60).
		{[]float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5}, 6 / math.Sqrt(60)},
		{[]float64{1, 2, 3}, []float64{3, 1, -1}, -1},
		{[]float64{1, 2, 3}, []float64{5, 5, 5}, math.NaN()}, // constant
		{[]float64{1}, []float64{2}, math.NaN()},
	}
	for _, tc := range tests {
		got := Pearson(tc.x, tc.y)
		if math.IsNaN(tc.want) != math.IsNaN(got) || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Pearson(%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestMeanStd(t *testing.T) {
	tests := []struct {
		xs        []float64
		mean, std float64
	}{
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, 2.138089935299395},
		{[]float64{3}, 3, 0},
		{nil, math.NaN(), math.NaN()},
	}
	for _, tc := range tests {
		m, s := MeanStd(tc.xs)
		if math.IsNaN(tc.mean) != math.IsNaN(m) || math.IsNaN(tc.std) != math.IsNaN(s) ||
			math.Abs(m-tc.mean) > 1e-12 || math.Abs(s-tc.std) > 1e-12 {
			t.Errorf("MeanStd(%v) = %v, %v; want %v, %v", tc.xs, m, s, tc.mean, tc.std)
		}
	}
}
