package main

import (
	"context"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/imageio"
)

type kernelOptions struct {
	lossOptions // --tau, --perplexity, --distance
	Scalar      string
	Target      int
	Show        int
	JSON        bool
	Model       string
	Codebook    string
	Token       int
}

func (o *kernelOptions) AddFlags(cmd *cobra.Command) {
	o.lossOptions.addFlags(cmd, targetFlags)
	f := cmd.Flags()
	f.StringVar(&o.Scalar, "scalar", "", "scalar token values: LO:HI[:STEP] or a comma list, e.g. 0:9")
	f.IntVar(&o.Target, "target", 0, "index of the target token x (for --scalar)")
	f.StringVar(&o.Model, "vq", "", "VQ-VAE checkpoint folder: the kernel over its codebook")
	hiddenAlias(f, "model", "m", "vq")
	f.StringVar(&o.Codebook, "codebook", "", "a codebook [K, D] as a float .npy file (numpy.save; float16, 32 or 64), instead of --vq: LlamaGen's, say")
	f.IntVar(&o.Token, "token", 0, "the target code (with --vq or --codebook)")
	f.IntVar(&o.Show, "show", 10, "entries to list in the text output (0: all)")
	hiddenAlias(f, "topk", "", "show")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
}

func newKernelCommand() *cobra.Command {
	var opts kernelOptions
	cmd := &cobra.Command{
		Use:   "kernel",
		Short: "Show the DIST2 target p_d(. | x) for a token, to choose tau",
		Long: `kernel prints the DIST2 target distribution p_d(v | x) = softmax(-d(v, x)/tau)
over the metric vocabulary for one target token x, with its entropy and
perplexity (the effective number of neighbours). With --tau auto, tau is
calibrated so that the mean perplexity over all targets equals --perplexity,
as train-gen calibrates it. Between --scalar values, --distance is l2 (the
squared difference) or absolute.`,
		Example: `  vqtool kernel --scalar 0:9 --target 5 --tau 1 --json
  vqtool kernel --scalar 0:99 --target 50 --tau auto --perplexity 4
  vqtool kernel --vq fmnist.vq --token 17 --tau auto --perplexity 8
  vqtool kernel --codebook vq_ds16_c2i_codebook.npy --token 17 --tau auto --perplexity 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKernel(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

// kernelResult is what kernel prints with --json.
type kernelResult struct {
	dist2.Target
	Distance string `json:"distance"`
}

func runKernel(_ context.Context, w io.Writer, opts kernelOptions) error {
	spec, err := opts.spec()
	if err != nil {
		return err
	}
	var d dist2.Distance
	name := func(v int) string { return strconv.Itoa(v) }
	x, distance := opts.Token, opts.Distance
	switch {
	case opts.Model != "" && opts.Codebook != "":
		return usagef("--vq %q, --codebook %q: want one of them", opts.Model, opts.Codebook)
	case opts.Codebook != "":
		kind, err := dist2.ParseVectorKind(distance)
		if err != nil {
			return lossFlagError(err)
		}
		vecs, k, dim, err := imageio.LoadMatrix(opts.Codebook)
		if err != nil {
			return err
		}
		if x < 0 || x >= k {
			return usagef("--token %d: want a code in [0, %d)", x, k)
		}
		if d, err = dist2.NewVectors(vecs, dim, kind); err != nil {
			return err
		}
	case opts.Model != "":
		m, _, kind, err := loadVQDistance(opts.Model, distance)
		if err != nil {
			return err
		}
		if x < 0 || x >= m.Config.CodebookSize {
			return usagef("--token %d: want a code in [0, %d)", x, m.Config.CodebookSize)
		}
		if d, err = m.Codebook.Distance(kind); err != nil {
			return err
		}
	case opts.Scalar != "":
		values, err := dist2.ParseScalars(opts.Scalar)
		if err != nil {
			return usagef("--scalar: %v", err)
		}
		kind, err := dist2.ParseScalarKind(distance)
		if err != nil {
			return lossFlagError(err)
		}
		if x = opts.Target; x < 0 || x >= len(values) {
			return usagef("--target %d: want a token index in [0, %d)", x, len(values))
		}
		d, distance = dist2.Scalar{Values: values, Kind: kind}, kind.String()
		name = func(v int) string { return strconv.FormatFloat(float64(values[v]), 'g', -1, 32) }
	default:
		return usagef("kernel needs --scalar values, a --vq checkpoint or a --codebook .npy")
	}
	row, err := dist2.TargetRow(d, x, spec.Tau, spec.Perplexity)
	if err != nil {
		return lossFlagError(err)
	}
	if opts.JSON {
		return printJSON(w, kernelResult{Target: row, Distance: distance})
	}
	mode := map[bool]string{true: "auto", false: "given"}[row.TauAuto]
	fprintf(w, "tau %.6g (%s)   target token %s   entropy %.4f nats   perplexity %.3f   mean perplexity %.3f\n",
		row.Tau, mode, name(x), row.Entropy, row.Perplexity, row.MeanPerplexity)
	for _, v := range row.Top(opts.Show) {
		p := row.P[v]
		fprintf(w, "%8s  %.6f  %s\n", name(v), p, strings.Repeat("#", int(math.Round(float64(p)*50))))
	}
	return nil
}
