package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vqtool/vqtool/dist2"
)

type kernelOptions struct {
	Scalar     string
	Target     int
	Tau        string
	Perplexity float64
	Distance   string
	TopK       int
	JSON       bool
	Model      string
	Token      int
}

func (o *kernelOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Scalar, "scalar", "", "scalar token values: LO:HI[:STEP] or a comma list, e.g. 0:9")
	f.IntVar(&o.Target, "target", 0, "index of the target token x (for --scalar)")
	f.StringVar(&o.Tau, "tau", "auto", "temperature: a number > 0, or auto to calibrate to --perplexity")
	f.Float64Var(&o.Perplexity, "perplexity", dist2.DefaultPerplexity, "effective neighbours that auto tau aims for")
	f.StringVar(&o.Distance, "distance", "", "scalar tokens: squared (default) or absolute; codebook: l2 (default), mse or cosine")
	f.StringVar(&o.Model, "vq", "", "VQ-VAE checkpoint folder: the kernel over its codebook")
	hiddenAlias(f, "model", "m", "vq")
	f.IntVar(&o.Token, "token", 0, "the target code (with --model)")
	f.IntVar(&o.TopK, "topk", 10, "entries to list in the text output")
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
calibrated so that the mean perplexity over all targets equals --perplexity.`,
		Example: `  vqtool kernel --scalar 0:9 --target 5 --tau 1 --distance squared --json
  vqtool kernel --scalar 0:99 --target 50 --tau auto --perplexity 4
  vqtool kernel --vq fmnist.vq --token 17 --tau auto --perplexity 8`,
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
	Tau        float64   `json:"tau"`
	TauAuto    bool      `json:"tau_auto"`
	Token      int       `json:"token"`
	Target     []float32 `json:"target"`
	Entropy    float64   `json:"entropy"`
	Perplexity float64   `json:"perplexity"`
	MeanPerp   float64   `json:"mean_perplexity"`
	Distance   string    `json:"distance"`
}

func runKernel(_ context.Context, w io.Writer, opts kernelOptions) error {
	if opts.Model != "" {
		return runCodebookKernel(w, opts)
	}
	if opts.Scalar == "" {
		return usagef("kernel needs --scalar values or a --vq checkpoint")
	}
	values, err := parseScalars(opts.Scalar)
	if err != nil {
		return usageError{err}
	}
	kind := dist2.Squared
	switch opts.Distance {
	case "squared", "":
	case "absolute":
		kind = dist2.Absolute
	default:
		return usagef("--distance %q: want squared or absolute", opts.Distance)
	}
	if opts.Target < 0 || opts.Target >= len(values) {
		return usagef("--target %d: want a token index in [0, %d)", opts.Target, len(values))
	}
	d := dist2.Scalar{Values: values, Kind: kind}
	res, err := kernelRow(d, opts.Target, opts.Tau, opts.Perplexity)
	if err != nil {
		return err
	}
	res.Distance = kind.String()
	if opts.JSON {
		return printJSON(w, res)
	}
	printKernel(w, res, func(v int) string { return strconv.FormatFloat(float64(values[v]), 'g', -1, 32) }, opts.TopK)
	return nil
}

// runCodebookKernel shows p_d(. | token) over a VQ checkpoint's codebook.
func runCodebookKernel(w io.Writer, opts kernelOptions) error {
	m, _, err := loadVQ(opts.Model)
	if err != nil {
		return err
	}
	name := opts.Distance
	if name == "" {
		name = "l2"
	}
	kind, err := dist2.ParseVectorKind(name)
	if err != nil {
		return usageError{err}
	}
	if opts.Token < 0 || opts.Token >= m.Config.CodebookSize {
		return usagef("--token %d: want a code in [0, %d)", opts.Token, m.Config.CodebookSize)
	}
	d, err := m.Codebook.Distance(kind)
	if err != nil {
		return err
	}
	res, err := kernelRow(d, opts.Token, opts.Tau, opts.Perplexity)
	if err != nil {
		return err
	}
	res.Distance = name
	if opts.JSON {
		return printJSON(w, res)
	}
	printKernel(w, res, strconv.Itoa, opts.TopK)
	return nil
}

// kernelRow builds the target row of token x, calibrating tau when asked.
func kernelRow(d dist2.Distance, x int, tauFlag string, perplexity float64) (kernelResult, error) {
	res := kernelResult{Token: x}
	if tauFlag == "auto" {
		tau, _, err := dist2.Calibrate(d, perplexity)
		if err != nil {
			return res, usageError{err}
		}
		res.Tau, res.TauAuto = tau, true
	} else {
		tau, err := strconv.ParseFloat(tauFlag, 64)
		if err != nil || !(tau > 0) || math.IsInf(tau, 1) {
			return res, usagef("--tau %q: want a number > 0 or auto", tauFlag)
		}
		res.Tau = tau
	}
	tab, err := dist2.NewTable(d, res.Tau, 0)
	if err != nil {
		return res, err
	}
	_, p := tab.Row(x)
	res.Target = p
	res.Entropy = -float64(tab.NegEnt[x])
	res.Perplexity = math.Exp(res.Entropy)
	res.MeanPerp = tab.MeanPerplexity()
	return res, nil
}

// printKernel lists the most probable entries of a target row with bars.
func printKernel(w io.Writer, res kernelResult, name func(v int) string, top int) {
	mode := "given"
	if res.TauAuto {
		mode = "auto"
	}
	fprintf(w, "tau %.6g (%s)   target token %s   entropy %.4f nats   perplexity %.3f   mean perplexity %.3f\n",
		res.Tau, mode, name(res.Token), res.Entropy, res.Perplexity, res.MeanPerp)
	order := make([]int, len(res.Target))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return res.Target[order[a]] > res.Target[order[b]] })
	if top <= 0 || top > len(order) {
		top = len(order)
	}
	for _, v := range order[:top] {
		p := res.Target[v]
		fprintf(w, "%8s  %.6f  %s\n", name(v), p, strings.Repeat("#", int(math.Round(float64(p)*50))))
	}
}

// parseScalars reads "LO:HI[:STEP]" (inclusive) or "a,b,c".
func parseScalars(s string) ([]float32, error) {
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return nil, fmt.Errorf("--scalar %q: want LO:HI or LO:HI:STEP", s)
		}
		nums := make([]float64, len(parts))
		for i, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, fmt.Errorf("--scalar %q: %q is not a number", s, p)
			}
			nums[i] = v
		}
		step := 1.0
		if len(nums) == 3 {
			step = nums[2]
		}
		if !(step > 0) || nums[1] < nums[0] {
			return nil, fmt.Errorf("--scalar %q: want LO <= HI and STEP > 0", s)
		}
		n := int(math.Floor((nums[1]-nums[0])/step+1e-9)) + 1
		if n < 2 || n > 1<<20 {
			return nil, fmt.Errorf("--scalar %q: %d tokens: want 2 to %d", s, n, 1<<20)
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(nums[0] + float64(i)*step)
		}
		return out, nil
	}
	var out []float32
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return nil, fmt.Errorf("--scalar %q: %q is not a number", s, p)
		}
		out = append(out, float32(v))
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("--scalar %q: want at least 2 tokens", s)
	}
	return out, nil
}
