package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/progress"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/study"
	"github.com/vqtool/vqtool/vqvae"
)

type trainGenOptions struct {
	dataOptions
	lossOptions
	VQ        string
	Tokens    string
	HeldOut   string
	EvalLimit int
	runOptions
	LR        float64
	Warmup    int
	Decay     float64
	Clip      float64
	CondDrop  float64
	Corrupt   float64
	Patience  int
	Seed      uint64
	Dim       int
	Layers    int
	Heads     int
	MLP       int
	EvalEvery int
	SampleCFG float64
	Init      string         // a trained generator to start from
	given     map[string]int // the architecture flags set on the command line
}

// defaultTrainGenOptions is train-gen without flags: the library's defaults.
func defaultTrainGenOptions() trainGenOptions {
	d, t := generator.DefaultConfig(), generator.DefaultTrainConfig()
	return trainGenOptions{dataOptions: dataOptions{Data: "embedded", Split: "train"}, lossOptions: defaultLossOptions(),
		EvalLimit: 2000, runOptions: runOptions{Out: "gen", Steps: t.Steps, Batch: t.Batch, SaveEvery: 250}, LR: t.LR, Warmup: t.Warmup, Decay: t.WeightDecay,
		Clip: t.Clip, CondDrop: t.CondDrop, Seed: t.Seed, Dim: d.Dim, Layers: d.Layers, Heads: d.Heads, MLP: d.MLP,
		EvalEvery: 250, SampleCFG: 2}
}

func (o *trainGenOptions) AddFlags(cmd *cobra.Command) {
	o.dataOptions.AddFlags(cmd)
	o.lossOptions.AddFlags(cmd)
	d := defaultTrainGenOptions()
	f := cmd.Flags()
	f.StringVar(&o.VQ, "vq", "", "VQ-VAE checkpoint folder: its codebook defines the DIST2 targets")
	f.StringVar(&o.Tokens, "tokens", "", "training tokens from vqtool encode: an [N, H, W] .npy, or a folder in LlamaGen's layout (encode --format llamagen), of which augmentation 0 only (the image, not its flip) (default: encode --data once, cached in the VQ checkpoint)")
	f.StringVar(&o.HeldOut, "held-out", "", "held-out tokens, a file or a LlamaGen folder (augmentation 0 only) (default: the test split of a named --data set)")
	f.IntVar(&o.EvalLimit, "eval-limit", d.EvalLimit, "held-out grids measured at each evaluation (0: all)")
	o.runOptions.AddFlags(cmd, d.runOptions, "grids")
	f.Float64Var(&o.LR, "lr", d.LR, "peak learning rate (AdamW), after warm-up, then cosine decay")
	f.IntVar(&o.Warmup, "warmup", d.Warmup, "warm-up steps")
	f.Float64Var(&o.Decay, "weight-decay", d.Decay, "AdamW weight decay on matrices")
	f.Float64Var(&o.Clip, "clip", d.Clip, "global gradient-norm clip (0: off)")
	f.Float64Var(&o.CondDrop, "cond-drop", d.CondDrop, "fraction of examples trained without their class (for guidance)")
	f.IntVar(&o.Patience, "patience", 0, "end the run once this many held-out measurements (--eval-every) in a row miss the best: early stopping, --steps the ceiling (0: off)")
	f.Float64Var(&o.Corrupt, "corrupt", 0, "token corruption: the probability that an input token is replaced by a random code, its target kept (0: off)")
	f.Uint64Var(&o.Seed, "seed", d.Seed, "seed of weights, data order and class dropout")
	f.IntVar(&o.Dim, "dim", d.Dim, "model width")
	f.IntVar(&o.Layers, "layers", d.Layers, "transformer blocks")
	f.IntVar(&o.Heads, "heads", d.Heads, "attention heads")
	f.IntVar(&o.MLP, "mlp", d.MLP, "MLP width")
	f.IntVar(&o.EvalEvery, "eval-every", d.EvalEvery, "measure held-out NLL and write a sample grid every N steps (0: at the end only)")
	f.Float64Var(&o.SampleCFG, "sample-cfg", d.SampleCFG, "guidance scale of the sample grids written during training")
	f.StringVar(&o.Init, "init", "", "start from the weights of a trained generator (its folder): architecture and classes from it, a fresh optimiser, the loss, learning rate and length given now; a new run, not a resume")
}

func newTrainGenCommand() *cobra.Command {
	var opts trainGenOptions
	cmd := &cobra.Command{
		Use:   "train-gen",
		Short: "Train an autoregressive token generator with DIST2Loss, CE or label smoothing",
		Example: `  vqtool train-gen --vq fmnist.vq --data fashion-mnist --loss dist2 --out gen-dist2
  vqtool train-gen --vq fmnist.vq --tokens train.npy --held-out test.npy --loss ce --limit 1000 --out gen-ce`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := opts.settle(cmd, func(dir string) (map[string]string, error) {
				info, err := generator.ReadRunInfo(dir)
				return info.Flags, err
			})
			opts.given = map[string]int{}
			for name, v := range (generator.Config{Dim: opts.Dim, Layers: opts.Layers, Heads: opts.Heads, MLP: opts.MLP}).Architecture() {
				if cmd.Flags().Changed(name) {
					opts.given[name] = v
				}
			}
			if err == nil {
				_, err = runTrainGen(cmd.Context(), cmd.OutOrStdout(), opts)
			}
			return err
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

// genTokens converts a token file to the generator's layout.
func genTokens(t *imageio.Tokens) generator.Tokens {
	return generator.Tokens{Codes: t.Codes, Labels: t.Labels, N: t.N, Len: t.H * t.W}
}

// tokensFor loads a token file, or the encoded data split from the cache
// (see study.Encoded), encoding it there first when it is missing. It returns
// the tokens, the class names and the file they are in.
func tokensFor(ctx context.Context, file string, o dataOptions, vqPath string, vq *vqvae.Model, info vqvae.Info, fallback string) (*imageio.Tokens, []string, string, error) {
	if file != "" {
		t, err := imageio.LoadTokens(file)
		if err != nil {
			return nil, nil, file, err
		}
		return t, t.Classes, file, nil
	}
	d, err := openForModel(o, info, nil)
	if err != nil {
		return nil, nil, "", err
	}
	shaped, err := modelDataOptions(o, info)
	if err != nil {
		return nil, nil, "", err
	}
	var bar *progress.Bar // only when the cache misses
	t, cache, err := study.Encoded(vq, vqPath, d, o.Split, tokenKey(shaped), fallback, func(n int) error {
		if bar == nil {
			bar = newBar(d.N, "encode "+o.Split)
		}
		_ = bar.Set(n)
		return ctx.Err()
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return nil, nil, "", err
	}
	return t, d.Classes, cache, nil
}

// tokenKey describes how data was read, for the cache of its encoding
// (study.Encoded).
func tokenKey(o dataOptions) string {
	return fmt.Sprintf("%q %q %d %d %d %q", o.Data, o.Split, o.Limit, o.Size, o.Channels, o.Fit)
}

// genResult is what train-gen prints with --json.
type genResult struct {
	Out     string              `json:"out"`
	Steps   int                 `json:"steps"`
	Seconds float64             `json:"seconds"`
	Loss    generator.LossInfo  `json:"loss"`
	Train   generator.StepStats `json:"last_step"`
	HeldOut *generator.Eval     `json:"held_out,omitempty"`
	// Converged says --patience ended the run before --steps.
	Converged bool `json:"converged,omitempty"`
}

func runTrainGen(ctx context.Context, w io.Writer, opts trainGenOptions) (res genResult, err error) {
	err = trainGen(ctx, w, opts, &res)
	return res, err
}

func trainGen(ctx context.Context, w io.Writer, opts trainGenOptions, out *genResult) (err error) {
	vq, vqInfo, err := loadVQ(opts.VQ)
	if err != nil {
		return err
	}
	vqSum, err := nn.Fingerprint(filepath.Join(opts.VQ, nn.ModelFile))
	if err != nil {
		return err
	}
	loss, lossInfo, err := buildLoss(opts.lossOptions, vq)
	if err != nil {
		return err
	}
	undo, err := rundir.Make(opts.Out)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	full := opts.dataOptions
	full.Limit = 0 // the cache holds the whole split; --limit cuts below
	train, classes, _, err := tokensFor(ctx, opts.Tokens, full, opts.VQ, vq, vqInfo, opts.Out)
	if err != nil {
		return err
	}
	train = train.Head(opts.Limit)
	maker := imageio.Maker{CodebookSize: vq.Config.CodebookSize, Grid: vq.Config.Grid(), Weights: vqSum, Classes: classes}
	if maker.Classes == nil {
		maker.Classes = vqInfo.Data.Classes
	}
	if err := train.MadeBy(maker, opts.Tokens); err != nil {
		return fmt.Errorf("%w (--vq %s)", err, opts.VQ)
	}
	var held *imageio.Tokens
	var heldNames []string
	switch {
	case opts.HeldOut != "":
		if held, err = imageio.LoadTokens(opts.HeldOut); err != nil {
			return err
		}
		heldNames = held.Classes
	case opts.Tokens == "" && imageio.IsSet(opts.Data) && opts.Split != "test":
		o := full
		o.Split = "test"
		if held, heldNames, _, err = tokensFor(ctx, "", o, opts.VQ, vq, vqInfo, opts.Out); err != nil {
			return err
		}
	}
	if held != nil {
		if err := held.MadeBy(maker, opts.HeldOut); err != nil {
			return fmt.Errorf("%w (--vq %s)", err, opts.VQ)
		}
		if err := sameClasses(train, held, classes, heldNames, cmp.Or(opts.Tokens, "the encoded data"), cmp.Or(opts.HeldOut, "the encoded data")); err != nil {
			return err
		}
		held = held.Head(opts.EvalLimit)
	}
	if lossInfo.Kind == "dist2" {
		logf("%v", lossInfo)
	}
	if opts.Resume && !rundir.HasRun(opts.Out) {
		return usagef("--resume: %s holds no run to continue (leave --resume out to start one)", opts.Out)
	}
	if !opts.Resume {
		if err := checkFresh(opts.Out, opts.Force); err != nil {
			return err
		}
	}
	nClasses := train.NumClasses(classes)
	if opts.Patience > 0 && (held == nil || opts.EvalEvery < 1) {
		return usagef("--patience %d: want held-out data (--held-out, or a named --data set) measured every --eval-every >= 1 steps", opts.Patience)
	}
	run := generator.Run{Dir: opts.Out, Loss: loss, Data: genTokens(train), EvalEvery: opts.EvalEvery, SaveEvery: opts.SaveEvery, Patience: opts.Patience,
		Config: generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: nClasses, Len: train.H * train.W,
			GridH: train.H, GridW: train.W, Dim: opts.Dim, Layers: opts.Layers, Heads: opts.Heads, MLP: opts.MLP},
		Train: generator.TrainConfig{Batch: opts.Batch, Steps: opts.steps(train.N), LR: opts.LR, Warmup: opts.Warmup,
			MinLRRatio: 0.1, WeightDecay: opts.Decay, Clip: opts.Clip, CondDrop: opts.CondDrop, Corrupt: opts.Corrupt, Seed: opts.Seed},
		Info: generator.Info{Loss: lossInfo, VQ: rundir.Rel(opts.Out, opts.VQ), VQWeights: vqSum, Data: opts.Data, Classes: classes, Flags: opts.flags},
		Logf: func(format string, args ...any) { logf("train-gen: "+format, args...) }}
	if opts.Tokens != "" {
		run.Info.Data = opts.Tokens
	}
	if held != nil {
		h := genTokens(held)
		run.HeldOut = &h
		if run.Distance, err = vq.Codebook.Distance(dist2.SquaredL2); err != nil {
			return err
		}
		run.OnEval = func(m *generator.Model, _ generator.Eval) error {
			img, err := explore.SampleGrid(m, vq, classes, 8, opts.SampleCFG, opts.Seed)
			if err != nil {
				return err
			}
			return writePNG(filepath.Join(opts.Out, "samples.png"), img)
		}
	}
	if !opts.Resume {
		if err := usage(run.Config.Validate(), run.Train.Validate(train.N)); err != nil {
			return err
		}
	}
	if !opts.Resume && opts.Init != "" {
		m, start, err := generator.LoadInit(opts.Init, run.Config, opts.given)
		if err != nil {
			return usage(err)
		}
		start.Path = rundir.Rel(opts.Out, opts.Init)
		if run.Info.Flags == nil {
			run.Info.Flags = map[string]string{}
		}
		for name, v := range m.Config.Architecture() { // the run's flags say what it is
			run.Info.Flags[name] = strconv.Itoa(v)
		}
		run.Init, run.Info.Init = m, &start
	}
	if lossInfo.Kind == "dist2" {
		logf("%v", lossInfo)
	}
	bar := newBar(run.Train.Steps, "train-gen")
	defer bar.Finish()
	run.Progress = func(done, _ int, s *generator.StepStats, e *generator.Eval) {
		if s != nil {
			desc := fmt.Sprintf("loss %.3f nll %.2f bits", s.Loss, s.NLL)
			if e != nil {
				desc += fmt.Sprintf(" | held-out nll %.2f acc %.2f", e.NLL, e.Accuracy)
			}
			bar.Describe(desc)
		}
		_ = bar.Set(done)
	}
	res, err := generator.Train(ctx, run)
	if err != nil {
		return err
	}
	bar.Finish()
	*out = genResult{Out: opts.Out, Steps: res.Steps, Seconds: res.Seconds, Loss: lossInfo, Train: res.Last, HeldOut: res.HeldOut, Converged: res.Converged}
	if opts.JSON {
		return printJSON(w, out)
	}
	logf("wrote %s after %d steps in %.0f s (loss %s)", opts.Out, out.Steps, res.Seconds, lossInfo.Kind)
	if e := res.HeldOut; e != nil {
		fprintf(w, "held-out: nll %.3f bits/token, accuracy %.3f, expected codebook distance %.4g, argmax distance %.4g\n",
			e.NLL, e.Accuracy, e.ExpectedDistance, e.ArgmaxDistance)
	}
	return nil
}
