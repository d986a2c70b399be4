package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/vqvae"
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

// profileName, when set, names the key whose kernel times timeIt prints.
var profileName string

// timeIt returns the median duration of reps calls of f after warm-up calls.
func timeIt(ctx context.Context, warmup, reps int, f func() error) (time.Duration, error) {
	for range warmup {
		if err := f(); err != nil {
			return 0, err
		}
	}
	if profileName != "" {
		nn.OpTimes = map[string]time.Duration{}
		defer func() {
			printOpTimes(os.Stderr, profileName, nn.OpTimes, reps)
			nn.OpTimes = nil
		}()
	}
	ds := make([]time.Duration, reps)
	for i := range ds {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	return ds[reps/2], nil
}

func setProfile(opts benchOptions, key string) {
	if opts.Profile {
		profileName = key
	}
}

func benchVQ(ctx context.Context, opts benchOptions, out map[string]float64) error {
	r := rand.New(rand.NewPCG(1, 1))
	m, err := vqvae.New(vqvae.DefaultConfig(), r)
	if err != nil {
		return err
	}
	const n = 256
	pix := make([]float32, n*28*28)
	for i := range pix {
		pix[i] = float32(2*r.Float64() - 1)
	}
	tc := vqvae.DefaultTrainConfig()
	tc.KMeans = false
	tc.LR = 2e-4 // BENCH.md's optimiser setting
	tr, err := vqvae.NewTrainer(m, vqvae.Images{Pix: pix, N: n, C: 1, H: 28, W: 28}, tc)
	if err != nil {
		return err
	}
	setProfile(opts, "vq_train_step_ms")
	d, err := timeIt(ctx, opts.Warmup, opts.Reps, func() error { _, err := tr.TrainStep(); return err })
	if err != nil {
		return err
	}
	out["vq_train_step_ms"] = d.Seconds() * 1e3
	setProfile(opts, "vq_encode_img_per_s")
	tokens := make([]int32, n*49)
	d, err = timeIt(ctx, opts.Warmup, opts.Reps, func() error { return m.EncodeTo(tokens, pix, n) })
	if err != nil {
		return err
	}
	out["vq_encode_img_per_s"] = n / d.Seconds()
	setProfile(opts, "vq_decode_img_per_s")
	img := make([]float32, n*28*28)
	d, err = timeIt(ctx, opts.Warmup, opts.Reps, func() error { return m.DecodeTo(img, tokens, n) })
	if err != nil {
		return err
	}
	out["vq_decode_img_per_s"] = n / d.Seconds()
	return nil
}

func benchGen(ctx context.Context, opts benchOptions, out map[string]float64) error {
	r := rand.New(rand.NewPCG(2, 2))
	cfg := generator.DefaultConfig()
	const n = 256
	data := generator.Tokens{Codes: make([]int32, n*cfg.Len), Labels: make([]int32, n), N: n, Len: cfg.Len}
	for i := range data.Codes {
		data.Codes[i] = int32(r.IntN(cfg.Vocab))
	}
	for i := range data.Labels {
		data.Labels[i] = int32(r.IntN(cfg.Classes))
	}
	codes := make([]float32, cfg.Vocab*16)
	for i := range codes {
		codes[i] = float32(r.NormFloat64())
	}
	d, err := dist2.NewVectors(codes, 16, dist2.SquaredL2)
	if err != nil {
		return err
	}
	tab, err := dist2.NewTable(d, 1, 0)
	if err != nil {
		return err
	}
	losses := map[string]*dist2.Loss{
		"gen_train_step_ms_ce":    {Kind: dist2.CE},
		"gen_train_step_ms_dist2": {Kind: dist2.Dist2, Alpha: 0.1, Table: tab},
	}
	var m *generator.Model
	for _, key := range []string{"gen_train_step_ms_ce", "gen_train_step_ms_dist2"} {
		if m, err = generator.New(cfg, rand.New(rand.NewPCG(3, 3))); err != nil {
			return err
		}
		tc := generator.DefaultTrainConfig()
		tc.CondDrop = 0 // BENCH.md: no dropout in the benchmark
		tr, err := generator.NewTrainer(m, data, losses[key], tc)
		if err != nil {
			return err
		}
		setProfile(opts, key)
		dur, err := timeIt(ctx, opts.Warmup, opts.Reps, func() error { _, err := tr.TrainStep(); return err })
		if err != nil {
			return err
		}
		out[key] = dur.Seconds() * 1e3
	}
	classes := make([]int32, 64)
	for i := range classes {
		classes[i] = int32(i % cfg.Classes)
	}
	sc := generator.DefaultSampleConfig()
	setProfile(opts, "")
	dur, err := timeIt(ctx, min(opts.Warmup, 1), max(3, opts.Reps/3), func() error { _, err := m.Sample(classes, sc); return err })
	if err != nil {
		return err
	}
	out["gen_sample_img_per_s"] = float64(len(classes)) / dur.Seconds()
	return nil
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
	res := benchResult{Keys: map[string]float64{}, BLAS: blasName(), CPUs: runtime.GOMAXPROCS(0)}
	logf("bench: ref-vq on %s, %d CPUs", res.BLAS, res.CPUs)
	if err := benchVQ(ctx, opts, res.Keys); err != nil {
		return err
	}
	logf("bench: ref-gen")
	if err := benchGen(ctx, opts, res.Keys); err != nil {
		return err
	}
	if opts.Peer != "" {
		logf("bench: running the PyTorch peer %s", opts.Peer)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, opts.Python, opts.Peer, "--threads", "2",
			"--reps", fmt.Sprint(opts.Reps), "--warmup", fmt.Sprint(opts.Warmup))
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Env = os.Environ()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("peer %s: %w: %s", opts.Peer, err, lastLine(stderr.String()))
		}
		var peer map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &peer); err != nil {
			return fmt.Errorf("peer %s printed no JSON object: %w", opts.Peer, err)
		}
		res.Peer = map[string]float64{}
		for k, v := range peer {
			if f, ok := v.(float64); ok {
				res.Peer[k] = f
			}
		}
		res.Ratios = map[string]float64{}
		for k, v := range res.Keys {
			p, ok := res.Peer[k]
			if !ok || p == 0 || v == 0 {
				continue
			}
			if isRate(k) {
				res.Ratios[k] = p / v // a time ratio: PyTorch's rate over ours
			} else {
				res.Ratios[k] = v / p
			}
		}
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

func isRate(key string) bool { return len(key) > 6 && key[len(key)-6:] == "_per_s" }

func lastLine(s string) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(lines[len(lines)-1])
}
