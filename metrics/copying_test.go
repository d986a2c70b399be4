package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMannWhitneyZ(t *testing.T) {
	// U = 0 of 9 pairs: z = (0 - 4.5) / sqrt(9 * 7 / 12).
	want := -4.5 / math.Sqrt(9*7/12.0)
	if got := mannWhitneyZ([]float64{1, 2, 3}, []float64{4, 5, 6}); math.Abs(got-want) > 1e-12 {
		t.Errorf("a below b: z %v, want %v", got, want)
	}
	if got := mannWhitneyZ([]float64{4, 5, 6}, []float64{1, 2, 3}); math.Abs(got+want) > 1e-12 {
		t.Errorf("a above b: z %v, want %v", got, -want)
	}
	// Ties count a half: U = 2 of 4 pairs, the middle.
	if got := mannWhitneyZ([]float64{1, 1}, []float64{1, 1}); got != 0 {
		t.Errorf("all tied: z %v, want 0", got)
	}
	// a = {2, 0.5}, b = {1, 2}: the pairs (2,1), (2,2), (0.5,1), (0.5,2) give 1 + 0.5 + 0 + 0, U = 1.5.
	if got, want := mannWhitneyZ([]float64{2, 0.5}, []float64{1, 2}), (1.5-2)/math.Sqrt(4*5/12.0); math.Abs(got-want) > 1e-12 {
		t.Errorf("mixed: z %v, want %v", got, want)
	}
}

// Copies of the training rows give C_T far below 0; fresh rows of the same
// distribution give C_T near 0; rows pushed away give C_T above 0.
func TestCopying(t *testing.T) {
	const d, nt, np, nq = 4, 600, 300, 300
	r := rand.New(rand.NewPCG(1, 2))
	draw := func(n int, shift float64) []float32 {
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(r.NormFloat64() + shift)
		}
		return x
	}
	train, test := draw(nt, 0), draw(np, 0)
	copies := make([]float32, nq*d)
	for i := range nq {
		for j := range d {
			copies[i*d+j] = train[(i%nt)*d+j] + float32(0.01*r.NormFloat64())
		}
	}
	cfg := CopyingConfig{Cells: 5, MinShare: 0.02, Seed: 1}
	copied, err := Copying(train, nt, test, np, copies, nq, d, cfg)
	if err != nil || copied > -5 {
		t.Errorf("copies: C_T %v (%v), want far below 0", copied, err)
	}
	fresh, err := Copying(train, nt, test, np, draw(nq, 0), nq, d, cfg)
	if err != nil || math.Abs(fresh) > 2.5 {
		t.Errorf("fresh rows: C_T %v (%v), want near 0", fresh, err)
	}
	spread := make([]float32, nq*d)
	for i, v := range draw(nq, 0) {
		spread[i] = 1.5 * v
	}
	if far, err := Copying(train, nt, test, np, spread, nq, d, cfg); err != nil || far < 2 {
		t.Errorf("spread rows: C_T %v (%v), want above 0", far, err)
	}
	if _, err := Copying(train, 3, test, np, copies, nq, d, cfg); err == nil {
		t.Error("mismatched rows were accepted")
	}
}

// Nearest distances over a training set too large for one block of
// distances are those of a plain search.
func TestNearestDistancesInBlocks(t *testing.T) {
	const n, nr, d = 2000, 5000, 3 // 4 blocks of rows
	r := rand.New(rand.NewPCG(3, 4))
	x, ref := make([]float32, n*d), make([]float32, nr*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range ref {
		ref[i] = float32(r.NormFloat64())
	}
	got := nearestDistances(x, n, ref, nr, d)
	for _, i := range []int{0, 838, 839, 1677, 1999} {
		want := math.Inf(1)
		for j := range nr {
			var s float64
			for k := range d {
				v := float64(x[i*d+k] - ref[j*d+k])
				s += v * v
			}
			want = min(want, math.Sqrt(s))
		}
		if math.Abs(got[i]-want) > 1e-3*max(1, want) {
			t.Errorf("row %d: %v, want %v", i, got[i], want)
		}
	}
}
