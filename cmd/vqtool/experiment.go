package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/vqvae"
)

type experimentOptions struct {
	lossOptions
	Data            string
	VQ              string
	Sizes           string
	Losses          string
	Seeds           int
	Out             string
	Quick           bool
	VQSteps         int
	GenSteps        int
	Batch           int
	Dim             int
	Layers          int
	Heads           int
	MLP             int
	Samples         int
	TopK            int
	CFG             float64
	ClassifierSteps int
}

func newExperimentCommand() *cobra.Command {
	var o experimentOptions
	cmd := &cobra.Command{
		Use:   "experiment",
		Short: "The low-data study: one tokenizer, then a generator per (data size, loss, seed), scored and reported",
		Long: `experiment trains one tokenizer on the full training split (or uses --vq),
encodes the training and test splits once, trains one generator per (size,
loss, seed) with the same step budget on the first SIZE training grids, and
scores each: held-out NLL, token accuracy, expected codebook distance, and
FLD / KID / precision / recall / class accuracy of samples drawn at
temperature 1, both without truncation and with top-k. It writes
results.json, report.html and report.md (mean and std per cell; FLD and NLL
against data size, one line per loss) and sample grids per run.

A killed study resumes where it stopped: finished runs are kept, an
unfinished one continues from its checkpoint.`,
		Example: `  vqtool experiment --data fashion-mnist --quick --out study-quick
  vqtool experiment --data fashion-mnist --sizes 500,2000,10000,60000 --losses ce,smooth,dist2 --seeds 3 --out study`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperiment(cmd.Context(), cmd.OutOrStdout(), o, cmd.Flags().Changed)
		},
	}
	o.lossOptions.AddFlags(cmd)
	f := cmd.Flags()
	d := generator.DefaultConfig()
	f.StringVar(&o.Data, "data", "fashion-mnist", "labelled data set with train and test splits")
	f.StringVar(&o.VQ, "vq", "", "tokenizer to use (default: train one into OUT/vq)")
	f.StringVar(&o.Sizes, "sizes", "500,2000,10000,60000", "training set sizes (first N grids)")
	f.StringVar(&o.Losses, "losses", "ce,smooth,dist2", "losses to compare")
	f.IntVar(&o.Seeds, "seeds", 3, "seeds per cell")
	f.StringVarP(&o.Out, "out", "o", "study", "folder of the study")
	f.BoolVar(&o.Quick, "quick", false, "a study sized to finish in under 30 minutes here (sizes 1000,10000; 1 seed; smaller models)")
	f.IntVar(&o.VQSteps, "vq-steps", 4700, "tokenizer steps (about 5 epochs of 60,000 at batch 64)")
	f.IntVar(&o.GenSteps, "gen-steps", 1200, "generator steps per run, the same for every size")
	f.IntVar(&o.Batch, "batch", 64, "generator batch")
	f.IntVar(&o.Dim, "dim", d.Dim, "generator width")
	f.IntVar(&o.Layers, "layers", d.Layers, "generator blocks")
	f.IntVar(&o.Heads, "heads", d.Heads, "generator heads")
	f.IntVar(&o.MLP, "mlp", d.MLP, "generator MLP width")
	f.IntVar(&o.Samples, "samples", 2000, "samples scored per run and setting")
	f.IntVar(&o.TopK, "top-k", 50, "the truncated sampling setting")
	f.Float64Var(&o.CFG, "cfg", 1.5, "guidance scale when sampling")
	f.IntVar(&o.ClassifierSteps, "classifier-steps", 1500, "steps of the LeNet feature extractor")
	return cmd
}

// quickDefaults sizes the study for --quick, leaving flags the user set.
func (o *experimentOptions) quickDefaults(changed func(string) bool) {
	set := func(name string, apply func()) {
		if !changed(name) {
			apply()
		}
	}
	set("sizes", func() { o.Sizes = "1000,10000" })
	set("seeds", func() { o.Seeds = 1 })
	set("vq-steps", func() { o.VQSteps = 900 })
	set("gen-steps", func() { o.GenSteps = 400 })
	set("dim", func() { o.Dim = 128 })
	set("layers", func() { o.Layers = 4 })
	set("heads", func() { o.Heads = 4 })
	set("mlp", func() { o.MLP = 512 })
	set("samples", func() { o.Samples = 1000 })
	set("classifier-steps", func() { o.ClassifierSteps = 800 })
}

// runResult is one generator of the study, scored.
type runResult struct {
	Name     string             `json:"name"`
	Size     int                `json:"size"`
	Loss     string             `json:"loss"`
	Seed     uint64             `json:"seed"`
	Steps    int                `json:"steps"`
	Seconds  float64            `json:"train_seconds"`
	LossInfo generator.LossInfo `json:"loss_config"`
	HeldOut  generator.Eval     `json:"held_out"`
	Plain    metrics.Report     `json:"samples_t1"`      // temperature 1, no truncation
	TopK     metrics.Report     `json:"samples_t1_topk"` // temperature 1, top-k
}

func parseInts(s, flag string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("--%s %q: want positive integers separated by commas", flag, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// ensureVQ returns a finished tokenizer: the given one, or OUT/vq trained
// (or resumed) to steps on the full training split.
func ensureVQ(ctx context.Context, path, data, out string, steps int) (string, error) {
	if path != "" {
		return path, nil
	}
	dir := filepath.Join(out, "vq")
	if info, err := vqvae.ReadInfo(dir); err == nil && info.Step >= steps {
		return dir, nil
	}
	_, err := os.Stat(filepath.Join(dir, "resume.safetensors"))
	o := trainVQOptions{dataOptions: dataOptions{Data: data, Split: "train"}, Out: dir, Steps: steps, Resume: err == nil}
	d, t := vqvae.DefaultConfig(), vqvae.DefaultTrainConfig()
	o.Batch, o.LR, o.Warmup, o.Codebook, o.CodeDim, o.Hidden = t.Batch, t.LR, t.Warmup, d.CodebookSize, d.CodeDim, d.Hidden
	o.ResBlocks, o.Downsample, o.Beta, o.EMA, o.Decay, o.Restart, o.Seed = d.ResBlocks, d.Downsample, d.Beta, d.EMA, d.Decay, t.Restart, t.Seed
	o.GridEvery, o.SaveEvery, o.EvalSplit = 500, 500, "test"
	logf("experiment: training the tokenizer (%d steps) into %s", steps, dir)
	res, err := runTrainVQ(ctx, io.Discard, o)
	if err != nil {
		return "", err
	}
	if res.Test != nil {
		logf("experiment: tokenizer held-out psnr %.2f dB, codes used %.1f%%", res.Test.PSNR, 100*res.Test.Fraction)
	}
	return dir, nil
}

func runExperiment(ctx context.Context, w io.Writer, o experimentOptions, changed func(string) bool) error {
	if o.Quick {
		o.quickDefaults(changed)
	}
	sizes, err := parseInts(o.Sizes, "sizes")
	if err != nil {
		return usageError{err}
	}
	losses := strings.Split(o.Losses, ",")
	if o.Seeds < 1 || o.Samples < 10 {
		return usagef("--seeds %d --samples %d: want seeds >= 1, samples >= 10", o.Seeds, o.Samples)
	}
	if !isNamedSet(o.Data) {
		return usagef("--data %q: the study needs a labelled set with train and test splits (%s)", o.Data, strings.Join(imageio.Sets, ", "))
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	vqPath, err := ensureVQ(ctx, o.VQ, o.Data, o.Out, o.VQSteps)
	if err != nil {
		return err
	}
	vq, vinfo, err := loadVQ(vqPath)
	if err != nil {
		return err
	}
	data := dataOptions{Data: o.Data, Split: "train"}
	_, _, trainTok, err := tokensFor(ctx, "", data, vqPath, vq, vinfo, o.Out)
	if err != nil {
		return err
	}
	testData := data
	testData.Split = "test"
	_, _, testTok, err := tokensFor(ctx, "", testData, vqPath, vq, vinfo, o.Out)
	if err != nil {
		return err
	}
	lenet, clsAcc, err := classifierForSteps(filepath.Join(o.Out, "lenet"), data, vq.Config.Size, vq.Config.Channels, o.ClassifierSteps)
	if err != nil {
		return err
	}
	real, err := openForModel(testData, vinfo, nil)
	if err != nil {
		return err
	}
	realFeat, _, err := lenet.Run(real.Pix, real.N)
	if err != nil {
		return err
	}
	var results []runResult
	for _, size := range sizes {
		for _, loss := range losses {
			for seed := 1; seed <= o.Seeds; seed++ {
				r, err := studyRun(ctx, o, vqPath, vq, lenet, realFeat, real.N, trainTok, testTok, size, loss, uint64(seed))
				if err != nil {
					return err
				}
				results = append(results, r)
			}
		}
	}
	if err := nn.WriteJSON(filepath.Join(o.Out, "results.json"), map[string]any{
		"data": o.Data, "vq": vqPath, "classifier_test_accuracy": clsAcc, "options": o, "runs": results}); err != nil {
		return err
	}
	path, err := studyReport(o, results, sizes, losses, clsAcc, time.Since(start))
	if err != nil {
		return err
	}
	fprintf(w, "%s\n", studyTable(results, sizes, losses).String())
	fprintf(w, "wrote %s (and results.json, report.md) in %.0f s\n", path, time.Since(start).Seconds())
	return nil
}

// classifierForSteps is classifierFor with a step count.
func classifierForSteps(path string, data dataOptions, size, channels, steps int) (*metrics.LeNet, float64, error) {
	if _, err := os.Stat(filepath.Join(path, "config.json")); err == nil {
		return metrics.LoadLeNet(path)
	}
	o := trainClassifierOptions{dataOptions: data, Out: path, Steps: steps, Batch: 64, LR: 2e-3, Seed: 1}
	o.Split, o.Limit, o.Size, o.Channels = "train", 0, size, channels
	l, acc, err := trainClassifier(o)
	if err != nil {
		return nil, 0, err
	}
	logf("classifier: test accuracy %.4f", acc)
	return l, acc, l.Save(path, data.Data, acc)
}

// studyRun trains (or resumes, or reuses) one generator and scores it.
func studyRun(ctx context.Context, o experimentOptions, vqPath string, vq *vqvae.Model, lenet *metrics.LeNet,
	realFeat []float32, nReal int, trainTok, testTok string, size int, loss string, seed uint64) (runResult, error) {
	name := fmt.Sprintf("n%d-%s-s%d", size, loss, seed)
	dir := filepath.Join(o.Out, "runs", name)
	resultPath := filepath.Join(dir, "result.json")
	var r runResult
	if b, err := os.ReadFile(resultPath); err == nil && json.Unmarshal(b, &r) == nil {
		logf("experiment: %s done before, kept", name)
		return r, nil
	}
	_, err := os.Stat(filepath.Join(dir, "resume.safetensors"))
	lo := o.lossOptions
	lo.Loss = loss
	g := trainGenOptions{
		dataOptions: dataOptions{Data: o.Data, Split: "train", Limit: size},
		lossOptions: lo, VQ: vqPath, Tokens: trainTok, HeldOut: testTok, EvalLimit: 2000, Out: dir,
		Steps: o.GenSteps, Batch: min(o.Batch, size), LR: 3e-4, Warmup: min(100, o.GenSteps/10), Decay: 0.05, Clip: 1, CondDrop: 0.1,
		Seed: seed, Dim: o.Dim, Layers: o.Layers, Heads: o.Heads, MLP: o.MLP, Resume: err == nil,
		EvalEvery: 0, SaveEvery: 200, SampleCFG: o.CFG,
	}
	logf("experiment: run %s (%d steps)", name, o.GenSteps)
	res, err := runTrainGen(ctx, io.Discard, g)
	if err != nil {
		return r, fmt.Errorf("run %s: %w", name, err)
	}
	gen, _, err := generator.Load(dir)
	if err != nil {
		return r, err
	}
	r = runResult{Name: name, Size: size, Loss: loss, Seed: seed, Steps: res.Steps, Seconds: res.Seconds, LossInfo: res.Loss}
	if res.HeldOut != nil {
		r.HeldOut = *res.HeldOut
	}
	for _, topk := range []int{0, o.TopK} {
		eo := evalOptions{N: o.Samples, CFG: o.CFG, Temperature: 1, TopK: topk, TopP: 1, Seed: seed}
		fake, tokens, classes, err := sampleImages(ctx, gen, vq, eo)
		if err != nil {
			return r, err
		}
		rep, err := lenet.CompareFeatures(realFeat, nReal, fake, o.Samples, classes, seed)
		if err != nil {
			return r, err
		}
		grid := "samples-t1.png"
		if topk > 0 {
			r.TopK = rep
			grid = "samples-t1-topk.png"
		} else {
			r.Plain = rep
		}
		if err := drawGrids(filepath.Join(dir, grid), vq, tokens[:min(80, o.Samples)*gen.Config.Len], min(80, o.Samples), 10, nil, 1); err != nil {
			return r, err
		}
	}
	logf("experiment: %s: held-out nll %.3f bits, FLD %.2f (top-k %.2f), class accuracy %.3f",
		name, r.HeldOut.NLL, r.Plain.FLD, r.TopK.FLD, r.Plain.Accuracy)
	return r, nn.WriteJSON(resultPath, r)
}

type cellStats struct{ mean, std float64 }

func (c cellStats) String() string {
	switch {
	case math.IsNaN(c.mean):
		return "-"
	case math.IsNaN(c.std): // one seed: no spread to show
		return fmt.Sprintf("%.3g", c.mean)
	}
	return fmt.Sprintf("%.3g ± %.2g", c.mean, c.std)
}

// cell gathers one metric over the seeds of (size, loss).
func cell(results []runResult, size int, loss string, f func(runResult) float64) cellStats {
	var xs []float64
	for _, r := range results {
		if r.Size == size && r.Loss == loss {
			xs = append(xs, f(r))
		}
	}
	m, s := metrics.MeanStd(xs)
	if len(xs) < 2 {
		s = math.NaN()
	}
	return cellStats{m, s}
}

type textTable struct {
	header []string
	rows   [][]string
}

func (t textTable) String() string {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		b.WriteString("\n")
	}
	return b.String()
}

var studyMetrics = []struct {
	name string
	f    func(runResult) float64
}{
	{"held-out NLL (bits)", func(r runResult) float64 { return r.HeldOut.NLL }},
	{"token acc", func(r runResult) float64 { return r.HeldOut.Accuracy }},
	{"E[code dist]", func(r runResult) float64 { return r.HeldOut.ExpectedDistance }},
	{"FLD T=1", func(r runResult) float64 { return r.Plain.FLD }},
	{"FLD top-k", func(r runResult) float64 { return r.TopK.FLD }},
	{"class acc T=1", func(r runResult) float64 { return r.Plain.Accuracy }},
	{"precision T=1", func(r runResult) float64 { return r.Plain.Precision }},
	{"recall T=1", func(r runResult) float64 { return r.Plain.Recall }},
}

func studyTable(results []runResult, sizes []int, losses []string) textTable {
	t := textTable{header: []string{"size", "loss"}}
	for _, m := range studyMetrics {
		t.header = append(t.header, m.name)
	}
	for _, size := range sizes {
		for _, loss := range losses {
			row := []string{strconv.Itoa(size), loss}
			for _, m := range studyMetrics {
				row = append(row, cell(results, size, loss, m.f).String())
			}
			t.rows = append(t.rows, row)
		}
	}
	return t
}

// plotAgainstSize draws one metric against data size, a line per loss with
// error bars over seeds.
func plotAgainstSize(path, title, ylabel string, results []runResult, sizes []int, losses []string, f func(runResult) float64) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "training images (log scale)"
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	for i, loss := range losses {
		pts := make(plotter.XYs, len(sizes))
		errs := make(plotter.YErrors, len(sizes))
		for j, size := range sizes {
			c := cell(results, size, loss, f)
			pts[j].X, pts[j].Y = float64(size), c.mean
			if !math.IsNaN(c.std) { // one seed: no error bar
				errs[j].Low, errs[j].High = c.std, c.std
			}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{pts, errs})
		if err != nil {
			return err
		}
		eb.Color = plotutil.Color(i)
		p.Add(line, eb)
		p.Legend.Add(loss, line)
	}
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	return imageio.WriteFile(path, func(w io.Writer) error { _, err := wt.WriteTo(w); return err })
}

func studyReport(o experimentOptions, results []runResult, sizes []int, losses []string, clsAcc float64, took time.Duration) (string, error) {
	if err := plotAgainstSize(filepath.Join(o.Out, "fld.png"), "FLD of samples (T=1) against data size", "FLD (lower is better)",
		results, sizes, losses, func(r runResult) float64 { return r.Plain.FLD }); err != nil {
		return "", err
	}
	if err := plotAgainstSize(filepath.Join(o.Out, "nll.png"), "Held-out NLL against data size", "bits per token",
		results, sizes, losses, func(r runResult) float64 { return r.HeldOut.NLL }); err != nil {
		return "", err
	}
	t := studyTable(results, sizes, losses)
	rep := report{
		Title: "vqtool low-data study: DIST2Loss against CE and label smoothing",
		Intro: fmt.Sprintf("Data %s; %d seed(s) per cell; %d generator steps per run at batch %d (width %d, %d blocks); "+
			"samples at temperature 1 with guidance %.1f, scored on %d samples per run against the test split by a LeNet "+
			"trained on the data (its test accuracy %.3f). The study took %.0f minutes.",
			o.Data, o.Seeds, o.GenSteps, o.Batch, o.Dim, o.Layers, o.CFG, o.Samples, clsAcc, took.Minutes()),
		Sections: []reportSection{
			{Heading: "Results (mean ± std over seeds)", Table: &reportTable{Header: t.header, Rows: t.rows}},
			{Heading: "Against data size", Images: []reportImage{{"FLD of samples (T=1)", "fld.png"}, {"held-out NLL", "nll.png"}}},
		},
	}
	var grids []reportImage
	seen := map[string]bool{}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Size < results[j].Size })
	for _, r := range results {
		key := fmt.Sprintf("%d-%s", r.Size, r.Loss)
		if seen[key] {
			continue
		}
		seen[key] = true
		grids = append(grids, reportImage{Caption: fmt.Sprintf("%s, %d images (T=1)", r.Loss, r.Size),
			Path: filepath.Join("runs", r.Name, "samples-t1.png")})
	}
	rep.Sections = append(rep.Sections, reportSection{Heading: "Samples per cell (seed 1, first 80; classes in order along rows)", Images: grids})
	return rep.write(o.Out, "report")
}
