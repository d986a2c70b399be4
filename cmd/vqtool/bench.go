package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/cpu"

	"github.com/vqtool/vqtool/bench"
	"github.com/vqtool/vqtool/internal/gemm"
)

type benchOptions struct {
	Rounds  int
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
		Short: "Time ref-vq and ref-gen (the keys of docs/performance.md), optionally beside the PyTorch peer",
		Long: `bench times ref-vq (a training step at batch 64, encoding and decoding at
batch 256) and ref-gen (a training step at batch 64 with CE and with DIST2Loss,
sampling 64 grids with the KV cache), float32, each the median of --reps runs
after --warmup.
With --peer it also runs the PyTorch peer script in the same session and
reports ratios (vqtool time / PyTorch time: under 1.0 is faster).
With --rounds N it runs vqtool's keys and then the peer N times, back to
back, and reports the median of each side's figures and of the rounds'
ratios, with the range of the ratios: a machine whose speed drifts from
minute to minute moves one round's ratio more than the median.`,
		Example: `  vqtool bench --json
  vqtool bench --peer bench/peer_torch.py
  vqtool bench --peer bench/peer_torch.py --rounds 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Rounds, "rounds", 1, "times to run every key (and the peer after them); the medians are reported")
	f.IntVar(&opts.Reps, "reps", 10, "timed repetitions")
	f.IntVar(&opts.Warmup, "warmup", 3, "untimed repetitions first")
	f.StringVar(&opts.Peer, "peer", "", "PyTorch peer script to run with --threads 2 and compare against")
	f.StringVar(&opts.Python, "python", "/usr/bin/python3", "interpreter for --peer")
	f.BoolVar(&opts.Profile, "profile", false, "print the time spent in each kernel (forward and gradient) per key")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

// benchResult is what bench prints with --json: the project's figures under
// The reference keys (docs/performance.md), and with --peer the peer's figures and the ratios.
type benchResult struct {
	Keys   map[string]float64 `json:"vqtool"`
	Peer   map[string]float64 `json:"pytorch,omitempty"`
	Ratios map[string]float64 `json:"ratio,omitempty"` // vqtool time / PyTorch time
	// Rounds are each round's figures when there are more than one; the
	// maps above are then their medians.
	Rounds []bench.Round `json:"rounds,omitempty"`
	BLAS   string        `json:"blas"`
	CPUs   int           `json:"cpus"`
	// PeerEnv is what the peer ran with besides the environment (bench.PeerEnv).
	PeerEnv []string `json:"peer_env,omitempty"`
}

func runBench(ctx context.Context, w io.Writer, opts benchOptions) error {
	if opts.Reps < 1 || opts.Warmup < 0 || opts.Rounds < 1 {
		return usagef("--rounds %d --reps %d --warmup %d: want rounds >= 1, reps >= 1, warmup >= 0", opts.Rounds, opts.Reps, opts.Warmup)
	}
	res := benchResult{BLAS: blasName(), CPUs: runtime.GOMAXPROCS(0)}
	logf("bench: %s, %d CPUs", res.BLAS, res.CPUs)
	bo := bench.Options{Reps: opts.Reps, Warmup: opts.Warmup, Logf: logf}
	if opts.Profile {
		bo.Profile = func(key string, times map[string]time.Duration, reps int) { printOpTimes(os.Stderr, key, times, reps) }
	}
	var peer func() (map[string]float64, error)
	if opts.Peer != "" {
		env := bench.PeerEnv(gemm.Path(), cpu.X86.HasAVX2 && cpu.X86.HasFMA)
		res.PeerEnv = env
		peer = func() (map[string]float64, error) {
			logf("bench: running the PyTorch peer %s %s", opts.Peer, strings.Join(env, " "))
			return bench.Peer(ctx, opts.Python, opts.Peer, opts.Reps, opts.Warmup, env)
		}
	}
	var err error
	if res.Rounds, err = bench.Rounds(ctx, bo, opts.Rounds, peer); err != nil {
		return err
	}
	res.Keys, res.Peer, res.Ratios = bench.Summary(res.Rounds)
	if opts.Rounds == 1 {
		res.Rounds = nil
	}
	if opts.JSON {
		return printJSON(w, res)
	}
	keys := make([]string, 0, len(res.Keys))
	for k := range res.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fprintf(w, "%-26s %12s %12s %8s", "key", "vqtool", "pytorch", "ratio")
	if len(res.Rounds) > 1 {
		fprintf(w, " %12s", "ratio range")
	}
	fprintf(w, "\n")
	for _, k := range keys {
		p, r := "-", "-"
		if v, ok := res.Peer[k]; ok {
			p = fmt.Sprintf("%.1f", v)
		}
		if v, ok := res.Ratios[k]; ok {
			r = fmt.Sprintf("%.2f", v)
		}
		fprintf(w, "%-26s %12.1f %12s %8s", k, res.Keys[k], p, r)
		if len(res.Rounds) > 1 && r != "-" {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, round := range res.Rounds {
				lo, hi = min(lo, round.Ratios[k]), max(hi, round.Ratios[k])
			}
			fprintf(w, "    %.2f-%.2f", lo, hi)
		}
		fprintf(w, "\n")
	}
	fprintf(w, "ratio = vqtool time / PyTorch time (under 1.0: faster than PyTorch)")
	if len(res.Rounds) > 1 {
		fprintf(w, "; figures and ratios are medians over %d rounds", len(res.Rounds))
	}
	fprintf(w, "\n")
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
