package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func gaussian(r *rand.Rand, n, d int, shift, scale float64) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64()*scale + shift)
	}
	return x
}

// Between N(0, I) and N(mu, I) the Frechet distance is |mu|^2; between
// N(0, I) and N(0, s^2 I) it is d (1 - s)^2.
func TestFrechetKnownCases(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, d = 20000, 4
	a := gaussian(r, n, d, 0, 1)
	b := gaussian(r, n, d, 0.5, 1)
	got, err := Frechet(a, n, b, n, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * 0.25; math.Abs(got-want) > 0.05 {
		t.Errorf("shifted: %v, want %v", got, want)
	}
	c := gaussian(r, n, d, 0, 2)
	got, _ = Frechet(a, n, c, n, d)
	if want := 4.0; math.Abs(got-want) > 0.15 {
		t.Errorf("scaled: %v, want %v", got, want)
	}
	same, _ := Frechet(a, n, a, n, d)
	if math.Abs(same) > 1e-6 {
		t.Errorf("a set against itself: %v, want 0", same)
	}
}

// A block of tiny entries, as the covariance product of rank-deficient
// features holds, made gonum's values-only eigensolver panic: the values
// of [[1, 0], [0, 2]] and 1e-300 [[3, 1], [1, 2]], (5 -+ sqrt 5)/2 1e-300.
func TestEigenvaluesOfTinyBlocks(t *testing.T) {
	a := mat.NewSymDense(4, []float64{
		1, 0, 0, 0,
		0, 2, 0, 0,
		0, 0, 3e-300, 1e-300,
		0, 0, 1e-300, 2e-300})
	got, err := eigenvalues(a)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{(5 - math.Sqrt(5)) / 2 * 1e-300, (5 + math.Sqrt(5)) / 2 * 1e-300, 1, 2}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12*want[i] {
			t.Errorf("eigenvalue %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestKIDAndPrecisionRecall(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	const n, d = 500, 8
	a, b := gaussian(r, n, d, 0, 1), gaussian(r, n, d, 0, 1)
	far := gaussian(r, n, d, 3, 1)
	same, _, err := KID(a, n, b, n, d, 5, 200, r)
	if err != nil {
		t.Fatal(err)
	}
	diff, _, _ := KID(a, n, far, n, d, 5, 200, r)
	if math.Abs(same) > 0.05 || diff < 1 {
		t.Errorf("KID same %v (want ~0), shifted %v (want large)", same, diff)
	}
	p, rc := PrecisionRecall(a, n, b, n, d, 3)
	if p < 0.8 || rc < 0.8 {
		t.Errorf("same distribution: precision %v recall %v, want both high", p, rc)
	}
	p, rc = PrecisionRecall(a, n, far, n, d, 3)
	if p > 0.2 || rc > 0.2 {
		t.Errorf("disjoint: precision %v recall %v, want both low", p, rc)
	}
	// A fake set collapsed to a tight cluster: high precision, low recall.
	tight := gaussian(r, n, d, 0, 0.05)
	p, rc = PrecisionRecall(a, n, tight, n, d, 3)
	if p < 0.9 || rc > 0.2 {
		t.Errorf("collapsed: precision %v recall %v, want high and low", p, rc)
	}
}
