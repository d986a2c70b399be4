package metrics

import (
	"math"
	"testing"
)

func TestOverlap(t *testing.T) {
	train := []int32{
		1, 2, 3, 4, // grid 0
		1, 2, 0, 0, // grid 1
		5, 6, 7, 8, // grid 2
	}
	samples := []int32{
		1, 2, 3, 4, // a copy of grid 0
		5, 6, 7, 0, // 3 of 4 with grid 2
		9, 9, 9, 9, // nothing
		1, 2, 9, 9, // 2 of 4 with grids 0 and 1: the first wins
	}
	over, near, err := Overlap(samples, 4, train, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	wantO, wantN := []float64{1, 0.75, 0, 0.5}, []int{0, 2, 0, 0}
	for i := range wantO {
		if over[i] != wantO[i] || near[i] != wantN[i] {
			t.Errorf("sample %d: overlap %v with grid %d, want %v with %d", i, over[i], near[i], wantO[i], wantN[i])
		}
	}
	if got := NearCopies(over); got != 0.25 {
		t.Errorf("near copies %v, want 0.25", got)
	}
	if got := NearCopies([]float64{0.9, 0.89}); got != 0.5 {
		t.Errorf("near copies of 0.9 and 0.89: %v, want 0.5 (0.9 counts)", got)
	}
	if _, _, err := Overlap(samples[:5], 4, train, 3, 4); err == nil {
		t.Error("a short sample buffer was accepted")
	}
}

func TestCI95(t *testing.T) {
	// Known values: xs = 1..5, mean 3, sd sqrt(2.5), t(0.975, 4) = 2.7764451052.
	iv := CI95([]float64{1, 2, 3, 4, 5})
	h := 2.7764451052 * math.Sqrt(2.5) / math.Sqrt(5)
	if math.Abs(iv.Mean-3) > 1e-12 || math.Abs(iv.Lo-(3-h)) > 1e-9 || math.Abs(iv.Hi-(3+h)) > 1e-9 || iv.N != 5 {
		t.Errorf("CI95(1..5) = %+v, want 3 ± %.6f", iv, h)
	}
	if !iv.Contains(3) || iv.Contains(10) {
		t.Error("Contains is wrong")
	}
	one := CI95([]float64{2})
	if one.Mean != 2 || !math.IsNaN(one.Lo) || one.Contains(2) {
		t.Errorf("one value: %+v, want mean 2 and no interval", one)
	}
	// The t quantile: the table's ends and the normal limit.
	for _, c := range []struct {
		df   int
		want float64
	}{{1, 12.706}, {2, 4.303}, {30, 2.042}, {40, 2.021}, {60, 2.000}, {120, 1.980}, {100000, 1.960}} {
		if got := TQuantile975(c.df); math.Abs(got-c.want) > 2e-3 {
			t.Errorf("t(0.975, %d) = %.4f, want %.3f", c.df, got, c.want)
		}
	}
}
