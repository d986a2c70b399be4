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
	}
	for _, tc := range tests {
		if got := Spearman(tc.x, tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Spearman(%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	m, s := MeanStd([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if m != 5 || math.Abs(s-2.138089935299395) > 1e-12 {
		t.Errorf("MeanStd = %v, %v; want 5, 2.1381", m, s)
	}
}
