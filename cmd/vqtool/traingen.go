package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/vqvae"
)

type lossOptions struct {
	Loss       string
	Alpha      float64
	Tau        string
	Perplexity float64
	Distance   string
	TopK       int
	Smoothing  float64
}

// defaultLossOptions is DIST2 with the library's defaults.
func defaultLossOptions() lossOptions {
	return lossOptions{Loss: "dist2", Alpha: dist2.DefaultAlpha, Tau: "auto", Perplexity: dist2.DefaultPerplexity,
		Distance: "l2", TopK: -1, Smoothing: 0.1}
}

func (o *lossOptions) AddFlags(cmd *cobra.Command) {
	d := defaultLossOptions()
	f := cmd.Flags()
	f.StringVar(&o.Loss, "loss", d.Loss, "training loss: dist2, ce or smooth")
	f.Float64Var(&o.Alpha, "alpha", d.Alpha, "dist2: weight of KL(p_d || p_theta)")
	f.StringVar(&o.Tau, "tau", d.Tau, "dist2: temperature of p_d, a number or auto (calibrated to --perplexity)")
	f.Float64Var(&o.Perplexity, "perplexity", d.Perplexity, "dist2: effective neighbours per target, for --tau auto")
	f.StringVar(&o.Distance, "distance", d.Distance, "dist2: distance between codes: l2 (squared), mse or cosine")
	f.IntVar(&o.TopK, "target-topk", d.TopK, "dist2: keep the k nearest entries of each target row (0: dense; -1: 64 when K > 2048, else dense)")
	hiddenAlias(f, "topk", "", "target-topk")
	f.Float64Var(&o.Smoothing, "smoothing", d.Smoothing, "smooth: uniform label-smoothing mass")
}

// spec is the loss the flags describe.
func (o lossOptions) spec() (dist2.Spec, error) {
	tau, err := dist2.ParseTau(o.Tau)
	if err != nil {
		return dist2.Spec{}, usagef("--tau %q: want a number > 0 or auto", o.Tau)
	}
	return dist2.Spec{Kind: o.Loss, Alpha: o.Alpha, Tau: tau, Perplexity: o.Perplexity, Distance: o.Distance,
		TargetTopK: o.TopK, Smoothing: o.Smoothing}, nil
}

// buildLoss makes the training loss; for dist2 its target table comes from
// the codebook's distances.
func buildLoss(o lossOptions, vq *vqvae.Model) (*dist2.Loss, generator.LossInfo, error) {
	s, err := o.spec()
	if err == nil && s.Kind == dist2.Dist2.String() {
		err = checkTargetsMemory(s, vq.Config.CodebookSize)
	}
	if err != nil {
		return nil, generator.LossInfo{}, err
	}
	l, b, err := vq.Loss(s)
	if err != nil {
		return nil, b, usageError{err}
	}
	return l, b, nil
}

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
				info, err := generator.ReadInfo(dir)
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
// (see tokenCache), encoding it there first when it is missing. It returns
// the tokens, the class names and the file they are in.
func tokensFor(ctx context.Context, file string, o dataOptions, vqPath string, vq *vqvae.Model, info vqvae.Info, fallback string) (*imageio.Tokens, []string, string, error) {
	if file != "" {
		t, err := imageio.LoadTokens(file)
		return t, nil, file, err
	}
	d, err := openForModel(o, info, nil)
	if err != nil {
		return nil, nil, "", err
	}
	shaped, err := modelDataOptions(o, info)
	if err != nil {
		return nil, nil, "", err
	}
	cache, err := tokenCache(vqPath, shaped, fallback)
	if err != nil {
		return nil, nil, "", err
	}
	if t, err := imageio.LoadTokens(cache); err == nil && t.N == d.N {
		return t, d.Classes, cache, nil
	}
	codes, err := encodeWithBar(ctx, vq, d, "encode "+o.Split)
	if err != nil {
		return nil, nil, "", err
	}
	gs := vq.Config.Grid()
	t := &imageio.Tokens{Codes: codes, N: d.N, H: gs, W: gs, Labels: d.Labels}
	if err := imageio.SaveTokens(cache, t); err != nil {
		return nil, nil, "", err
	}
	return t, d.Classes, cache, nil
}

// tokenCache names the file that holds a data split encoded by the VQ
// checkpoint at vqPath (see imageio.TokenCache).
func tokenCache(vqPath string, o dataOptions, fallback string) (string, error) {
	data := fmt.Sprintf("%q %q %d %d %d %q", o.Data, o.Split, o.Limit, o.Size, o.Channels, o.Fit)
	return imageio.TokenCache(filepath.Join(vqPath, nn.ModelFile), o.Split, data, fallback)
}

// genResult is what train-gen prints with --json.
type genResult struct {
	Out     string              `json:"out"`
	Steps   int                 `json:"steps"`
	Seconds float64             `json:"seconds"`
	Loss    generator.LossInfo  `json:"loss"`
	Train   generator.StepStats `json:"last_step"`
	HeldOut *generator.Eval     `json:"held_out,omitempty"`
}

func runTrainGen(ctx context.Context, w io.Writer, opts trainGenOptions) (res genResult, err error) {
	err = trainGen(ctx, w, opts, &res)
	return res, err
}

func trainGen(ctx context.Context, w io.Writer, opts trainGenOptions, out *genResult) (err error) {
	if err := nonNegative(flagValue{"limit", float64(opts.Limit)}, flagValue{"eval-limit", float64(opts.EvalLimit)},
		flagValue{"epochs", opts.Epochs}, flagValue{"eval-every", float64(opts.EvalEvery)}); err != nil {
		return err
	}
	switch {
	case opts.SaveEvery < 1:
		return usagef("--save-every %d: want steps >= 1", opts.SaveEvery)
	case opts.TopK < dist2.AutoTargetTopK:
		return usagef("--target-topk %d: want 0 (dense), a count, or -1 (auto)", opts.TopK)
	}
	vq, vqInfo, err := loadVQ(opts.VQ)
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
	if err := train.CheckCodes(vq.Config.CodebookSize, orEncoded(opts.Tokens)); err != nil {
		return err
	}
	if err := checkLabels(train, classes, vqInfo, opts.Tokens); err != nil {
		return err
	}
	if train.H != vq.Config.Grid() || train.W != vq.Config.Grid() {
		return fmt.Errorf("tokens are %dx%d grids: the VQ model %s makes %dx%d", train.H, train.W, opts.VQ, vq.Config.Grid(), vq.Config.Grid())
	}
	var held *imageio.Tokens
	switch {
	case opts.HeldOut != "":
		if held, err = imageio.LoadTokens(opts.HeldOut); err != nil {
			return err
		}
	case opts.Tokens == "" && imageio.IsSet(opts.Data) && opts.Split != "test":
		o := full
		o.Split = "test"
		if held, _, _, err = tokensFor(ctx, "", o, opts.VQ, vq, vqInfo, opts.Out); err != nil {
			return err
		}
	}
	if held != nil {
		if err := held.CheckCodes(vq.Config.CodebookSize, orEncoded(opts.HeldOut)); err != nil {
			return err
		}
		if err := checkLabels(held, classes, vqInfo, opts.HeldOut); err != nil {
			return err
		}
		held = held.Head(opts.EvalLimit)
	}
	if lossInfo.Kind == "dist2" {
		logf("%v", lossInfo)
	}
	nClasses := train.NumClasses(classes)
	data := genTokens(train)
	tr, info, err := openRun(opts.runOptions, func() (*generator.Trainer, generator.Info, error) {
		return generator.Resume(opts.Out, data, loss)
	}, func() (tr *generator.Trainer, info generator.Info, err error) {
		cfg := generator.Config{Vocab: vq.Config.CodebookSize, Classes: nClasses, Len: train.H * train.W,
			GridH: train.H, GridW: train.W, Dim: opts.Dim, Layers: opts.Layers, Heads: opts.Heads, MLP: opts.MLP}
		tc := generator.TrainConfig{Batch: opts.Batch, Steps: opts.steps(train.N), LR: opts.LR, Warmup: opts.Warmup,
			MinLRRatio: 0.1, WeightDecay: opts.Decay, Clip: opts.Clip, CondDrop: opts.CondDrop, Seed: opts.Seed}
		if err := usage(cfg.Validate(), tc.Validate(train.N)); err != nil {
			return nil, info, err
		}
		if opts.Init != "" {
			m, start, err := generator.LoadInit(opts.Init, cfg, opts.given)
			if err != nil {
				return nil, info, usage(err)
			}
			start.Path = vqRef(opts.Out, opts.Init)
			if opts.flags == nil {
				opts.flags = map[string]string{}
			}
			for name, v := range m.Config.Architecture() { // the run's flags say what it is
				opts.flags[name] = strconv.Itoa(v)
			}
			if tr, err = generator.NewTrainer(m, data, loss, tc); err == nil {
				logf("train-gen: from %s (step %d, %s), %d grids, %d steps of %d, loss %s", opts.Init, start.Step, start.Weights[:19], train.N, tc.Steps, tc.Batch, lossInfo.Kind)
			}
			return tr, generator.Info{Flags: opts.flags, Init: &start}, err
		}
		m, err := generator.New(cfg, rand.New(rand.NewPCG(opts.Seed, 0x6e4)))
		if err == nil {
			tr, err = generator.NewTrainer(m, data, loss, tc)
		}
		if err == nil {
			logf("train-gen: %d grids of %dx%d, %d classes, %d steps of %d (%.1f epochs), loss %s, %d weights",
				train.N, train.H, train.W, nClasses, tc.Steps, tc.Batch, float64(tc.Steps*tc.Batch)/float64(train.N),
				lossInfo.Kind, m.NumParams())
		}
		return tr, generator.Info{Flags: opts.flags}, err
	})
	if err != nil {
		return err
	}
	info.Loss, info.VQ, info.Data, info.Classes = lossInfo, vqRef(opts.Out, opts.VQ), opts.Data, classes
	if opts.Tokens != "" {
		info.Data = opts.Tokens
	}
	release, metrics, err := rundir.Start(opts.Out, tr.Step, logf)
	if err != nil {
		return err
	}
	defer release()
	dist, err := vq.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		return err
	}
	var lastEval *generator.Eval
	evaluate := func() error {
		if held == nil {
			return nil
		}
		e, err := tr.Model.Evaluate(genTokens(held), dist)
		if err != nil {
			return err
		}
		lastEval = &e
		writeJSONLine(metrics, map[string]any{"step": tr.Step, "held_out": e})
		img, err := explore.SampleGrid(tr.Model, vq, classes, 8, opts.SampleCFG, opts.Seed)
		if err != nil {
			return err
		}
		return writePNG(filepath.Join(opts.Out, "samples.png"), img)
	}
	start := time.Now()
	var last generator.StepStats
	save := func() error { return tr.SaveCheckpoint(opts.Out, info) }
	loop := rundir.Loop{Dir: opts.Out, Done: func() int { return tr.Step }, Total: tr.Config.Steps,
		Save: save, Diverged: generator.ErrNotFinite,
		Step: func() (string, error) {
			s, err := tr.TrainStep()
			if err != nil {
				return "", err
			}
			last = s
			writeJSONLine(metrics, s)
			desc := fmt.Sprintf("loss %.3f nll %.2f bits", s.Loss, s.NLL)
			if lastEval != nil {
				desc += fmt.Sprintf(" | held-out nll %.2f acc %.2f", lastEval.NLL, lastEval.Accuracy)
			}
			return desc, nil
		},
		Periodic: []rundir.Periodic{{N: opts.EvalEvery, F: func() error {
			if tr.Step == tr.Config.Steps {
				return nil // the final evaluation follows
			}
			return evaluate()
		}}, {N: opts.SaveEvery, F: save}},
	}
	if err := runLoop(ctx, "train-gen", loop); err != nil {
		return err
	}
	if err := evaluate(); err != nil {
		return err
	}
	res := out
	*res = genResult{Out: opts.Out, Steps: tr.Step, Seconds: time.Since(start).Seconds(), Loss: lossInfo, Train: last, HeldOut: lastEval}
	if lastEval != nil {
		info.Metrics = lastEval.Metrics()
	}
	if err := save(); err != nil {
		return err
	}
	if opts.JSON {
		return printJSON(w, res)
	}
	logf("wrote %s after %d steps in %.0f s (loss %s)", opts.Out, tr.Step, res.Seconds, lossInfo.Kind)
	if lastEval != nil {
		fprintf(w, "held-out: nll %.3f bits/token, accuracy %.3f, expected codebook distance %.4g, argmax distance %.4g\n",
			lastEval.NLL, lastEval.Accuracy, lastEval.ExpectedDistance, lastEval.ArgmaxDistance)
	}
	return nil
}

// orEncoded names a token file, or the data encoded when there is none.
func orEncoded(file string) string {
	if file == "" {
		return "the encoded data"
	}
	return file
}
