package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
	Tokens      string
	Images      string
	VQ          string
	Classifier  string
	TrainTokens string
	N           int
	CFG         float64
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
	Grid        string
	JSON        bool
	// Sampling names a sampling flag that was given (for --gen only).
	Sampling string
}

// EvalResult is what eval prints (with --json, as JSON).
type EvalResult = study.Evaluation

// samplingFlags are eval's flags that only drawing (--gen) reads.
var samplingFlags = []string{"cfg", "temperature", "top-k", "top-p", "seed"}

func newEvalCommand() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score samples: FLD, KID, precision/recall, class accuracy and memorisation, of a generator or of token or image files; held-out NLL",
		Long: `eval compares samples with the real images of --data's --split (test by
default) through a LeNet trained on the data set (FLD: Frechet distance of its
features; KID; k-NN precision and recall; the classifier's accuracy on the
classes the samples were asked for, when known). The samples are one of:

  --gen DIR       a vqtool generator: eval draws --n samples (classes spread
                  evenly), decodes them with its tokenizer, and measures the
                  generator on the held-out tokens too: NLL in bits per token,
                  token accuracy and the expected codebook distance;
  --tokens FILE   token grids [N, H, W] (.npy, classes from FILE.labels.npy) or
                  a LlamaGen folder, of any generator: decoded with --vq;
  --images FILE   images as .npz (arr_0 uint8 [N, H, W, C], classes from
                  arr_1: what sample --images, guided-diffusion and LlamaGen
                  write) or a folder of images (classes from its subfolders).

With --train-tokens, the grids a generator was trained on, it measures
memorisation as the study does: each sample's largest token agreement with one
training grid, the share of near copies (>= 90%), and the FLD of the samples
that are not (--images are encoded with --vq for it). --n limits the files'
samples to the first N (all by default).`,
		Example: `  vqtool eval --gen gen-dist2 --vq fmnist.vq --data fashion-mnist --n 5000 --json
  vqtool eval --tokens samples.npy --vq fmnist.vq --data fashion-mnist --train-tokens train.npy
  vqtool eval --images samples.npz --classifier fmnist.lenet --data fashion-mnist`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Gen == "" {
				for _, name := range samplingFlags {
					if cmd.Flags().Changed(name) && o.Sampling == "" {
						o.Sampling = name
					}
				}
				if !cmd.Flags().Changed("n") {
					o.N = 0
				}
			}
			_, err := runEval(cmd.Context(), cmd.OutOrStdout(), o)
			return err
		},
	}
	o.dataOptions.AddSourceFlags(cmd)
	defaultToTest(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Gen, "gen", "", "generator checkpoint folder")
	f.StringVar(&o.Tokens, "tokens", "", "token grids to score instead of --gen: [N, H, W] .npy (classes from NAME.labels.npy) or a LlamaGen folder; needs --vq")
	f.StringVar(&o.Images, "images", "", "images to score instead of --gen: FILE.npz (arr_0 uint8 [N, H, W, C], arr_1 classes) or a folder")
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder (default with --gen: the generator's)")
	f.StringVar(&o.Classifier, "classifier", "", "classifier folder (default: VQ/lenet; trained on --data on first use)")
	f.StringVar(&o.TrainTokens, "train-tokens", "", "the training grids (.npy or LlamaGen folder): also measure memorisation")
	f.IntVarP(&o.N, "n", "n", 5000, "samples to draw (--gen), or to score from the start of --tokens or --images (default: all)")
	f.Float64Var(&o.CFG, "cfg", 1, "guidance scale (--gen)")
	f.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature (--gen)")
	f.IntVar(&o.TopK, "top-k", 0, "top-k (0: off) (--gen)")
	f.Float64Var(&o.TopP, "top-p", 1, "top-p (1: off) (--gen)")
	f.Uint64Var(&o.Seed, "seed", 1, "sampling seed (--gen); also the KID subsets'")
	f.StringVar(&o.Grid, "grid", "", "also write the first samples as a PNG grid")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	return cmd
}

// evalSamples is what eval scores: n images (channel-major at the
// classifier's size) with the classes they were asked for (nil: unknown)
// and, when known, their token grids of length l.
type evalSamples struct {
	pix      []float32
	n        int
	asked    []int32
	tokens   []int32
	l        int
	c, size  int
	classes  []string // names of asked's classes, when they have names
	vq       *vqvae.Model
	vqPath   string
	vinfo    vqvae.Info
	gen      *generator.Model
	seconds  float64
	sampling *generator.SampleConfig
}

func runEval(ctx context.Context, w io.Writer, o evalOptions) (EvalResult, error) {
	var res EvalResult
	switch given := btoi(o.Gen != "") + btoi(o.Tokens != "") + btoi(o.Images != ""); {
	case given != 1:
		return res, usagef("--gen %q, --tokens %q, --images %q: want one of them: the samples to score", o.Gen, o.Tokens, o.Images)
	case o.Sampling != "":
		return res, usagef("--%s: sampling settings are for --gen; --tokens and --images are scored as they are", o.Sampling)
	case o.Gen != "" && o.N < 2:
		return res, usagef("--n %d: want at least 2 samples", o.N)
	case o.N < 0:
		return res, usagef("--n %d: want 0 (all) or the samples to score", o.N)
	case o.Images != "" && o.TrainTokens != "" && o.VQ == "":
		return res, usagef("--train-tokens %q with --images: want --vq, the tokenizer that encodes the images to compare them with the training grids", o.TrainTokens)
	}
	var s *evalSamples
	var lenet *metrics.LeNet
	var clsAcc float64
	var err error
	if o.Images != "" {
		s, lenet, clsAcc, err = evalImages(o)
	} else {
		if o.Gen != "" {
			s, err = evalDraw(ctx, o)
		} else {
			s, err = evalTokens(o)
		}
		if err == nil {
			lenet, clsAcc, err = evalClassifier(&o, s.vqPath, s.size, s.c)
		}
	}
	if err != nil {
		return res, err
	}
	test := o.dataOptions
	var real *imageio.Dataset
	if s.vq != nil {
		real, err = openForModel(test, s.vinfo, nil)
	} else {
		test.Size, test.Channels = s.size, s.c
		real, err = test.open()
	}
	if err != nil {
		return res, err
	}
	var train *generator.Tokens
	if o.TrainTokens != "" {
		t, err := imageio.LoadTokens(o.TrainTokens)
		if err != nil {
			return res, err
		}
		train = &generator.Tokens{Codes: t.Codes, N: t.N, Len: t.H * t.W}
	}
	sc, err := study.Score(study.Samples{Pix: s.pix, N: s.n, Asked: s.asked, Tokens: s.tokens, Len: s.l}, real.Pix, real.N, lenet, train, o.Seed)
	if err != nil {
		return res, fmt.Errorf("%s%s%s against %s (classifier %s): %w", o.Gen, o.Tokens, o.Images, real.Name, o.Classifier, err)
	}
	res = EvalResult{Gen: o.Gen, Tokens: o.Tokens, Images: o.Images, Samples: s.n, Sampling: s.sampling, Against: real.Name,
		Classifier: o.Classifier, ClassifierAccuracy: clsAcc, Report: sc.Report, Memorization: sc.Memorization, Seconds: s.seconds}
	if imageio.IsSet(test.Data) {
		res.Against += " " + test.Split
	}
	if o.Grid != "" {
		n := min(s.n, 80)
		per := s.c * s.size * s.size
		img := imageio.Grid(imageio.ToImages(s.pix[:n*per], n, s.c, s.size, s.size), imageio.GridOptions{Cols: 10, Scale: 2, Pad: 2})
		if err := writePNG(o.Grid, img); err != nil {
			return res, err
		}
	}
	if s.gen != nil {
		he, err := study.HeldOut(s.gen, s.vq, real.Pix, real.N, real.Labels)
		if err != nil {
			return res, err
		}
		res.HeldOut = &he
	}
	if o.JSON {
		return res, printJSON(w, res)
	}
	return res, res.WriteText(w)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// evalClassifier loads or trains the classifier of o (default: VQ/lenet)
// for images of size and c channels.
func evalClassifier(o *evalOptions, vqPath string, size, c int) (*metrics.LeNet, float64, error) {
	if o.Classifier == "" {
		if vqPath == "" {
			return nil, 0, usagef("no classifier: want --classifier, a folder written by train-classifier (trained there on --data on first use), or --vq, whose folder keeps one")
		}
		o.Classifier = filepath.Join(vqPath, "lenet")
	}
	l, acc, err := classifierFor(o.Classifier, o.dataOptions, size, c, 1500)
	if err != nil {
		return nil, 0, err
	}
	if l.Size != size || l.Channels != c {
		return nil, 0, fmt.Errorf("the classifier %s reads %d-channel %dx%d images: the samples are %d-channel %dx%d", o.Classifier, l.Channels, l.Size, l.Size, c, size, size)
	}
	return l, acc, nil
}

// evalDraw draws o.N samples of the generator --gen.
func evalDraw(ctx context.Context, o evalOptions) (*evalSamples, error) {
	gen, ginfo, err := generator.Load(o.Gen)
	if err != nil {
		return nil, err
	}
	vq, vinfo, vqPath, err := genVQ(o.Gen, o.VQ, ginfo)
	if err != nil {
		return nil, err
	}
	if err := explore.CheckPair(gen, o.Gen, vq, vqPath); err != nil {
		return nil, err
	}
	per := vq.Config.Channels*vq.Config.Size*vq.Config.Size + gen.Config.Len // a decoded sample and its tokens
	if err := checkMemory(memory.Mul(o.N, per, 4), fmt.Sprintf("%d samples to score", o.N), "score fewer with a smaller --n"); err != nil {
		return nil, err
	}
	start := nowSeconds()
	pix, tokens, asked, err := sampleImages(ctx, gen, vq, o)
	if err != nil {
		return nil, err
	}
	sc := generator.SampleConfig{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, CFG: o.CFG, Seed: o.Seed}
	return &evalSamples{pix: pix, n: o.N, asked: asked, tokens: tokens, l: gen.Config.Len, c: vq.Config.Channels, size: vq.Config.Size,
		vq: vq, vqPath: vqPath, vinfo: vinfo, gen: gen, seconds: nowSeconds() - start, sampling: &sc}, nil
}

// evalTokens decodes the first o.N (0: all) grids of --tokens with --vq.
func evalTokens(o evalOptions) (*evalSamples, error) {
	if o.VQ == "" {
		return nil, usagef("--tokens %q: want --vq, the tokenizer whose decoder turns the grids into images", o.Tokens)
	}
	vq, vinfo, err := loadVQ(o.VQ)
	if err != nil {
		return nil, err
	}
	t, err := imageio.LoadTokens(o.Tokens)
	if err != nil {
		return nil, err
	}
	gs := vq.Config.Grid()
	if err := t.MadeBy(imageio.Maker{CodebookSize: vq.Config.CodebookSize, Grid: gs}, o.Tokens); err != nil {
		return nil, fmt.Errorf("%w (--vq %s)", err, o.VQ)
	}
	if o.N > 0 {
		t = t.Head(o.N)
	}
	if t.N < 2 {
		return nil, fmt.Errorf("%s holds %d grids: want at least 2 samples", o.Tokens, t.N)
	}
	c, sz := vq.Config.Channels, vq.Config.Size
	if err := checkMemory(memory.Mul(t.N, c*sz*sz, 4), fmt.Sprintf("%d samples to score", t.N), "score fewer with --n"); err != nil {
		return nil, err
	}
	pix := make([]float32, t.N*c*sz*sz)
	bar := newBar(t.N, "decode")
	err = vq.DecodeTo(pix, t.Codes, t.N)
	bar.Finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Tokens, err)
	}
	asked := t.Labels
	if slices.Contains(asked, -1) { // unconditional samples (sample --class -1)
		asked = nil
	}
	return &evalSamples{pix: pix, n: t.N, asked: asked, tokens: t.Codes, l: gs * gs, c: c, size: sz, vq: vq, vqPath: o.VQ, vinfo: vinfo}, nil
}

// evalImages reads the first o.N (0: all) images of --images at the size
// and channels of --vq, else of the classifier, else their own, and the
// classifier for them.
func evalImages(o evalOptions) (*evalSamples, *metrics.LeNet, float64, error) {
	s := &evalSamples{}
	opt := imageio.Options{Limit: o.N, MaxBytes: maxMemory()}
	if o.VQ != "" {
		var err error
		if s.vq, s.vinfo, err = loadVQ(o.VQ); err != nil {
			return nil, nil, 0, err
		}
		s.vqPath, opt.Size, opt.Channels = o.VQ, s.vq.Config.Size, s.vq.Config.Channels
	} else if o.Classifier != "" {
		if _, err := os.Stat(filepath.Join(o.Classifier, "config.json")); err == nil {
			l, _, err := metrics.LoadLeNet(o.Classifier)
			if err != nil {
				return nil, nil, 0, err
			}
			opt.Size, opt.Channels = l.Size, l.Channels
		}
	}
	var d *imageio.Dataset
	var err error
	if strings.HasSuffix(strings.ToLower(o.Images), ".npz") {
		d, err = imageio.OpenNPZ(o.Images, opt)
	} else {
		if fi, serr := os.Stat(o.Images); serr != nil || !fi.IsDir() {
			return nil, nil, 0, usagef("--images %q: want a FILE.npz or a folder of images", o.Images)
		}
		d, err = imageio.Open(o.Images, opt)
	}
	if errors.Is(err, imageio.ErrOption) {
		err = usageError{err}
	}
	if err != nil {
		return nil, nil, 0, budgetError(err, "score fewer with --n")
	}
	if d.H != d.W {
		return nil, nil, 0, fmt.Errorf("%s: images of %dx%d: want square images (or --vq, whose size they are brought to)", o.Images, d.W, d.H)
	}
	if d.N < 2 {
		return nil, nil, 0, fmt.Errorf("%s holds %d images: want at least 2 samples", o.Images, d.N)
	}
	s.pix, s.n, s.c, s.size = d.Pix, d.N, d.C, d.H
	if s.asked, err = d.ClassNumbers(); err != nil {
		logf("%v: no class accuracy", err)
	}
	lenet, acc, err := evalClassifier(&o, s.vqPath, s.size, s.c)
	if err != nil {
		return nil, nil, 0, err
	}
	if s.vq != nil && o.TrainTokens != "" {
		gs := s.vq.Config.Grid()
		if s.tokens, err = s.vq.EncodeMany(s.pix, s.n, nil); err != nil {
			return nil, nil, 0, err
		}
		s.l = gs * gs
	}
	return s, lenet, acc, nil
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
