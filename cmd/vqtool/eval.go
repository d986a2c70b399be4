package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/memory"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/study"
	"github.com/vqtool/vqtool/vqvae"
)

type trainClassifierOptions struct {
	dataOptions
	Out   string
	Steps int
	Batch int
	LR    float64
	Seed  uint64
	JSON  bool
}

func newTrainClassifierCommand() *cobra.Command {
	var o trainClassifierOptions
	cmd := &cobra.Command{
		Use:     "train-classifier",
		Short:   "Train the LeNet feature extractor that eval uses (FLD, KID, precision/recall, class accuracy)",
		Example: `  vqtool train-classifier --data fashion-mnist --out fmnist.lenet`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrainClassifier(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.dataOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.Out, "out", "o", "classifier.lenet", "folder to write")
	f.IntVar(&o.Steps, "steps", 1500, "optimiser steps")
	f.IntVar(&o.Batch, "batch", 64, "images per step")
	f.Float64Var(&o.LR, "lr", 2e-3, "peak learning rate (Adam)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	return cmd
}

// trainClassifier fits a LeNet on the training split of d's set and measures
// it on the test split when the set has one.
func trainClassifier(o trainClassifierOptions) (*metrics.LeNet, float64, error) {
	train, err := o.open()
	if err != nil {
		return nil, 0, err
	}
	if train.H != train.W {
		return nil, 0, usagef("images of %dx%d: want square images (use --size)", train.W, train.H)
	}
	var held *imageio.Dataset
	if imageio.IsSet(o.Data) {
		t := o.dataOptions
		t.Split, t.Limit = "test", 0
		if held, err = t.open(); err != nil {
			return nil, 0, err
		}
	}
	bar := newBar(o.Steps, "train-classifier")
	defer bar.Finish()
	return study.TrainClassifier(train, held, study.ClassifierConfig{Steps: o.Steps, Batch: o.Batch, LR: o.LR, Seed: o.Seed},
		func(step int, loss float64) {
			bar.Describe(fmt.Sprintf("loss %.4f", loss))
			_ = bar.Set(step)
		})
}

func runTrainClassifier(_ context.Context, w io.Writer, o trainClassifierOptions) error {
	l, acc, err := trainClassifier(o)
	if err != nil {
		return err
	}
	if err := l.Save(o.Out, o.Data, acc); err != nil {
		return err
	}
	if o.JSON {
		return printJSON(w, map[string]any{"out": o.Out, "test_accuracy": acc})
	}
	logf("wrote %s: test accuracy %.4f", o.Out, acc)
	return nil
}

// classifierFor loads path, or trains a classifier of steps on data and
// saves it at path when there is none, for later runs to reuse.
func classifierFor(path string, data dataOptions, size, channels, steps int) (*metrics.LeNet, float64, error) {
	if _, err := os.Stat(filepath.Join(path, "config.json")); err == nil {
		return metrics.LoadLeNet(path)
	}
	logf("no classifier at %s: training one on %s (once; later runs reuse it)", path, data.Data)
	o := trainClassifierOptions{dataOptions: data, Out: path, Steps: steps, Batch: 64, LR: 2e-3, Seed: 1}
	o.Split, o.Limit, o.Size, o.Channels = "train", 0, size, channels
	l, acc, err := trainClassifier(o)
	if few := (*metrics.FewImagesError)(nil); errors.As(err, &few) {
		return nil, 0, usagef("no classifier at %s, and %s has %d labelled training images, too few to train one in batches of %d: give more images, or a --classifier written by vqtool train-classifier --batch %d",
			path, data.Data, few.Images, few.Batch, max(few.Images, 1))
	}
	if err != nil {
		return nil, 0, err
	}
	logf("classifier: test accuracy %.4f", acc)
	return l, acc, l.Save(path, data.Data, acc)
}

type evalOptions struct {
	dataOptions
	Gen         string
	VQ          string
	Classifier  string
	N           int
	CFG         float64
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
	Grid        string
	JSON        bool
}

// EvalResult is what eval prints with --json.
type EvalResult struct {
	Gen                string                 `json:"gen"`
	Samples            int                    `json:"samples"`
	Sampling           generator.SampleConfig `json:"sampling"`
	Classifier         string                 `json:"classifier"`
	ClassifierAccuracy float64                `json:"classifier_test_accuracy"`
	metrics.Report
	HeldOut *generator.Eval `json:"held_out,omitempty"`
	Seconds float64         `json:"sample_seconds"`
}

func newEvalCommand() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score a generator: FLD, KID, precision/recall and class accuracy of its samples; held-out NLL",
		Long: `eval draws --n samples (classes spread evenly), decodes them and compares them
with the real images of the test split through a LeNet trained on the data set
(FLD: Frechet distance of its features; KID; k-NN precision and recall; the
classifier's accuracy on the asked-for classes). It also measures the
generator on the held-out tokens: NLL in bits per token, token accuracy and
the expected codebook distance of its predictions.`,
		Example: `  vqtool eval --gen gen-dist2 --vq fmnist.vq --data fashion-mnist --n 5000 --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := runEval(cmd.Context(), cmd.OutOrStdout(), o)
			return err
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Gen, "gen", "", "generator checkpoint folder")
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder (default: the generator's)")
	f.StringVar(&o.Classifier, "classifier", "", "classifier folder (default: VQ/lenet, trained on first use)")
	f.IntVarP(&o.N, "n", "n", 5000, "samples to draw")
	f.Float64Var(&o.CFG, "cfg", 1, "guidance scale")
	f.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature")
	f.IntVar(&o.TopK, "top-k", 0, "top-k (0: off)")
	f.Float64Var(&o.TopP, "top-p", 1, "top-p (1: off)")
	f.Uint64Var(&o.Seed, "seed", 1, "sampling seed")
	f.StringVar(&o.Grid, "grid", "", "also write the first samples as a PNG grid")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	return cmd
}

func runEval(ctx context.Context, w io.Writer, o evalOptions) (EvalResult, error) {
	var res EvalResult
	if o.Gen == "" {
		return res, usagef("--gen: want a generator checkpoint folder")
	}
	gen, ginfo, err := generator.Load(o.Gen)
	if err != nil {
		return res, err
	}
	vq, vinfo, vqPath, err := genVQ(o.Gen, o.VQ, ginfo.VQ)
	if err != nil {
		return res, err
	}
	o.VQ = vqPath
	if err := explore.CheckPair(gen, o.Gen, vq, o.VQ); err != nil {
		return res, err
	}
	if o.N < 2 {
		return res, usagef("--n %d: want at least 2 samples", o.N)
	}
	per := vq.Config.Channels*vq.Config.Size*vq.Config.Size + gen.Config.Len // a decoded sample and its tokens
	if err := checkMemory(memory.Mul(o.N, per, 4), fmt.Sprintf("%d samples to score", o.N), "score fewer with a smaller --n"); err != nil {
		return res, err
	}
	if o.Classifier == "" {
		o.Classifier = filepath.Join(o.VQ, "lenet")
	}
	lenet, clsAcc, err := classifierFor(o.Classifier, o.dataOptions, vq.Config.Size, vq.Config.Channels, 1500)
	if err != nil {
		return res, err
	}
	test := o.dataOptions
	if imageio.IsSet(o.Data) {
		test.Split = "test"
	}
	real, err := openForModel(test, vinfo, nil)
	if err != nil {
		return res, err
	}
	r, fake, classes, secs, err := sampleAndScore(ctx, gen, vq, lenet, real, o)
	if err != nil {
		return res, err
	}
	res = EvalResult{Gen: o.Gen, Samples: o.N, Classifier: o.Classifier, ClassifierAccuracy: clsAcc, Report: r, Seconds: secs,
		Sampling: generator.SampleConfig{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, CFG: o.CFG, Seed: o.Seed}}
	if o.Grid != "" {
		n := min(len(classes), 80)
		img, err := explore.TokenGrid(vq, fake[:n*vq.Config.Grid()*vq.Config.Grid()], n, 10, nil, 2)
		if err != nil {
			return res, err
		}
		if err := writePNG(o.Grid, img); err != nil {
			return res, err
		}
	}
	he, err := study.HeldOut(gen, vq, real.Pix, real.N, real.Labels)
	if err != nil {
		return res, err
	}
	res.HeldOut = &he
	if o.JSON {
		return res, printJSON(w, res)
	}
	fprintf(w, "%s: %d samples (cfg %g, temperature %g, top-k %d, top-p %g) against %d real test images\n",
		o.Gen, o.N, o.CFG, o.Temperature, o.TopK, o.TopP, r.Real)
	fprintf(w, "FLD %.3f  KID %.4f ± %.4f  precision %.3f  recall %.3f", r.FLD, r.KID, r.KIDStd, r.Precision, r.Recall)
	if r.Accuracy >= 0 {
		fprintf(w, "  class accuracy %.3f (classifier's own test accuracy %.3f)", r.Accuracy, clsAcc)
	}
	fprintf(w, "\nheld-out tokens: nll %.3f bits, accuracy %.3f, expected codebook distance %.4g\n", he.NLL, he.Accuracy, he.ExpectedDistance)
	return res, nil
}

// sampleAndScore draws o.N grids, decodes them and scores them against real
// images.
func sampleAndScore(ctx context.Context, gen *generator.Model, vq *vqvae.Model, lenet *metrics.LeNet, real *imageio.Dataset, o evalOptions) (metrics.Report, []int32, []int32, float64, error) {
	start := nowSeconds()
	pix, tokens, asked, err := sampleImages(ctx, gen, vq, o)
	if err != nil {
		return metrics.Report{}, nil, nil, 0, err
	}
	secs := nowSeconds() - start
	rep, err := lenet.Compare(real.Pix, real.N, pix, o.N, asked, o.Seed)
	return rep, tokens, asked, secs, err
}

// sampleImages is study.Draw with a progress bar, for o.N grids at o's
// sampling settings; asked is nil for an unconditional model.
func sampleImages(ctx context.Context, gen *generator.Model, vq *vqvae.Model, o evalOptions) (pix []float32, tokens, asked []int32, err error) {
	sc := generator.SampleConfig{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, CFG: o.CFG, Seed: o.Seed}
	if err := sc.Validate(gen.Config.CodebookSize); err != nil {
		return nil, nil, nil, usageError{err}
	}
	bar := newBar(o.N, "sample")
	defer bar.Finish()
	return study.Draw(gen, vq, o.N, sc, func(n int) error { _ = bar.Set(n); return ctx.Err() })
}
