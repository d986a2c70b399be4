// Package bench times the reference workloads of docs/performance.md (ref-vq and
// ref-gen, float32) under its keys, and runs the PyTorch peer script that
// times the same workloads, so that the two can be compared in one session.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/nn"
	"github.com/vqtool/vqtool/vqvae"
)

// Options say how to time.
type Options struct {
	Reps, Warmup int // timed calls (the median is kept), after untimed ones
	// Profile, if not nil, hears the time each kernel took over the timed
	// calls of a key.
	Profile func(key string, kernels map[string]time.Duration, reps int)
	Logf    func(format string, args ...any) // progress; nil is silent
}

// Run times every key: vq_train_step_ms, vq_encode_img_per_s,
// vq_decode_img_per_s, gen_train_step_ms_ce, gen_train_step_ms_dist2 and
// gen_sample_img_per_s.
func Run(ctx context.Context, o Options) (map[string]float64, error) {
	if o.Reps < 1 || o.Warmup < 0 {
		return nil, fmt.Errorf("bench: %d reps after %d warm-up calls: want reps >= 1, warm-up >= 0", o.Reps, o.Warmup)
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	out := map[string]float64{}
	logf("bench: ref-vq")
	if err := o.vq(ctx, out); err != nil {
		return nil, err
	}
	logf("bench: ref-gen")
	if err := o.gen(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// PeerEnv returns the settings ("KEY=value") the peer runs with besides the
// environment, so that it runs as it would on a processor of the kernel
// path in use, path (gemm.Path()), with hasAVX2 saying whether the processor
// has AVX2 and FMA:
//   - OPENBLAS_CORETYPE=Haswell when unset on an AVX2 processor: PyTorch's
//     matrix products run in OpenBLAS, and Debian's build takes AVX-512
//     processors for a Prescott (SSE3), which would handicap the peer.
//   - On the avx2 path, ONEDNN_MAX_CPU_ISA=AVX2 and ATEN_CPU_CAPABILITY=avx2:
//     VQTOOL_CPU=avx2 on an AVX-512 processor stands in for an AVX2 one, and
//     PyTorch is held to the same instructions (its convolutions would
//     otherwise run on AVX-512).
//
// A variable already set is left as it is.
func PeerEnv(path string, hasAVX2 bool) []string {
	var env []string
	set := func(k, v string) {
		if _, ok := os.LookupEnv(k); !ok {
			env = append(env, k+"="+v)
		}
	}
	if hasAVX2 {
		set("OPENBLAS_CORETYPE", "Haswell")
	}
	if path == "avx2" {
		set("ONEDNN_MAX_CPU_ISA", "AVX2")
		set("ATEN_CPU_CAPABILITY", "avx2")
	}
	return env
}

// Peer runs the PyTorch peer script with python on two threads, with the
// environment and env added, and returns the numbers it printed under the
// same keys.
func Peer(ctx context.Context, python, script string, reps, warmup int, env []string) (map[string]float64, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, script, "--threads", "2", "--reps", fmt.Sprint(reps), "--warmup", fmt.Sprint(warmup))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: peer %s: %w: %s", script, err, lastLine(stderr.String()))
	}
	var printed map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &printed); err != nil {
		return nil, fmt.Errorf("bench: peer %s printed no JSON object: %w", script, err)
	}
	peer := map[string]float64{}
	for k, v := range printed {
		if f, ok := v.(float64); ok {
			peer[k] = f
		}
	}
	return peer, nil
}

// Ratios are time ratios, ours over the peer's, for the keys both have:
// under 1 is faster than the peer. Rates (keys ending in _per_s) are
// inverted first.
func Ratios(ours, peer map[string]float64) map[string]float64 {
	r := map[string]float64{}
	for k, v := range ours {
		p, ok := peer[k]
		if !ok || p == 0 || v == 0 {
			continue
		}
		if IsRate(k) {
			r[k] = p / v
		} else {
			r[k] = v / p
		}
	}
	return r
}

// A Round is one run of every key and, with a peer, the peer's run after it.
type Round struct {
	Keys   map[string]float64 `json:"vqtool"`
	Peer   map[string]float64 `json:"pytorch,omitempty"`
	Ratios map[string]float64 `json:"ratio,omitempty"` // ours over the peer's, as Ratios
}

// Rounds runs every key n times, each run followed by peer's when peer is
// not nil: back to back, so that each round's ratios pair figures taken
// under the same load.
func Rounds(ctx context.Context, o Options, n int, peer func() (map[string]float64, error)) ([]Round, error) {
	rounds := make([]Round, n)
	for i := range rounds {
		if n > 1 && o.Logf != nil {
			o.Logf("bench: round %d of %d", i+1, n)
		}
		r := &rounds[i]
		var err error
		if r.Keys, err = Run(ctx, o); err != nil {
			return nil, err
		}
		if peer != nil {
			if r.Peer, err = peer(); err != nil {
				return nil, err
			}
			r.Ratios = Ratios(r.Keys, r.Peer)
		}
	}
	return rounds, nil
}

// Summary returns the medians over the rounds of our figures, the peer's
// and the rounds' ratios (nil without a peer).
func Summary(rounds []Round) (keys, peer, ratios map[string]float64) {
	var k, p, r []map[string]float64
	for _, round := range rounds {
		k = append(k, round.Keys)
		if round.Peer != nil {
			p, r = append(p, round.Peer), append(r, round.Ratios)
		}
	}
	return Median(k), Median(p), Median(r)
}

// Median returns, for each key that every round has, the median of the
// rounds' figures (the mean of the middle two for an even count). Figures
// from rounds run back to back, ours then the peer's, and their ratios per
// round, are what it is for: on a machine whose speed drifts, the median
// of paired ratios moves less than one round's.
func Median(rounds []map[string]float64) map[string]float64 {
	if len(rounds) == 0 {
		return nil
	}
	out := map[string]float64{}
	for k := range rounds[0] {
		vs := make([]float64, 0, len(rounds))
		for _, r := range rounds {
			if v, ok := r[k]; ok {
				vs = append(vs, v)
			}
		}
		if len(vs) < len(rounds) {
			continue
		}
		slices.Sort(vs)
		h := len(vs) / 2
		out[k] = vs[h]
		if len(vs)%2 == 0 {
			out[k] = (vs[h-1] + vs[h]) / 2
		}
	}
	return out
}

// IsRate reports whether a key is a rate (higher is faster) rather than a time.
func IsRate(key string) bool { return len(key) > 6 && key[len(key)-6:] == "_per_s" }

func lastLine(s string) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(lines[len(lines)-1])
}

// timeIt returns the median duration of reps calls of f after warm-up calls,
// and hands the kernel times of the timed calls to o.Profile under key.
func (o Options) timeIt(ctx context.Context, key string, warmup, reps int, f func() error) (time.Duration, error) {
	for range warmup {
		if err := f(); err != nil {
			return 0, err
		}
	}
	runtime.GC() // the garbage of earlier keys goes now, not during the timed calls
	if o.Profile != nil && key != "" {
		nn.OpTimes = map[string]time.Duration{}
		defer func() {
			o.Profile(key, nn.OpTimes, reps)
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

func (o Options) vq(ctx context.Context, out map[string]float64) error {
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
	tc.LR = 2e-4 // the reference optimiser setting
	tr, err := vqvae.NewTrainer(m, vqvae.Images{Pix: pix, N: n, C: 1, H: 28, W: 28}, tc)
	if err != nil {
		return err
	}
	d, err := o.timeIt(ctx, "vq_train_step_ms", o.Warmup, o.Reps, func() error { _, err := tr.TrainStep(); return err })
	if err != nil {
		return err
	}
	out["vq_train_step_ms"] = d.Seconds() * 1e3
	tokens := make([]int32, n*49)
	d, err = o.timeIt(ctx, "vq_encode_img_per_s", o.Warmup, o.Reps, func() error { return m.EncodeTo(tokens, pix, n) })
	if err != nil {
		return err
	}
	out["vq_encode_img_per_s"] = n / d.Seconds()
	img := make([]float32, n*28*28)
	d, err = o.timeIt(ctx, "vq_decode_img_per_s", o.Warmup, o.Reps, func() error { return m.DecodeTo(img, tokens, n) })
	if err != nil {
		return err
	}
	out["vq_decode_img_per_s"] = n / d.Seconds()
	return nil
}

func (o Options) gen(ctx context.Context, out map[string]float64) error {
	r := rand.New(rand.NewPCG(2, 2))
	cfg := generator.DefaultConfig()
	const n = 256
	data := generator.Tokens{Codes: make([]int32, n*cfg.Len), Labels: make([]int32, n), N: n, Len: cfg.Len}
	for i := range data.Codes {
		data.Codes[i] = int32(r.IntN(cfg.CodebookSize))
	}
	for i := range data.Labels {
		data.Labels[i] = int32(r.IntN(cfg.Classes))
	}
	codes := make([]float32, cfg.CodebookSize*16)
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
		tc.CondDrop = 0 // the reference: no dropout in the benchmark
		tr, err := generator.NewTrainer(m, data, losses[key], tc)
		if err != nil {
			return err
		}
		dur, err := o.timeIt(ctx, key, o.Warmup, o.Reps, func() error { _, err := tr.TrainStep(); return err })
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
	dur, err := o.timeIt(ctx, "", min(o.Warmup, 1), max(3, o.Reps/3), func() error { _, err := m.Sample(classes, sc); return err })
	if err != nil {
		return err
	}
	out["gen_sample_img_per_s"] = float64(len(classes)) / dur.Seconds()
	return nil
}
