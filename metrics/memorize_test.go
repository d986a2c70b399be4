package metrics

import (
	"math"
	"math/rand/v2"
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

// Memorize counts near copies and measures the FLD of the novel samples
// only, and only from MinNovel of them on.
func TestMemorize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l, err := NewLeNet(1, 8, 2, r)
	if err != nil {
		t.Fatal(err)
	}
	images := func(n int) []float32 {
		x := make([]float32, n*64)
		for i := range x {
			x[i] = float32(2*r.Float64() - 1)
		}
		return x
	}
	const nr, copies = 50, 10
	real, _, err := l.Run(images(nr), nr)
	if err != nil {
		t.Fatal(err)
	}
	train := []int32{1, 2, 3, 4, 5, 6, 7, 8}
	for _, n := range []int{copies + 5, copies + MinNovel} {
		tokens := make([]int32, 4*n)
		for i := range n {
			if i < copies {
				copy(tokens[4*i:], train[:4]) // a copy of grid 0
			} else {
				copy(tokens[4*i:], []int32{5, 6, 9, 9}) // half of grid 1
			}
		}
		fake := images(n)
		m, err := l.Memorize(real, nr, fake, tokens, n, train, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		novel := n - copies
		wantMean := (copies + 0.5*float64(novel)) / float64(n)
		if m.Train != 2 || m.Novel != novel || m.NearCopies != float64(copies)/float64(n) || math.Abs(m.MeanOverlap-wantMean) > 1e-12 {
			t.Errorf("n %d: %+v, want %d novel, near copies %v, mean overlap %v", n, m, novel, float64(copies)/float64(n), wantMean)
		}
		if (m.FLDNovel != nil) != (novel >= MinNovel) {
			t.Errorf("n %d: novel FLD %v with %d novel samples (MinNovel %d)", n, m.FLDNovel, novel, MinNovel)
		}
		if m.FLDNovel != nil {
			feat, _, _ := l.Run(fake[copies*64:], novel)
			if want, _ := Frechet(real, nr, feat, novel, l.Features); *m.FLDNovel != want {
				t.Errorf("novel FLD %v, want the FLD of the novel samples %v", *m.FLDNovel, want)
			}
		}
	}
}
