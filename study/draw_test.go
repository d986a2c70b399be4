package study

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

// Draw's grids are the generator's own samples, in class order, and its
// images their decodes; an unconditional generator asks for no class.
func TestDraw(t *testing.T) {
	vq, _, err := vqvae.Load("../testdata/fmnist-small.vq")
	if err != nil {
		t.Fatal(err)
	}
	for _, classes := range []int{10, 0} {
		cfg := generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: classes, Len: 49, GridH: 7, GridW: 7, Dim: 16, Layers: 1, Heads: 2, MLP: 32}
		gen, err := generator.New(cfg, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		sc := generator.DefaultSampleConfig()
		const n = 12
		pix, tokens, asked, err := Draw(gen, vq, n, sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := gen.SampleMany(gen.EvenClasses(n), sc, func(int) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if tokens[i] != want[i] {
				t.Fatalf("classes %d: token %d is %d, the generator draws %d", classes, i, tokens[i], want[i])
			}
		}
		img := make([]float32, len(pix))
		if err := vq.DecodeTo(img, tokens, n); err != nil {
			t.Fatal(err)
		}
		for i := range img {
			if img[i] != pix[i] {
				t.Fatalf("classes %d: pixel %d is %v, the decode %v", classes, i, pix[i], img[i])
			}
		}
		if classes == 0 && asked != nil || classes > 0 && (len(asked) != n || asked[11] != 1) {
			t.Errorf("classes %d: asked %v", classes, asked)
		}
		stop := errors.New("stop")
		if _, _, _, err := Draw(gen, vq, 300, sc, func(int) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("classes %d: a progress error gave %v, want it returned", classes, err)
		}
	}
}

// HeldOut is the generator's Evaluate on the images' tokens.
func TestHeldOut(t *testing.T) {
	vq, _, err := vqvae.Load("../testdata/fmnist-small.vq")
	if err != nil {
		t.Fatal(err)
	}
	d, err := imageio.Open("embedded", imageio.Options{Split: "test", Limit: 8})
	if err != nil {
		t.Fatal(err)
	}
	cfg := generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: 10, Len: 49, GridH: 7, GridW: 7, Dim: 16, Layers: 1, Heads: 2, MLP: 32}
	gen, err := generator.New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := HeldOut(gen, vq, d.Pix, d.N, d.Labels)
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]int32, d.N*49)
	if err := vq.EncodeTo(tokens, d.Pix, d.N); err != nil {
		t.Fatal(err)
	}
	dist, _ := vq.Codebook.Distance(dist2.SquaredL2)
	want, err := gen.Evaluate(generator.Tokens{Codes: tokens, Labels: d.Labels, N: d.N, Len: 49}, dist)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || !(got.NLL > 0) {
		t.Errorf("held out %+v, want %+v", got, want)
	}
}

// Score of real images against themselves: no distance, every sample a
// near copy of the grids it came from; classes the classifier lacks and
// grids of another length are refused.
func TestScore(t *testing.T) {
	d, err := imageio.Open("embedded", imageio.Options{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	lenet, err := metrics.NewLeNet(d.C, d.H, 10, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	grids := make([]int32, d.N*4)
	for i := range grids {
		grids[i] = int32(i / 4)
	}
	s := Samples{Pix: d.Pix, N: d.N, Asked: d.Labels, Tokens: grids, Len: 4}
	sc, err := Score(s, d.Pix, d.N, lenet, &generator.Tokens{Codes: grids, N: d.N, Len: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sc.FLD > 1e-3 || sc.Memorization == nil || sc.Memorization.NearCopies != 1 {
		t.Errorf("real against itself: FLD %v, memorisation %+v; want 0 and all near copies", sc.FLD, sc.Memorization)
	}
	s.Asked = append([]int32{10}, d.Labels[1:]...)
	if _, err := Score(s, d.Pix, d.N, lenet, nil, 1); err == nil {
		t.Error("class 10 of a 10-class classifier was accepted")
	}
	s.Asked = nil
	if _, err := Score(s, d.Pix, d.N, lenet, &generator.Tokens{Codes: grids, N: d.N / 2, Len: 8}, 1); err == nil {
		t.Error("training grids of another length were accepted")
	}
}

// Encoded encodes once: the second call reads the cache, and both give
// the tokenizer's grids of the images with their labels and classes.
func TestEncodedCaches(t *testing.T) {
	vqDir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fmnist-small.vq", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vqDir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vq, _, err := vqvae.Load(vqDir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := imageio.Open("embedded", imageio.Options{Limit: 30})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	count := func(int) error { calls++; return nil }
	a, cache, err := Encoded(vq, vqDir, d, "train", "key", t.TempDir(), count)
	if err != nil || calls == 0 {
		t.Fatalf("first: %v, %d progress calls", err, calls)
	}
	calls = 0
	b, cache2, err := Encoded(vq, vqDir, d, "train", "key", t.TempDir(), count)
	if err != nil || calls != 0 || cache2 != cache {
		t.Fatalf("second: %v, %d progress calls, cache %s and %s: want the cache read", err, calls, cache, cache2)
	}
	want, err := vq.EncodeMany(d.Pix, d.N, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Codes, want) || !slices.Equal(b.Codes, want) || !slices.Equal(b.Labels, d.Labels) || !slices.Equal(b.Classes, d.Classes) {
		t.Error("the cached grids, labels or classes differ from the tokenizer's")
	}
}
