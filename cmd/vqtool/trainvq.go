package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/vqvae"
)

type trainVQOptions struct {
	dataOptions
	runOptions
	LR           float64
	Warmup       int
	CodebookSize int
	CodeDim      int
	Hidden       int
	ResBlocks    int
	Downsample   int
	Beta         float64
	EMA          bool
	Decay        float64
	Restart      float64
	Normalize    bool
	L1           bool
	Seed         uint64
	GridEvery    int
	EvalSplit    string
}

// defaultTrainVQOptions is train-vq without flags: the library's defaults.
func defaultTrainVQOptions() trainVQOptions {
	d, t := vqvae.DefaultConfig(), vqvae.DefaultTrainConfig()
	return trainVQOptions{dataOptions: dataOptions{Data: "embedded", Split: "train"},
		runOptions: runOptions{Out: "model.vq", Steps: t.Steps, Batch: t.Batch, SaveEvery: 500}, LR: t.LR, Warmup: t.Warmup, CodebookSize: d.CodebookSize, CodeDim: d.CodeDim,
		Hidden: d.Hidden, ResBlocks: d.ResBlocks, Downsample: d.Downsample, Beta: d.Beta, EMA: d.EMA, Decay: d.Decay,
		Restart: t.Restart, Normalize: d.Normalize, L1: d.L1, Seed: t.Seed, GridEvery: 500, EvalSplit: "test"}
}

func (o *trainVQOptions) AddFlags(cmd *cobra.Command) {
	o.dataOptions.AddFlags(cmd)
	d := defaultTrainVQOptions()
	f := cmd.Flags()
	o.runOptions.AddFlags(cmd, d.runOptions, "images")
	f.Float64Var(&o.LR, "lr", d.LR, "peak learning rate (Adam), after a linear warm-up, then cosine decay")
	f.IntVar(&o.Warmup, "warmup", d.Warmup, "warm-up steps")
	f.IntVar(&o.CodebookSize, "codebook-size", d.CodebookSize, "codes in the codebook (K)")
	f.IntVar(&o.CodeDim, "code-dim", d.CodeDim, "dimension of a code (D)")
	f.IntVar(&o.Hidden, "hidden", d.Hidden, "channels of the deep layers")
	f.IntVar(&o.ResBlocks, "res-blocks", d.ResBlocks, "residual blocks in encoder and decoder")
	f.IntVar(&o.Downsample, "downsample", d.Downsample, "image side / token grid side: 4 or 8")
	f.Float64Var(&o.Beta, "beta", d.Beta, "commitment weight, on the encoder term ||z - sg(e)||^2")
	f.BoolVar(&o.EMA, "ema", d.EMA, "update codes by EMA instead of a codebook loss")
	f.Float64Var(&o.Decay, "decay", d.Decay, "EMA decay")
	f.Float64Var(&o.Restart, "dead-threshold", d.Restart, "re-seed codes whose EMA usage falls under this from the batch (0: never)")
	f.BoolVar(&o.Normalize, "normalize", d.Normalize, "l2-normalised (cosine) codes")
	f.BoolVar(&o.L1, "l1", d.L1, "L1 reconstruction loss instead of MSE")
	f.Uint64Var(&o.Seed, "seed", d.Seed, "seed of weights, data order and restarts: the same seed repeats a run")
	f.IntVar(&o.GridEvery, "grid-every", d.GridEvery, "write inputs against reconstructions every N steps (0: only at the end)")
	f.StringVar(&o.EvalSplit, "eval-split", d.EvalSplit, "held-out split measured at each epoch end (none: skip)")
}

func newTrainVQCommand() *cobra.Command {
	var opts trainVQOptions
	cmd := &cobra.Command{
		Use:   "train-vq",
		Short: "Train a VQ-VAE tokenizer",
		Example: `  vqtool train-vq --data fashion-mnist --out fmnist.vq --epochs 10
  vqtool train-vq --data fashion-mnist --out fmnist.vq --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := opts.settle(cmd, func(dir string) (map[string]string, error) {
				info, err := vqvae.ReadRunInfo(dir)
				return info.Flags, err
			})
			if err == nil {
				_, err = runTrainVQ(cmd.Context(), cmd.OutOrStdout(), opts)
			}
			return err
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

func toImages(d *imageio.Dataset) vqvae.Images {
	return vqvae.Images{Pix: d.Pix, N: d.N, C: d.C, H: d.H, W: d.W}
}

// vqResult is what train-vq prints with --json.
type vqResult struct {
	Out     string      `json:"out"`
	Steps   int         `json:"steps"`
	Seconds float64     `json:"seconds"`
	Train   vqvae.Eval  `json:"train_batch_last"`
	Test    *vqvae.Eval `json:"held_out,omitempty"`
}

func runTrainVQ(ctx context.Context, w io.Writer, opts trainVQOptions) (res vqResult, err error) {
	err = trainVQ(ctx, w, opts, &res)
	return res, err
}

func trainVQ(ctx context.Context, w io.Writer, opts trainVQOptions, out *vqResult) error {
	train, err := opts.open()
	if err != nil {
		return err
	}
	var held *imageio.Dataset
	if opts.EvalSplit != "none" && opts.EvalSplit != opts.Split && imageio.IsSet(opts.Data) {
		o := opts.dataOptions
		o.Split, o.Limit = opts.EvalSplit, 0
		if held, err = o.open(); err != nil {
			return err
		}
	}
	if opts.Resume && !rundir.HasRun(opts.Out) {
		return usagef("--resume: %s holds no run to continue (leave --resume out to start one)", opts.Out)
	}
	run := vqvae.Run{Dir: opts.Out, Data: toImages(train), SaveEvery: opts.SaveEvery, PictureEvery: opts.GridEvery,
		Config: vqvae.DefaultConfig(), Train: vqvae.DefaultTrainConfig(),
		Info: vqvae.Info{Data: vqvae.DataInfo{Name: train.Name, Channels: train.C, Size: train.H,
			Range: [2]float64{-1, 1}, Fit: opts.Fit, Classes: train.Classes}, Flags: opts.flags},
		Logf: func(format string, args ...any) { logf("train-vq: "+format, args...) }}
	cfg, tc := &run.Config, &run.Train
	cfg.Channels, cfg.Size = train.C, train.H
	cfg.CodebookSize, cfg.CodeDim, cfg.Hidden, cfg.ResBlocks = opts.CodebookSize, opts.CodeDim, opts.Hidden, opts.ResBlocks
	cfg.Downsample, cfg.Beta, cfg.EMA, cfg.Decay = opts.Downsample, opts.Beta, opts.EMA, opts.Decay
	cfg.Normalize, cfg.L1 = opts.Normalize, opts.L1
	tc.Batch, tc.LR, tc.Warmup, tc.Restart, tc.Seed = opts.Batch, opts.LR, opts.Warmup, opts.Restart, opts.Seed
	tc.Steps = opts.steps(train.N)
	if !opts.Resume {
		if err := checkFresh(opts.Out, opts.Force); err != nil {
			return err
		}
		if train.H != train.W {
			return usagef("images of %dx%d: want square images (use --size)", train.W, train.H)
		}
		if err := usage(cfg.Validate(), tc.Validate(train.N)); err != nil {
			return err
		}
	}
	gridData := train
	if held != nil {
		gridData = held
		h := toImages(held)
		run.HeldOut = &h
	}
	run.Picture = func(m *vqvae.Model) error {
		return writeReconGrid(filepath.Join(opts.Out, "recon.png"), m, gridData, 16)
	}
	bar := newBar(tc.Steps, "train-vq")
	defer bar.Finish()
	start := time.Now()
	startStep := -1
	run.Progress = func(done, _ int, s *vqvae.StepStats) {
		if s == nil {
			startStep = done
		} else {
			rate := float64((done-startStep)*tc.Batch) / time.Since(start).Seconds()
			bar.Describe(fmt.Sprintf("loss %.4f psnr %.2f dB codes alive %.0f%% %.0f img/s", s.Loss, s.PSNR, 100*s.Usage, rate))
		}
		_ = bar.Set(done)
	}
	res, err := vqvae.Train(ctx, run)
	if err != nil {
		return err
	}
	bar.Finish()
	*out = vqResult{Out: opts.Out, Steps: res.Steps, Seconds: res.Seconds,
		Train: vqvae.Eval{MSE: res.Last.Recon, PSNR: res.Last.PSNR}, Test: res.HeldOut}
	if opts.JSON {
		return printJSON(w, out)
	}
	logf("wrote %s after %d steps in %.0f s", opts.Out, res.Steps, res.Seconds)
	if e := res.HeldOut; e != nil {
		fprintf(w, "held-out (%s split): psnr %.2f dB, mse %.5f, codes used %d/%d (%.1f%%), perplexity %.1f, dead %d\n",
			opts.EvalSplit, e.PSNR, e.MSE, e.Used, res.Model.Config.CodebookSize, 100*e.Fraction, e.Perplexity, e.Dead)
	}
	return nil
}

// writeReconGrid draws the first n images of d in one row and their
// reconstructions in the row below.
func writeReconGrid(path string, m *vqvae.Model, d *imageio.Dataset, n int) error {
	if n < 1 || d.N < 1 {
		return usagef("%s: %d images of %s to draw: want at least 1 (--n)", path, min(n, d.N), d.Name)
	}
	n = min(n, d.N)
	img, err := explore.ReconFigure(m, d.Slice(0, n).Pix, n)
	if err != nil {
		return err
	}
	return writePNG(path, img)
}
