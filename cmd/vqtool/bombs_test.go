package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/memory"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/vqvae"
)

// refused runs f and checks that it fails with an error saying each of
// parts (a usage error when usage is set), having allocated less than
// memory.TestBound: what a file or flag declares is checked before it is
// allocated.
func refused(t *testing.T, what string, usage bool, f func() error, parts ...string) {
	t.Helper()
	var err error
	n := memory.Allocated(func() { err = f() })
	if usage {
		wantUsage(t, what, err, parts...)
	} else if err == nil {
		t.Errorf("%s: no error", what)
	} else {
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: %q does not say %q", what, err, p)
			}
		}
	}
	if n > memory.TestBound {
		t.Errorf("%s: %d bytes allocated before the error", what, n)
	}
}

// A gzip IDX declaring 2,000,000 images of 28 x 28 (20 present) is read no
// further than --limit; without one it is refused, naming --limit and
// --max-memory.
func TestEncodeIDXBomb(t *testing.T) {
	dir := t.TempDir()
	var raw bytes.Buffer
	raw.Write([]byte{0, 0, 8, 3})
	for _, d := range []uint32{2_000_000, 28, 28} {
		binary.Write(&raw, binary.BigEndian, d)
	}
	raw.Write(make([]byte, 20*28*28))
	bomb := filepath.Join(dir, "bomb.idx.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	os.WriteFile(bomb, gz.Bytes(), 0o644)
	o := encodeOptions{dataOptions: dataOptions{Data: bomb, Limit: 10}, Model: smallVQ, Out: filepath.Join(dir, "t.npy"), Format: "npy"}
	n := memory.Allocated(func() {
		if err := runEncode(context.Background(), &bytes.Buffer{}, o, nil); err != nil {
			t.Errorf("encode --limit 10: %v", err)
		}
	})
	if tok, err := imageio.LoadTokens(o.Out); err != nil || tok.N != 10 || n > memory.TestBound {
		t.Errorf("encode --limit 10: %v, %d bytes allocated", err, n)
	}
	o.Limit = 0
	refused(t, "encode of all 2,000,000", true, func() error { return runEncode(context.Background(), &bytes.Buffer{}, o, nil) },
		bomb, "2000000 images of 1x28x28: 5.8 GiB", "--limit", "--max-memory")
}

// A tokenizer's config.json that asks for gigabytes beside small real
// weights, and weights that are a link to /dev/zero, are refused before
// the model is built, naming model.safetensors.
func TestDecodeConfigBomb(t *testing.T) {
	dir := t.TempDir()
	vq := filepath.Join(dir, "big.vq")
	os.MkdirAll(vq, 0o755)
	b, _ := os.ReadFile(filepath.Join(smallVQ, nn.ModelFile))
	os.WriteFile(filepath.Join(vq, nn.ModelFile), b, 0o644)
	info, err := vqvae.ReadInfo(smallVQ)
	if err != nil {
		t.Fatal(err)
	}
	info.Config.Hidden, info.Config.ResBlocks, info.Config.ResHidden, info.Config.CodebookSize, info.Config.CodeDim = 4096, 16, 4096, 1<<16, 1024
	atomicfile.WriteJSON(filepath.Join(vq, nn.ConfigFile), info)
	tokens := filepath.Join(dir, "t.npy")
	imageio.SaveTokens(tokens, &imageio.Tokens{Codes: make([]int32, 49), N: 1, H: 7, W: 7})
	o := decodeOptions{Model: vq, Out: filepath.Join(dir, "d.png"), N: 1, Cols: 1, Scale: 1}
	refused(t, "decode with hidden 4096, K 65536, D 1024 beside small weights", false,
		func() error { return runDecode(context.Background(), &bytes.Buffer{}, o, tokens) },
		filepath.Join(vq, nn.ModelFile), "does not match config.json")

	zero := filepath.Join(dir, "zero.vq")
	os.MkdirAll(zero, 0o755)
	b, _ = os.ReadFile(filepath.Join(smallVQ, nn.ConfigFile))
	os.WriteFile(filepath.Join(zero, nn.ConfigFile), b, 0o644)
	os.Symlink("/dev/zero", filepath.Join(zero, nn.ModelFile))
	o.Model = zero
	refused(t, "decode with model.safetensors a link to /dev/zero", false,
		func() error { return runDecode(context.Background(), &bytes.Buffer{}, o, tokens) },
		filepath.Join(zero, nn.ModelFile), "is a device (a link to /dev/zero): want a regular file")
}

// Labels that name a class the tokenizer does not have, or a million
// classes, are refused naming the labels file, before a generator of that
// many classes is built.
func TestTrainGenLabelBombs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		label int32
		want  string
	}{
		{10, "the tokenizer names 10 classes, 0 to 9"},
		{1048575, "label 1048575 of grid 1: want a class in [0, 65536)"},
	} {
		tokens := filepath.Join(dir, "t.npy")
		imageio.SaveTokens(tokens, &imageio.Tokens{Codes: make([]int32, 2*49), N: 2, H: 7, W: 7, Labels: []int32{3, tc.label}})
		o := trainGenOptions{
			lossOptions: lossOptions{Loss: "ce", Tau: "auto"},
			runOptions:  runOptions{Out: filepath.Join(dir, "gen"), Steps: 2, Batch: 2, SaveEvery: 2},
			VQ:          smallVQ, Tokens: tokens, LR: 1e-3, Seed: 1, Dim: 16, Layers: 1, Heads: 2, MLP: 32,
		}
		refused(t, "train-gen with a label of "+tc.want, false, func() error {
			_, err := runTrainGen(context.Background(), &bytes.Buffer{}, o)
			return err
		}, imageio.LabelsPath(tokens), tc.want)
	}
}

// Target tables are sized before they are built: 40,000 codes dense and a
// million codes calibrated are refused, naming the flags that ask for less.
func TestTargetsExportBombs(t *testing.T) {
	dir := t.TempDir()
	codebook := func(k int) string {
		r := rand.New(rand.NewPCG(uint64(k), 1))
		v := make([]float32, k)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		path := filepath.Join(dir, "codebook.npy")
		if err := imageio.WriteFile(path, func(w io.Writer) error { return imageio.WriteNPYFloat32(w, v, []int{k, 1}) }); err != nil {
			t.Fatal(err)
		}
		return path
	}
	o := targetsExportOptions{Codebook: codebook(40000), lossOptions: lossOptions{Loss: "dist2", Distance: "l2", Tau: "1", TopK: 0}, Out: filepath.Join(dir, "t.safetensors")}
	refused(t, "targets export of 40,000 codes dense", true, func() error { return runTargetsExport(context.Background(), &bytes.Buffer{}, o) },
		"targets of 40000 codes, 40000 entries a row: 6.0 GiB", "--target-topk")
	o = targetsExportOptions{Codebook: codebook(1_000_000), lossOptions: lossOptions{Loss: "dist2", Distance: "l2", Tau: "auto", Perplexity: 8, TopK: -1}, Out: o.Out}
	refused(t, "targets export of a million codes, calibrated", true, func() error { return runTargetsExport(context.Background(), &bytes.Buffer{}, o) },
		"targets of 1000000 codes, 64 entries a row, tau calibrated: 3.8 GiB", "--tau")
}

// Picture grids are sized from --n and --scale together, and samples to
// score from --n, before anything is drawn or decoded.
func TestPictureGridBombs(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	m, err := generator.New(generator.Config{CodebookSize: 64, Classes: 10, Len: 49, GridH: 7, GridW: 7, Dim: 16, Layers: 1, Heads: 2, MLP: 32},
		rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(gen, generator.Info{VQ: smallVQ}); err != nil {
		t.Fatal(err)
	}
	so := sampleOptions{Gen: gen, N: 100000, Class: -1, CFG: 1, Temperature: 1, TopP: 1, Seed: 1, Out: filepath.Join(dir, "s.png"), Scale: 32}
	refused(t, "sample --n 100000 --scale 32", true, func() error { return runSample(context.Background(), &bytes.Buffer{}, so) },
		"100000 samples of 28x28 drawn at scale 32: 301 GiB", "--n", "--scale")

	eo := evalOptions{Gen: gen, N: 100_000_000, Temperature: 1, TopP: 1}
	refused(t, "eval --n 100000000", true, func() error { _, err := runEval(context.Background(), &bytes.Buffer{}, eo); return err },
		"100000000 samples to score: 310 GiB", "--n")

	tokens := filepath.Join(dir, "t.npy")
	imageio.SaveTokens(tokens, &imageio.Tokens{Codes: make([]int32, 20000*49), N: 20000, H: 7, W: 7})
	do := decodeOptions{Model: smallVQ, Out: filepath.Join(dir, "d.png"), N: 0, Cols: 8, Scale: 32}
	refused(t, "decode --n 0 --scale 32 of 20,000 grids", true, func() error { return runDecode(context.Background(), &bytes.Buffer{}, do, tokens) },
		"a picture grid of 20000 images of 28x28 at scale 32", "--scale")

	ds := dataShowOptions{dataOptions: dataOptions{Data: "embedded", Split: "train"}, N: 100000, Cols: 10, Scale: 32, Out: filepath.Join(dir, "show.png")}
	refused(t, "data show --n 100000 --scale 32", true, func() error { return runDataShow(context.Background(), &bytes.Buffer{}, ds) },
		"a picture grid of 2000 images of 28x28 at scale 32", "--n")
}

// --max-memory moves the budget: a picture grid refused under 1 MiB is
// drawn under the default.
func TestMaxMemoryFlag(t *testing.T) {
	t.Cleanup(func() { global.MaxMemory = 0 })
	dir := t.TempDir()
	args := []string{"data", "show", "--data", "embedded", "--n", "200", "--out", filepath.Join(dir, "show.png")}
	wantUsage(t, "--max-memory 1M", execute(t, append(args, "--max-memory", "1M")...), "over the memory budget of 1 MiB", "--max-memory")
	if err := execute(t, append(args, "--max-memory", "2G")...); err != nil {
		t.Errorf("--max-memory 2G: %v", err)
	}
}

// --jobs starts no more jobs than there are runs or cores.
func TestJobCount(t *testing.T) {
	for _, tc := range []struct{ asked, runs, cores, want int }{
		{1000, 50, 2, 2}, {6, 2, 8, 2}, {2, 6, 2, 2}, {1, 6, 8, 1}, {4, 0, 8, 1},
	} {
		if got := jobCount(tc.asked, tc.runs, tc.cores); got != tc.want {
			t.Errorf("--jobs %d for %d runs on %d cores: %d, want %d", tc.asked, tc.runs, tc.cores, got, tc.want)
		}
	}
}
