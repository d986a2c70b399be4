package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/internal/bench"
)

type benchOptions struct {
	Reps    int
	Warmup  int
	Peer    string
	Python  string
	Profile bool
	JSON    bool
}

func newBenchCommand() *cobra.Command {
	var opts benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time ref-vq and ref-gen (BENCH.md keys), optionally beside the PyTorch peer",
		Long: `bench times ref-vq (a training step at batch 64, encoding and decoding at
batch 256) and ref-gen (a training step at batch 64 with CE and with DIST2Loss,
sampling 64 grids with the KV cache), float32, each the median of --reps runs
after --warmup.
With --peer it also runs the PyTorch peer script in the same session and
reports ratios (vqtool time / PyTorch time: under 1.0 is faster).`,
		Example: `  vqtool bench --json
  vqtool bench --peer ../shared/bench/peer_torch.py`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Reps, "reps", 10, "timed repetitions")
	f.IntVar(&opts.Warmup, "warmup", 3, "untimed repetitions first")
	f.StringVar(&opts.Peer, "peer", "", "PyTorch peer script to run with --threads 2 and compare against")
	f.StringVar(&opts.Python, "python", "/usr/bin/python3", "interpreter for --peer")
	f.BoolVar(&opts.Profile, "profile", false, "print the time spent in each kernel (forward and gradient) per key")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

// benchResult is what bench prints with --json: the project's figures under
// BENCH.md's keys, and with --peer the peer's figures and the ratios.
type benchResult struct {
	Keys   map[string]float64 `json:"vqtool"`
	Peer   map[string]float64 `json:"pytorch,omitempty"`
	Ratios map[string]float64 `json:"ratio,omitempty"` // vqtool time / PyTorch time
	BLAS   string             `json:"blas"`
	CPUs   int                `json:"cpus"`
}

func runBench(ctx context.Context, w io.Writer, opts benchOptions) error {
	if opts.Reps < 1 || opts.Warmup < 0 {
		return usagef("--reps %d --warmup %d: want reps >= 1, warmup >= 0", opts.Reps, opts.Warmup)
	}
	res := benchResult{BLAS: blasName(), CPUs: runtime.GOMAXPROCS(0)}
	logf("bench: %s, %d CPUs", res.BLAS, res.CPUs)
	bo := bench.Options{Reps: opts.Reps, Warmup: opts.Warmup, Logf: logf}
	if opts.Profile {
		bo.Profile = func(key string, times map[string]time.Duration, reps int) { printOpTimes(os.Stderr, key, times, reps) }
	}
	var err error
	if res.Keys, err = bench.Run(ctx, bo); err != nil {
		return err
	}
	if opts.Peer != "" {
		logf("bench: running the PyTorch peer %s", opts.Peer)
		if res.Peer, err = bench.Peer(ctx, opts.Python, opts.Peer, opts.Reps, opts.Warmup); err != nil {
			return err
		}
		res.Ratios = bench.Ratios(res.Keys, res.Peer)
	}
	if opts.JSON {
		return printJSON(w, res)
	}
	keys := make([]string, 0, len(res.Keys))
	for k := range res.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fprintf(w, "%-26s %12s %12s %8s\n", "key", "vqtool", "pytorch", "ratio")
	for _, k := range keys {
		p, r := "-", "-"
		if v, ok := res.Peer[k]; ok {
			p = fmt.Sprintf("%.1f", v)
		}
		if v, ok := res.Ratios[k]; ok {
			r = fmt.Sprintf("%.2f", v)
		}
		fprintf(w, "%-26s %12.1f %12s %8s\n", k, res.Keys[k], p, r)
	}
	fprintf(w, "ratio = vqtool time / PyTorch time (under 1.0: faster than PyTorch)\n")
	return nil
}

// printOpTimes lists kernel times per call of the timed function, largest first.
func printOpTimes(w io.Writer, key string, times map[string]time.Duration, reps int) {
	names := make([]string, 0, len(times))
	var total time.Duration
	for k, v := range times {
		names = append(names, k)
		total += v
	}
	sort.Slice(names, func(i, j int) bool { return times[names[i]] > times[names[j]] })
	fprintf(w, "%s: %.1f ms in kernels per call\n", key, total.Seconds()*1e3/float64(reps))
	for _, k := range names {
		fprintf(w, "  %-24s %8.2f ms\n", k, times[k].Seconds()*1e3/float64(reps))
	}
}
