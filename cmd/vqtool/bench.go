package main

import (
	"context"
	"io"
	"runtime"
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

func runBench(ctx context.Context, w io.Writer, opts benchOptions) error {
	blas, cpus := blasName(), runtime.GOMAXPROCS(0)
	logf("bench: %s, %d CPUs", blas, cpus)
	bo := bench.Options{Reps: opts.Reps, Warmup: opts.Warmup, Logf: logf}
	if opts.Profile {
		bo.Profile = func(key string, times map[string]time.Duration, reps int) {
			_ = bench.WriteOpTimes(stderr, key, times, reps)
		}
	}
	var peer func() (map[string]float64, error)
	var env []string
	if opts.Peer != "" {
		env = bench.PeerEnv(gemm.Path(), cpu.X86.HasAVX2 && cpu.X86.HasFMA)
		peer = func() (map[string]float64, error) {
			logf("bench: running the PyTorch peer %s %s", opts.Peer, strings.Join(env, " "))
			return bench.Peer(ctx, opts.Python, opts.Peer, opts.Reps, opts.Warmup, env)
		}
	}
	rounds, err := bench.Rounds(ctx, bo, opts.Rounds, peer)
	if err != nil {
		return err
	}
	res := bench.NewReport(rounds, blas, cpus, env)
	if opts.JSON {
		return printJSON(w, res)
	}
	return res.WriteText(w)
}
