package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
)

func newTargetsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "targets",
		Short: "DIST2 target tables for other trainers (PyTorch, LlamaGen)",
	}
	cmd.AddCommand(newTargetsExportCommand())
	return cmd
}

type targetsExportOptions struct {
	lossOptions       // --tau, --perplexity, --distance, --target-topk
	VQ, Codebook, Out string
	JSON              bool
}

func newTargetsExportCommand() *cobra.Command {
	var o targetsExportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the target rows p_d(. | x) of a codebook as safetensors",
		Long: `export builds p_d(v | x) = softmax(-d(v, x)/tau) for every code x of a
tokenizer (--vq) or of any codebook saved as a float .npy [K, D] (--codebook:
float16, float32 or float64, LlamaGen's for one) and writes them as
safetensors: "probs" [K, K] float32 when dense, or "indices" [K, k] int64
(nearest first) and "probs" [K, k] float32 renormalised over those entries,
with the metadata codebook_size (K), target_topk (k, K when dense), distance,
tau, tau_auto, perplexity_full (mean exp(entropy) of the untruncated rows,
over 1,024 evenly spaced rows when K > 1,024), perplexity_kept (the same of
the rows as written, exact), dropped_mass_mean and _max, and codebook.
docs/pytorch.md shows the loss that reads it.`,
		Example: `  vqtool targets export --vq fmnist.vq --out targets.safetensors
  vqtool targets export --codebook llamagen_codebook.npy --target-topk 64 --perplexity 8 --out targets.safetensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTargetsExport(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.VQ, "vq", "", "tokenizer checkpoint folder whose codebook to use")
	f.StringVar(&o.Codebook, "codebook", "", "a codebook [K, D] as a float .npy file (instead of --vq)")
	o.lossOptions.addFlags(cmd, targetFlags|targetTopKFlag)
	f.StringVarP(&o.Out, "out", "o", "targets.safetensors", "file to write")
	f.BoolVar(&o.JSON, "json", false, "print a summary as one JSON object")
	return cmd
}

// targetsSummary is what export reports.
type targetsSummary struct {
	Out            string  `json:"out"`
	CodebookSize   int     `json:"codebook_size"`
	Dim            int     `json:"dim"`
	TopK           int     `json:"topk"`
	Distance       string  `json:"distance"`
	Tau            float64 `json:"tau"`
	TauAuto        bool    `json:"tau_auto"`
	Perplexity     float64 `json:"perplexity"`
	DroppedMean    float64 `json:"dropped_mass_mean"`
	DroppedMax     float64 `json:"dropped_mass_max"`
	Seconds        float64 `json:"seconds"`
	SourceCodebook string  `json:"codebook"`
}

func runTargetsExport(_ context.Context, w io.Writer, o targetsExportOptions) error {
	spec, err := o.spec()
	if err != nil {
		return err
	}
	var vecs []float32
	var k, d int
	switch {
	case (o.VQ == "") == (o.Codebook == ""):
		return usagef("--vq %q, --codebook %q: want exactly one of them", o.VQ, o.Codebook)
	case o.VQ != "":
		vq, _, err := loadVQ(o.VQ)
		if err != nil {
			return err
		}
		vecs, k, d = vq.Codebook.E, vq.Codebook.CodebookSize, vq.Codebook.D
	default:
		if vecs, k, d, err = imageio.LoadMatrix(o.Codebook); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := checkTargetsMemory(spec, k); err != nil {
		return err
	}
	var dist dist2.Distance
	tab, b, err := spec.Table(func(kind dist2.VectorKind) (dist2.Distance, error) {
		dist, err = dist2.NewVectors(vecs, d, kind)
		return dist, err
	})
	if err != nil {
		return lossFlagError(err)
	}
	full := b.Perplexity // the calibration's, of the untruncated rows
	if !b.TauAuto {
		if full, err = dist2.FullPerplexity(dist, b.Tau); err != nil {
			return err
		}
	}
	mean, worst := tab.DroppedMass()
	src := o.Codebook
	if src == "" {
		src = o.VQ
	}
	s := targetsSummary{Out: o.Out, CodebookSize: k, Dim: d, TopK: tab.TopK, Distance: o.Distance, Tau: b.Tau, TauAuto: b.TauAuto,
		Perplexity: b.Perplexity, DroppedMean: mean, DroppedMax: worst, Seconds: time.Since(start).Seconds(), SourceCodebook: src}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	meta := map[string]string{"format": "vqtool.dist2.targets", "version": "1", "layout": map[bool]string{true: "dense", false: "topk"}[tab.Dense()],
		"codebook_size": strconv.Itoa(k), "target_topk": strconv.Itoa(tab.TopK), "distance": o.Distance, "tau": g(b.Tau), "tau_auto": strconv.FormatBool(b.TauAuto),
		"perplexity_full": g(full), "perplexity_kept": g(tab.MeanPerplexity()), "dropped_mass_mean": g(mean), "dropped_mass_max": g(worst), "codebook": src}
	if err := imageio.WriteTargets(o.Out, imageio.Targets{CodebookSize: k, TopK: tab.TopK, Indices: tab.Idx, Probs: tab.P, Meta: meta}); err != nil {
		return err
	}
	if o.JSON {
		return printJSON(w, s)
	}
	logf("targets: %d codes of %d dimensions, %s, tau %.6g (%s), mean perplexity %.2f, %d entries a row, dropped mass %.2g mean, %.2g max, %.1f s",
		k, d, o.Distance, b.Tau, map[bool]string{true: "auto", false: "given"}[b.TauAuto], b.Perplexity, tab.TopK, mean, worst, s.Seconds)
	logf("wrote %s", o.Out)
	return nil
}

// checkTargetsMemory refuses, before building it, a target table of k codes
// (and the rows calibrating its tau reads) beyond --max-memory.
func checkTargetsMemory(s dist2.Spec, k int) error {
	what := fmt.Sprintf("targets of %d codes, %d entries a row", k, s.EntriesPerRow(k))
	less := "keep fewer entries a row with --target-topk (64, say)"
	if s.Tau == 0 {
		what += ", tau calibrated"
		less = "give a --tau instead of calibrating it, or " + less
	}
	return checkMemory(s.Bytes(k), what, less)
}
