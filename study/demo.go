package study

import (
	"context"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"time"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/report"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/vqvae"
)

// A Demo is what `vqtool demo` trained: a tokenizer, a LeNet and one
// generator per loss on the same data. Write measures them and writes
// Dir/report.html with its pictures and Dir/explorer.html.
type Demo struct {
	Dir        string
	Data       string           // the data set's name
	TrainCount string           // how many training images, in words
	Test       *imageio.Dataset // the test split at the tokenizer's size
	VQ         *vqvae.Model
	VQSteps    int
	LeNet      *metrics.LeNet
	LeNetAcc   float64 // its test accuracy
	Gens       []DemoGen
	GenSteps   int
	Samples    int    // drawn per generator and setting
	BLAS       string // where the products ran, for the report
	Start      time.Time
	Logf       func(format string, args ...any) // progress; nil is silent
}

// A DemoGen is one of the demo's generators.
type DemoGen struct {
	Loss    dist2.Built
	Model   *generator.Model
	HeldOut generator.Eval
}

// demoScored is one generator's samples at one setting.
type demoScored struct {
	topK   int
	report metrics.Report
	grid   string // the sample grid's file in Dir
}

// Write measures the demo's models and writes its report, returning the
// report's path.
func (d Demo) Write(ctx context.Context) (string, error) {
	logf := d.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	real, vq := d.Test, d.VQ
	ev, _, err := vq.Evaluate(vqvae.Images{Pix: real.Pix, N: real.N, C: real.C, H: real.H, W: real.W})
	if err != nil {
		return "", err
	}
	logf("tokenizer: held-out psnr %.2f dB, codes used %d/%d, perplexity %.0f", ev.PSNR, ev.Used, vq.Config.CodebookSize, ev.Perplexity)
	recon, err := explore.ReconFigure(vq, real.Pix, min(12, real.N))
	if err != nil {
		return "", err
	}
	if err := d.writePNG("recon.png", recon); err != nil {
		return "", err
	}
	logf("token swaps (Figure 4) and the token explorer")
	swaps, err := d.swaps(ctx)
	if err != nil {
		return "", err
	}
	logf("sampling and scoring the generators")
	realFeat, _, err := d.LeNet.Run(real.Pix, real.N)
	if err != nil {
		return "", err
	}
	scored := make([][2]demoScored, len(d.Gens))
	for i, g := range d.Gens {
		for j, topK := range []int{0, 50} {
			sc := generator.SampleConfig{Temperature: 1, TopK: topK, TopP: 1, CFG: 1.5, Seed: 1}
			pix, tok, asked, err := Draw(g.Model, vq, d.Samples, sc, func(int) error { return ctx.Err() })
			if err != nil {
				return "", err
			}
			rep, err := d.LeNet.CompareFeatures(realFeat, real.N, pix, d.Samples, asked, 1)
			if err != nil {
				return "", err
			}
			name := fmt.Sprintf("samples-%s-t1.png", g.Loss.Kind)
			if topK > 0 {
				name = fmt.Sprintf("samples-%s-topk.png", g.Loss.Kind)
			}
			n := min(80, d.Samples)
			cells, err := explore.Decoded(vq, tok[:n*g.Model.Config.Len], n)
			if err != nil {
				return "", err
			}
			if err := d.writePNG(name, imageio.Grid(cells, imageio.GridOptions{Cols: 10, Scale: 1, Pad: 2})); err != nil {
				return "", err
			}
			scored[i][j] = demoScored{topK: topK, report: rep, grid: name}
		}
		logf("%s: held-out nll %.3f bits, FLD %.2f (top-k 50: %.2f), class accuracy %.3f", g.Loss.Kind, g.HeldOut.NLL,
			scored[i][0].report.FLD, scored[i][1].report.FLD, scored[i][0].report.Accuracy)
	}
	rep := d.report(ev, swaps, scored)
	return rep.Write(d.Dir, "report")
}

// swaps draws the swap figure and its rank curve, writes the explorer and
// measures swaps over (at most) 300 test images.
func (d Demo) swaps(ctx context.Context) (explore.SwapEval, error) {
	vq, real := d.VQ, d.Test
	sw, err := vqvae.NewSwapper(vq.Codebook, dist2.SquaredL2, 10, 10)
	if err != nil {
		return explore.SwapEval{}, err
	}
	tokens, err := vq.EncodeMany(real.Pix, real.N, nil)
	if err != nil {
		return explore.SwapEval{}, err
	}
	region := vqvae.CenterRegion(vq.Config.Grid(), 2)
	r := seeds.New(1, seeds.Pictures)
	fig, err := explore.SwapFigure(vq, sw, tokens, 6, region, true, r)
	if err != nil {
		return explore.SwapEval{}, err
	}
	if err := d.writePNG("swap.png", fig); err != nil {
		return explore.SwapEval{}, err
	}
	ev, err := explore.EvalSwaps(ctx, vq, sw, tokens, min(300, real.N), region, 16, r, nil)
	if err != nil {
		return ev, err
	}
	ev.Distance = "l2"
	if err := ev.CurvePlot().Write(filepath.Join(d.Dir, "swap-curve.png")); err != nil {
		return ev, err
	}
	usage := codebook.NewUsage(vq.Config.CodebookSize)
	usage.Add(tokens)
	shown := real.Slice(0, min(16, real.N))
	page, err := explore.Build(ctx, vq, shown.Pix, shown.N, explore.Options{Near: 10, Far: 10, Distance: dist2.SquaredL2,
		Title: "vqtool token explorer: the demo's tokenizer on " + real.Name, Labels: shown.Labels, Classes: real.Classes,
		Usage: usage, UsageOf: fmt.Sprintf("the test split (%d images)", real.N)})
	if err != nil {
		return ev, err
	}
	return ev, imageio.WriteFile(filepath.Join(d.Dir, "explorer.html"), func(w io.Writer) error { _, err := page.WriteTo(w); return err })
}

func (d Demo) writePNG(name string, img image.Image) error {
	return imageio.WritePNG(filepath.Join(d.Dir, name), img)
}

// report lays out what Write measured.
func (d Demo) report(ev vqvae.Eval, swaps explore.SwapEval, scored [][2]demoScored) report.Report {
	vq := d.VQ
	table := &report.Table{Header: []string{"loss", "held-out NLL (bits)", "token acc", "E[code dist]", "sampling", "FLD", "KID x1e3", "precision", "recall", "class acc"}}
	var grids []report.Image
	tauNote := ""
	for i, g := range d.Gens {
		if g.Loss.Kind == "dist2" {
			tauNote = fmt.Sprintf(" DIST2 used alpha %.2g and tau %.4g, calibrated to %.1f effective neighbours (squared L2 between codes).",
				g.Loss.Alpha, g.Loss.Tau, g.Loss.Perplexity)
		}
		for _, s := range scored[i] {
			setting := "T=1"
			if s.topK > 0 {
				setting = fmt.Sprintf("T=1, top-k %d", s.topK)
			}
			h, r := g.HeldOut, s.report
			table.Rows = append(table.Rows, []string{g.Loss.Kind, fmt.Sprintf("%.3f", h.NLL), fmt.Sprintf("%.3f", h.Accuracy),
				fmt.Sprintf("%.4g", h.ExpectedDistance), setting, fmt.Sprintf("%.2f", r.FLD), fmt.Sprintf("%.4g", 1e3*r.KID),
				fmt.Sprintf("%.3f", r.Precision), fmt.Sprintf("%.3f", r.Recall), fmt.Sprintf("%.3f", r.Accuracy)})
			grids = append(grids, report.Image{Caption: g.Loss.Kind + ", " + setting, Path: s.grid})
		}
	}
	swapTable := &report.Table{Header: []string{"replacement", "region MSE", "region PSNR (dB)", "image PSNR (dB)", "code distance"}}
	for _, m := range swaps.Modes[1:] {
		swapTable.Rows = append(swapTable.Rows, []string{m.Mode, fmt.Sprintf("%.4f ± %.4f", m.RegionMSE, m.RegionMSEStd),
			fmt.Sprintf("%.2f", m.RegionPSNR), fmt.Sprintf("%.2f ± %.2f", m.PSNR, m.PSNRStd), fmt.Sprintf("%.4g", m.CodeDistance)})
	}
	return report.Report{
		Title: "vqtool demo: VQ tokens and DIST2Loss on Fashion-MNIST",
		Intro: fmt.Sprintf("Data: %s (%s training, %d test images). Everything below was computed by `vqtool demo` in %.1f minutes on this machine (%s).",
			d.Data, d.TrainCount, d.Test.N, time.Since(d.Start).Minutes(), d.BLAS),
		Sections: []report.Section{
			{Heading: "1. Tokenizer", Text: fmt.Sprintf("ref-vq (7 x 7 tokens over %d codes of dimension %d, EMA codebook), %d steps. "+
				"Held-out PSNR %.2f dB, codes used %d of %d (perplexity %.0f, %d dead). Top row: test images; bottom row: their reconstructions from tokens.",
				vq.Config.CodebookSize, vq.Config.CodeDim, d.VQSteps, ev.PSNR, ev.Used, vq.Config.CodebookSize, ev.Perplexity, ev.Dead),
				Images: []report.Image{{Caption: "inputs and reconstructions", Path: "recon.png"}}},
			{Heading: "2. What a nearby token means (the paper's Figure 4)", Text: fmt.Sprintf(
				"The central 2 x 2 tokens of each test image are replaced, each independently, by one of its 10 nearest codes, a random code, or one of its 10 farthest codes. "+
					"Over %d images, %.0f%% show the ordering nearby < random < distant in pixel error inside the region; the rank correlation between codebook distance and pixel error is %.2f.",
				swaps.Images, 100*swaps.Ordered, swaps.Spearman),
				Table: swapTable, Images: []report.Image{{Caption: "original, nearby, random, distant", Path: "swap.png"}, {Caption: "pixel error against neighbour rank", Path: "swap-curve.png"}},
				Links: []report.Link{{Text: "The token explorer (explorer.html): click any token of 16 test images to see it decoded as each of its 10 nearest and 10 farthest codes, and its DIST2 target row at any tau", Path: "explorer.html"}}},
			{Heading: "3. Generators: CE against DIST2Loss", Text: fmt.Sprintf(
				"Two class-conditional GPTs (width 128, 4 blocks) trained for %d steps each with the same seed and data; the only difference is the loss.%s "+
					"Samples are drawn with guidance 1.5, both at temperature 1 with no truncation and with top-k 50, and scored by a LeNet trained on the same data (its test accuracy %.3f): "+
					"FLD is the Frechet distance of its features (lower is better). One run each: differences smaller than a few FLD points are within run-to-run noise; `vqtool experiment` repeats over seeds and data sizes.",
				d.GenSteps, tauNote, d.LeNetAcc),
				Table: table, Images: grids},
			{Heading: "4. The study", Text: finding},
		},
	}
}

// finding says what the committed study (docs/study in the vqtool
// repository, written by vqtool experiment) found.
const finding = "The question this demo can only hint at is answered by the study committed in the vqtool repository, " +
	"docs/study/report.html (its numbers in docs/study/results.json; the first edition in docs/study-v1): " + sentence

// sentence is the committed study's finding in one sentence.
const sentence = "with early stopping, at 512 and at 16,384 codes and from 500 to 55,000 training images (3 seeds a cell), " +
	"DIST2Loss at the paper's setting never beat cross-entropy at the best checkpoint (level at 512 codes on 500 and 2,000 images, " +
	"about 0.01 bits worse at 10,000 and on the full pool, 0.02 to 0.05 bits worse at 16,384 codes); it beat label smoothing and overfit more slowly " +
	"past its best checkpoint, while token corruption (train-gen --corrupt 0.1) beat both in every cell up to 10,000 images, " +
	"and no arm memorised its training grids."
