package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/vqvae"
)

// lossOptions are the flags of the loss, defined here once: train-gen takes
// them all, and the commands that show or export DIST2 targets take the ones
// they use (addFlags), with the same names, wording and errors.
type lossOptions struct {
	Loss       string
	Alpha      float64
	Tau        string
	Perplexity float64
	Distance   string
	TopK       int // --target-topk
	Smoothing  float64
}

// lossFlag selects flags of lossOptions.
type lossFlag uint

const (
	lossKindFlag lossFlag = 1 << iota // --loss
	alphaFlag
	tauFlag
	perplexityFlag
	distanceFlag
	targetTopKFlag
	smoothingFlag

	// targetFlags make a target row p_d: what kernel and explore take.
	targetFlags  = tauFlag | perplexityFlag | distanceFlag
	allLossFlags = lossKindFlag | alphaFlag | targetFlags | targetTopKFlag | smoothingFlag
)

// The wording of loss flags that other commands define too (the study's
// design, the codebook's views).
const (
	distanceUsage  = "distance between codes: l2 (squared), mse or cosine"
	smoothingUsage = "smooth: uniform label-smoothing mass"
)

// flagOf names the flag of each dist2.Spec field, by its JSON name.
var flagOf = map[string]string{"kind": "loss", "alpha": "alpha", "tau": "tau", "perplexity": "perplexity",
	"distance": "distance", "target_topk": "target-topk", "smoothing": "smoothing"}

// defaultLossOptions is DIST2 with the library's defaults.
func defaultLossOptions() lossOptions {
	d := dist2.DefaultSpec()
	return lossOptions{Loss: d.Kind, Alpha: d.Alpha, Tau: "auto", Perplexity: d.Perplexity, Distance: d.Distance,
		TopK: d.TargetTopK, Smoothing: 0.1}
}

// AddFlags defines every flag of the loss.
func (o *lossOptions) AddFlags(cmd *cobra.Command) { o.addFlags(cmd, allLossFlags) }

// addFlags defines the flags of the loss that which selects.
func (o *lossOptions) addFlags(cmd *cobra.Command, which lossFlag) {
	d := defaultLossOptions()
	f := cmd.Flags()
	if which&lossKindFlag != 0 {
		f.StringVar(&o.Loss, "loss", d.Loss, "training loss: dist2, ce or smooth")
	}
	if which&alphaFlag != 0 {
		f.Float64Var(&o.Alpha, "alpha", d.Alpha, "dist2: weight of KL(p_d || p_theta)")
	}
	if which&tauFlag != 0 {
		f.StringVar(&o.Tau, "tau", d.Tau, "temperature of the DIST2 targets p_d = softmax(-d/tau): a number > 0, or auto (calibrated to --perplexity)")
	}
	if which&perplexityFlag != 0 {
		f.Float64Var(&o.Perplexity, "perplexity", d.Perplexity, "mean effective neighbours of a target row, for --tau auto (0: 8, or half the codebook size when that is smaller)")
	}
	if which&distanceFlag != 0 {
		f.StringVar(&o.Distance, "distance", d.Distance, distanceUsage)
	}
	if which&targetTopKFlag != 0 {
		f.IntVar(&o.TopK, "target-topk", d.TopK, "entries kept of each target row, nearest first (0: dense; -1: 64 when the codebook has more than 2048 codes, else dense)")
		hiddenAlias(f, "topk", "", "target-topk")
	}
	if which&smoothingFlag != 0 {
		f.Float64Var(&o.Smoothing, "smoothing", d.Smoothing, smoothingUsage)
	}
}

// spec is the loss the flags describe. Its settings are checked where
// dist2 uses them; lossFlagError names the flag of a bad one.
func (o lossOptions) spec() (dist2.Spec, error) {
	tau, err := dist2.ParseTau(o.Tau)
	if err != nil {
		return dist2.Spec{}, lossFlagError(err)
	}
	return dist2.Spec{Kind: o.Loss, Alpha: o.Alpha, Tau: tau, Perplexity: o.Perplexity, Distance: o.Distance,
		TargetTopK: o.TopK, Smoothing: o.Smoothing}, nil
}

// lossFlagError turns a setting dist2 refused into a usage error that names
// its flag, the value and what is wanted; other errors pass unchanged.
func lossFlagError(err error) error {
	var se *dist2.SettingError
	if errors.As(err, &se) {
		return usagef("--%s %s: want %s", flagOf[se.Field], se.Value, se.Want)
	}
	return err
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
		return nil, b, lossFlagError(err)
	}
	return l, b, nil
}
