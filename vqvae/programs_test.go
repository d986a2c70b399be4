package vqvae

import (
	"math/rand/v2"
	"testing"
)

func TestProgramBatch(t *testing.T) {
	for _, c := range []struct{ n, want int }{{1, 1}, {2, 2}, {3, 4}, {12, 16}, {33, 64}, {64, 64}, {232, 64}, {1000, 64}} {
		if got := programBatch(c.n); got != c.want {
			t.Errorf("programBatch(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// Encoding and decoding any number of images builds programs for a few
// batch sizes only, and a grid's tokens and pixels do not depend on the
// batch it ran in.
func TestFewProgramsServeEveryCount(t *testing.T) {
	m, err := New(tinyConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	data := tinyData(t, 70)
	g := m.Config.Grid() * m.Config.Grid()
	per := data.C * data.H * data.W
	all := make([]int32, data.N*g)
	if err := m.EncodeTo(all, data.Pix, data.N); err != nil {
		t.Fatal(err)
	}
	allPix := make([]float32, data.N*per)
	if err := m.DecodeTo(allPix, all, data.N); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 5, 12, 17, 40, 69} {
		tok := make([]int32, n*g)
		if err := m.EncodeTo(tok, data.Pix, n); err != nil {
			t.Fatal(err)
		}
		for i := range tok {
			if tok[i] != all[i] {
				t.Fatalf("n=%d: token %d is %d alone, %d among %d images", n, i, tok[i], all[i], data.N)
			}
		}
		pix := make([]float32, n*per)
		if err := m.DecodeTo(pix, tok, n); err != nil {
			t.Fatal(err)
		}
		for i := range pix {
			if d := pix[i] - allPix[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("n=%d: pixel %d is %g alone, %g among %d images", n, i, pix[i], allPix[i], data.N)
			}
		}
	}
	// 1, 2, 4, 8, 16, 32, 64 at most.
	if len(m.encoders) > 7 || len(m.decoders) > 7 {
		t.Errorf("%d encoder and %d decoder programs: want at most 7 of each", len(m.encoders), len(m.decoders))
	}
}
