package main

import (
	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
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
	if err != nil {
		return nil, generator.LossInfo{}, err
	}
	l, b, err := vq.Loss(s)
	if err != nil {
		return nil, b, usageError{err}
	}
	return l, b, nil
}
