package study

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

// The demo's report holds its pictures, its explorer and the numbers it
// measured, each generator's under its loss.
func TestDemoWrite(t *testing.T) {
	vq, _, err := vqvae.Load("../testdata/fmnist-small.vq")
	if err != nil {
		t.Fatal(err)
	}
	test, err := imageio.Open("embedded", imageio.Options{Split: "test", Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	lenet, err := metrics.NewLeNet(1, 28, 10, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lenet.Train(test.Pix, test.Labels, 5, 8, 2e-3, 1, nil); err != nil {
		t.Fatal(err)
	}
	d := Demo{Dir: t.TempDir(), Data: "embedded", TrainCount: "2,000", Test: test, VQ: vq, VQSteps: 1,
		LeNet: lenet, LeNetAcc: 0.5, GenSteps: 0, Samples: 20, BLAS: "test", Start: time.Now()}
	for i, kind := range []string{"ce", "dist2"} {
		cfg := generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: 10, Len: 49, GridH: 7, GridW: 7, Dim: 16, Layers: 1, Heads: 2, MLP: 32}
		gen, err := generator.New(cfg, rand.New(rand.NewPCG(uint64(i), 1)))
		if err != nil {
			t.Fatal(err)
		}
		d.Gens = append(d.Gens, DemoGen{Loss: dist2.Built{Kind: kind, Alpha: 0.1, Tau: 0.25, Perplexity: 8}, Model: gen,
			HeldOut: generator.Eval{NLL: 1.5 + float64(i), Accuracy: 0.25}})
	}
	var steps []string
	d.Logf = func(format string, args ...any) { steps = append(steps, format) }
	path, err := d.Write(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.html", "report.md", "recon.png", "swap.png", "swap-curve.png", "explorer.html",
		"samples-ce-t1.png", "samples-ce-topk.png", "samples-dist2-t1.png", "samples-dist2-topk.png"} {
		if _, err := os.Stat(filepath.Join(d.Dir, f)); err != nil {
			t.Errorf("the demo did not write %s: %v", f, err)
		}
	}
	if filepath.Base(path) != "report.html" {
		t.Errorf("report at %s", path)
	}
	md, err := os.ReadFile(filepath.Join(d.Dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ce | 1.500 | 0.250 |", "| dist2 | 2.500 | 0.250 |", "tau 0.25", "T=1, top-k 50", sentence} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if len(steps) < 3 {
		t.Errorf("progress %q: want the tokenizer, swaps and scores", steps)
	}
}
