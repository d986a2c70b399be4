package metrics

import (
	"math/rand/v2"
	"testing"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
)

func blur(pix []float32, n, s int) []float32 {
	out := make([]float32, len(pix))
	for i := range n {
		img, o := pix[i*s*s:(i+1)*s*s], out[i*s*s:(i+1)*s*s]
		for y := range s {
			for x := range s {
				var sum float32
				var c int
				for dy := -2; dy <= 2; dy++ {
					for dx := -2; dx <= 2; dx++ {
						yy, xx := y+dy, x+dx
						if yy >= 0 && yy < s && xx >= 0 && xx < s {
							sum += img[yy*s+xx]
							c++
						}
					}
				}
				o[y*s+x] = sum / float32(c)
			}
		}
	}
	return out
}

func noisy(pix []float32, r *rand.Rand, sigma float64) []float32 {
	out := make([]float32, len(pix))
	for i, v := range pix {
		out[i] = min(1, max(-1, v+float32(r.NormFloat64()*sigma)))
	}
	return out
}

// The sanity checks of a feature distance: real against real scores far
// better than real against noise or blur, and FLD grows with the noise.
func TestLeNetMetricsSanity(t *testing.T) {
	train, err := imageio.Open("embedded", imageio.Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	test, _ := imageio.Open("embedded", imageio.Options{Split: "test"})
	l, err := NewLeNet(1, 28, 10, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Train(train.Pix, train.Labels, 150, 32, 2e-3, 1, nil); err != nil {
		t.Fatal(err)
	}
	_, pred, _ := l.Run(test.Pix, test.N)
	hit := 0
	for i, p := range pred {
		if p == test.Labels[i] {
			hit++
		}
	}
	if acc := float64(hit) / float64(test.N); acc < 0.6 {
		t.Errorf("classifier test accuracy %.2f after 150 steps, want > 0.6", acc)
	}
	r := rand.New(rand.NewPCG(2, 2))
	n := 1000
	base, err := l.Compare(test.Pix, n, train.Pix, n, train.Labels[:n], 1)
	if err != nil {
		t.Fatal(err)
	}
	blurred, _ := l.Compare(test.Pix, n, blur(train.Pix[:n*784], n, 28), n, nil, 1)
	prev := base.FLD
	for _, sigma := range []float64{0.2, 0.5, 1} {
		rep, _ := l.Compare(test.Pix, n, noisy(train.Pix[:n*784], r, sigma), n, nil, 1)
		if !(rep.FLD > prev) {
			t.Errorf("noise %.1f: FLD %.2f, not above %.2f", sigma, rep.FLD, prev)
		}
		prev = rep.FLD
	}
	if !(blurred.FLD > 3*base.FLD) || !(blurred.KID > base.KID) {
		t.Errorf("train vs test FLD %.2f KID %.4f; blurred FLD %.2f KID %.4f: want blur far worse", base.FLD, base.KID, blurred.FLD, blurred.KID)
	}
	if base.Precision < 0.5 || base.Recall < 0.5 || base.Accuracy < 0.6 {
		t.Errorf("train vs test: %+v", base)
	}
}

// lenetShapes lists exactly the tensors a saved classifier holds.
func TestLeNetShapes(t *testing.T) {
	l, err := NewLeNet(3, 16, 5, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, p := range l.Params() {
		got[p.Name] = p.Value.Shape()
	}
	if err := nn.CheckShapes(got, lenetShapes(&lenetInfo{Channels: 3, Size: 16, Classes: 5}), true); err != nil {
		t.Error(err)
	}
}
