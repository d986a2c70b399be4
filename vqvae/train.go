package vqvae

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vqtool/vqtool/codebook"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/nn"
)

// Images is a set of channel-major images in [-1, 1]: pixel (c, y, x) of
// image i is Pix[((i*C+c)*H+y)*W+x].
type Images struct {
	Pix        []float32
	N, C, H, W int
}

// TrainConfig sets how a model is trained.
type TrainConfig struct {
	Batch      int     `json:"batch"`
	Steps      int     `json:"steps"`        // total optimiser steps
	LR         float64 `json:"lr"`           // peak learning rate
	Warmup     int     `json:"warmup"`       // linear warm-up steps
	MinLRRatio float64 `json:"min_lr_ratio"` // the cosine decays to MinLRRatio * LR
	Restart    float64 `json:"dead_restart"` // re-seed codes whose EMA size falls under this (0: never)
	KMeans     bool    `json:"kmeans_init"`  // k-means++ on the first batch's encoder outputs
	Seed       uint64  `json:"seed"`
}

// DefaultTrainConfig is the recipe of the reference run: Adam 1e-3 at batch
// 64, EMA codebook, dead codes re-seeded from the batch.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Batch: 64, Steps: 3000, LR: 1e-3, Warmup: 100, MinLRRatio: 0.05, Restart: 1, KMeans: true, Seed: 1}
}

// Validate reports the first setting that cannot work.
func (c TrainConfig) Validate(n int) error {
	switch {
	case c.Batch < 1 || c.Batch > 4096:
		return fmt.Errorf("vqvae: batch %d: want 1 to 4096", c.Batch)
	case c.Batch > n:
		return fmt.Errorf("vqvae: batch %d is larger than the %d training images", c.Batch, n)
	case c.Steps < 1:
		return fmt.Errorf("vqvae: steps %d: want at least 1", c.Steps)
	case !(c.LR > 0 && c.LR < 1):
		return fmt.Errorf("vqvae: learning rate %v: want a number in (0, 1)", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("vqvae: warm-up %d: want >= 0 steps", c.Warmup)
	case c.Restart < 0:
		return fmt.Errorf("vqvae: dead-code threshold %v: want >= 0", c.Restart)
	}
	return nil
}

// StepStats reports one training step.
type StepStats struct {
	Step     int     `json:"step"`
	Loss     float64 `json:"loss"`
	Recon    float64 `json:"recon"` // reconstruction MSE (or L1) of the batch
	PSNR     float64 `json:"psnr"`  // of the batch, for images in [-1, 1]
	LR       float64 `json:"lr"`
	Usage    float64 `json:"usage"`    // fraction of codes alive by EMA size
	Restarts int     `json:"restarts"` // codes re-seeded this step
}

// ErrNotFinite reports a loss or gradient that became NaN or infinite.
var ErrNotFinite = errors.New("vqvae: training diverged")

// Trainer trains a Model on a set of images.
type Trainer struct {
	Model  *Model
	Config TrainConfig
	Data   Images

	// TrainState is where the run stands, saved for resume: Step
	// (optimiser steps done), Epoch (passes over the data begun), Pos
	// (images of the current epoch used) and RNG (restarts and k-means
	// draw from it).
	nn.TrainState
	perm  []int // order of the current epoch
	rand  *rand.Rand
	opt   *nn.Adam
	sched nn.Schedule

	prog  *nn.Program
	x     *nn.Dense
	recon *nn.Node
	q     *quantizer
	grads [][]float32
	z     []float32 // encoder outputs of the batch, copied for EMA updates
}

// NewTrainer builds the training graph for m on data.
func NewTrainer(m *Model, data Images, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(data.N); err != nil {
		return nil, err
	}
	mc := m.Config
	if data.C != mc.Channels || data.H != mc.Size || data.W != mc.Size {
		return nil, fmt.Errorf("vqvae: images of %dx%dx%d: the model wants %dx%dx%d (channels x height x width)",
			data.C, data.H, data.W, mc.Channels, mc.Size, mc.Size)
	}
	pcg := rand.NewPCG(cfg.Seed, seeds.TokenizerTraining)
	t := &Trainer{Model: m, Config: cfg, Data: data, TrainState: nn.TrainState{RNG: pcg}, rand: rand.New(pcg),
		opt:   nn.NewAdam(0),
		sched: nn.Schedule{Peak: cfg.LR, Warmup: cfg.Warmup, Total: cfg.Steps, MinRatio: cfg.MinLRRatio}}

	g := nn.NewBuilder()
	xn, x := g.Input("x", cfg.Batch, mc.Size, mc.Size, mc.Channels)
	z := m.encode(g, xn)
	t.q = &quantizer{cb: m.Codebook}
	zq := g.Apply(t.q, z, g.Use(m.codes))
	t.recon = m.decode(g, zq, true)
	var rec *nn.Node
	if mc.L1 {
		rec = g.Apply(l1{}, t.recon, xn)
	} else {
		rec = g.Apply(nn.MSE{}, t.recon, xn)
	}
	cbw := float32(1)
	if mc.EMA {
		cbw = 0
	}
	vq := g.Apply(&vqLoss{q: t.q, beta: float32(mc.Beta), codebook: cbw}, z, g.Use(m.codes))
	prog, err := g.Compile(g.Sum(rec, vq))
	if err != nil {
		return nil, err
	}
	t.prog, t.x = prog, x
	t.grads = make([][]float32, len(prog.Params))
	return t, nil
}

// nextBatch fills the input with the next images of the epoch order,
// reshuffling at each epoch from a generator seeded by (seed, epoch) so that
// a resumed run sees the same order.
func (t *Trainer) nextBatch() {
	d, b := t.Data, t.Config.Batch
	per := d.C * d.H * d.W
	x := t.x.Float32s()
	for i := 0; i < b; {
		if t.perm == nil || t.Pos >= d.N {
			if t.perm != nil {
				t.Epoch++
			}
			t.perm = rand.New(rand.NewPCG(t.Config.Seed, uint64(t.Epoch))).Perm(d.N)
			t.Pos = 0
		}
		k := min(b-i, d.N-t.Pos)
		for j := range k {
			src := t.perm[t.Pos+j]
			nn.ToNHWC(x[(i+j)*per:], d.Pix[src*per:(src+1)*per], 1, d.C, d.H, d.W)
		}
		i += k
		t.Pos += k
	}
}

// TrainStep runs one optimiser step.
func (t *Trainer) TrainStep() (StepStats, error) {
	m := t.Model
	if t.perm == nil && t.Pos > 0 { // resumed: rebuild this epoch's order
		t.perm = rand.New(rand.NewPCG(t.Config.Seed, uint64(t.Epoch))).Perm(t.Data.N)
	}
	t.nextBatch()
	if t.Step == 0 && t.Config.KMeans {
		if err := t.initCodes(); err != nil {
			return StepStats{}, err
		}
	}
	if err := t.prog.Run(); err != nil {
		return StepStats{}, fmt.Errorf("vqvae: step %d: %w", t.Step+1, err)
	}
	loss := float64(t.prog.LossValue())
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return StepStats{}, fmt.Errorf("%w at step %d: the loss is %v", ErrNotFinite, t.Step+1, loss)
	}
	for i := range t.prog.Params {
		t.grads[i] = t.prog.Grad(i)
	}
	if err := nn.CheckFinite(t.prog.Params, t.grads); err != nil {
		return StepStats{}, fmt.Errorf("%w at step %d: %v", ErrNotFinite, t.Step+1, err)
	}
	lr := t.sched.At(t.Step)
	t.opt.Update(t.prog.Params, t.grads, lr)
	// The codebook moves after the weights: EMA toward this batch's vectors,
	// then dead codes re-seeded from them.
	t.z = append(t.z[:0], t.q.z...)
	if m.Config.EMA {
		m.Codebook.UpdateEMA(t.z, t.q.idx)
	} else {
		m.Codebook.CountUsage(t.q.idx)
		if m.Config.Normalize {
			m.Codebook.Normalize()
		}
	}
	restarts := 0
	if t.Config.Restart > 0 {
		restarts = m.Codebook.RestartDead(t.z, t.Config.Restart, t.rand)
	}
	t.Step++
	rec := mse(t.recon.Value().Data().([]float32), t.x.Float32s())
	alive := 0
	for _, s := range m.Codebook.ClusterSize {
		if float64(s) >= math.Max(t.Config.Restart, 1e-3) {
			alive++
		}
	}
	return StepStats{Step: t.Step, Loss: loss, Recon: rec, PSNR: PSNR(rec), LR: lr,
		Usage: float64(alive) / float64(m.Config.CodebookSize), Restarts: restarts}, nil
}

// initCodes sets the codebook by k-means++ on the encoder outputs of the
// first batch (or of as many images as there are codes, if more).
func (t *Trainer) initCodes() error {
	m, d := t.Model, t.Data
	gs := m.Config.Grid()
	n := min(d.N, max(t.Config.Batch, (m.Config.CodebookSize+gs*gs-1)/(gs*gs)*4))
	z := make([]float32, n*gs*gs*m.Config.CodeDim)
	idx := t.rand.Perm(d.N)[:n]
	per := d.C * d.H * d.W
	imgs := make([]float32, n*per)
	for i, j := range idx {
		copy(imgs[i*per:], d.Pix[j*per:(j+1)*per])
	}
	if err := m.ZTo(z, imgs, n); err != nil {
		return err
	}
	return m.Codebook.InitKMeans(z, 10, t.rand)
}

func mse(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		d := float64(v - b[i])
		s += d * d
	}
	return s / float64(len(a))
}

// PSNR returns the peak signal-to-noise ratio in dB of a mean squared error
// between images in [-1, 1] (peak-to-peak 2), as for [0, 1] images.
func PSNR(mse float64) float64 {
	if mse <= 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(4/mse)
}

// Eval reports how well a model reconstructs a set of images.
type Eval struct {
	MSE  float64 `json:"mse"`
	PSNR float64 `json:"psnr"`
	codebook.Stats
}

// AddMetrics adds e's numbers to a checkpoint's metrics under held_out_ names.
func (e Eval) AddMetrics(m map[string]float64) {
	m["held_out_psnr"], m["held_out_mse"] = e.PSNR, e.MSE
	m["held_out_usage"], m["held_out_perplexity"] = e.Fraction, e.Perplexity
	m["held_out_dead_codes"] = float64(e.Dead)
}

// Evaluate encodes and decodes every image and measures the reconstruction
// error and the codebook usage over the whole set.
func (m *Model) Evaluate(data Images) (Eval, []int32, error) {
	gs := m.Config.Grid()
	per := data.C * data.H * data.W
	tokens := make([]int32, data.N*gs*gs)
	if err := m.EncodeTo(tokens, data.Pix, data.N); err != nil {
		return Eval{}, nil, err
	}
	var sq float64
	chunk := InferBatch
	out := make([]float32, chunk*per)
	for lo := 0; lo < data.N; lo += chunk {
		k := min(chunk, data.N-lo)
		if err := m.DecodeTo(out, tokens[lo*gs*gs:(lo+k)*gs*gs], k); err != nil {
			return Eval{}, nil, err
		}
		sq += mse(out[:k*per], data.Pix[lo*per:(lo+k)*per]) * float64(k*per)
	}
	u := codebook.NewUsage(m.Config.CodebookSize)
	u.Add(tokens)
	e := Eval{MSE: sq / float64(data.N*per), Stats: u.Stats()}
	e.PSNR = PSNR(e.MSE)
	return e, tokens, nil
}
