package generator

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/nn"
)

// Tokens is a set of token grids: grid i is Codes[i*Len : (i+1)*Len] in
// raster order, with label Labels[i] (Labels is nil for unlabeled data).
type Tokens struct {
	Codes  []int32
	Labels []int32
	N, Len int
}

// Slice returns grids [lo, hi), sharing memory.
func (t Tokens) Slice(lo, hi int) Tokens {
	s := Tokens{Codes: t.Codes[lo*t.Len : hi*t.Len], N: hi - lo, Len: t.Len}
	if t.Labels != nil {
		s.Labels = t.Labels[lo:hi]
	}
	return s
}

// TrainConfig sets how a generator is trained.
type TrainConfig struct {
	Batch       int     `json:"batch"`
	Steps       int     `json:"steps"`
	LR          float64 `json:"lr"`
	Warmup      int     `json:"warmup"`
	MinLRRatio  float64 `json:"min_lr_ratio"`
	WeightDecay float64 `json:"weight_decay"` // AdamW, on matrices only
	Clip        float64 `json:"clip"`         // global gradient-norm clip (0: none)
	CondDrop    float64 `json:"cond_drop"`    // fraction of examples trained without their class
	// Corrupt is the probability that an input token is replaced by a
	// uniform random code (the target stays the true token): token
	// corruption, taming's pkeep and LlamaGen's token dropout, a
	// regulariser against copying. 0 is off.
	Corrupt float64 `json:"corrupt,omitempty"`
	Seed    uint64  `json:"seed"`
}

// DefaultTrainConfig is ref-gen's optimiser (AdamW 3e-4, weight decay 0.05)
// with warm-up, cosine decay, clipping at 1 and 10% class dropout.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Batch: 64, Steps: 600, LR: 3e-4, Warmup: 100, MinLRRatio: 0.1,
		WeightDecay: 0.05, Clip: 1, CondDrop: 0.1, Seed: 1}
}

// Validate reports the first setting that cannot work.
func (c TrainConfig) Validate(n int) error {
	switch {
	case c.Batch < 1 || c.Batch > n:
		return fmt.Errorf("generator: batch %d: want 1 to the %d training grids", c.Batch, n)
	case c.Steps < 1:
		return fmt.Errorf("generator: steps %d: want at least 1", c.Steps)
	case !(c.LR > 0 && c.LR < 1):
		return fmt.Errorf("generator: learning rate %v: want a number in (0, 1)", c.LR)
	case c.Warmup < 0 || !(c.WeightDecay >= 0) || !(c.Clip >= 0):
		return fmt.Errorf("generator: warm-up %d, weight decay %v, clip %v: want all >= 0", c.Warmup, c.WeightDecay, c.Clip)
	case !(c.CondDrop >= 0 && c.CondDrop <= 1):
		return fmt.Errorf("generator: class dropout %v: want a fraction in [0, 1]", c.CondDrop)
	case !(c.Corrupt >= 0 && c.Corrupt < 1):
		return fmt.Errorf("generator: token corruption %v: want a probability in [0, 1)", c.Corrupt)
	}
	return nil
}

// StepStats reports one training step.
type StepStats struct {
	Step     int     `json:"step"`
	Loss     float64 `json:"loss"`     // the training loss, nats per token
	NLL      float64 `json:"nll_bits"` // -log2 p(target), bits per token
	LR       float64 `json:"lr"`
	GradNorm float64 `json:"grad_norm"` // before clipping
}

// ErrNotFinite reports a loss or gradient that became NaN or infinite.
var ErrNotFinite = errors.New("generator: training diverged")

// Trainer trains a Model on token grids with a loss.
type Trainer struct {
	Model  *Model
	Config TrainConfig
	Data   Tokens
	Loss   *dist2.Loss

	// TrainState is where the run stands: Step, Epoch, Pos and RNG (class
	// dropout draws from it), saved for resume.
	nn.TrainState
	perm  []int
	rand  *rand.Rand
	opt   *nn.Adam
	sched nn.Schedule
	gr    *graph
	grads [][]float32
}

// NewTrainer builds the training graph.
func NewTrainer(m *Model, data Tokens, loss *dist2.Loss, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(data.N); err != nil {
		return nil, err
	}
	c := m.Config
	if data.Len != c.Len {
		return nil, fmt.Errorf("generator: grids of %d tokens: the model wants %d", data.Len, c.Len)
	}
	if err := checkTokens(data, c); err != nil {
		return nil, err
	}
	if err := loss.Validate(c.CodebookSize); err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(cfg.Seed, seeds.ClassDropout)
	t := &Trainer{Model: m, Config: cfg, Data: data, Loss: loss, TrainState: nn.TrainState{RNG: pcg}, rand: rand.New(pcg),
		opt:   nn.NewAdam(cfg.WeightDecay),
		sched: nn.Schedule{Peak: cfg.LR, Warmup: cfg.Warmup, Total: cfg.Steps, MinRatio: cfg.MinLRRatio}}
	t.opt.NoDecay = noDecay
	g := nn.NewBuilder()
	emb, logits := m.build(g, cfg.Batch)
	tl := &nn.TokenLoss{Loss: loss, Targets: make([]int32, cfg.Batch*c.Len)}
	prog, err := g.Compile(g.Apply(tl, logits))
	if err != nil {
		return nil, err
	}
	t.gr = &graph{prog: prog, embed: emb, logits: logits, loss: tl}
	t.grads = make([][]float32, len(prog.Params))
	return t, nil
}

// checkTokens reports a token or label out of range.
func checkTokens(data Tokens, c Config) error {
	for i, v := range data.Codes {
		if v < 0 || int(v) >= c.CodebookSize {
			return fmt.Errorf("generator: token %d of grid %d is %d: want a code in [0, %d)", i%data.Len, i/data.Len, v, c.CodebookSize)
		}
	}
	if data.Labels != nil && c.Classes > 0 {
		for i, l := range data.Labels {
			if l < 0 || int(l) >= c.Classes {
				return fmt.Errorf("generator: label of grid %d is %d: want a class in [0, %d)", i, l, c.Classes)
			}
		}
	}
	return nil
}

// nextBatch fills the embedding inputs and targets with the next grids of
// the epoch order (reshuffled per epoch from (seed, epoch)).
func (t *Trainer) nextBatch() {
	d, b, c := t.Data, t.Config.Batch, t.Model.Config
	emb := t.gr.embed
	if t.perm == nil && t.Pos > 0 {
		t.perm = rand.New(rand.NewPCG(t.Config.Seed, uint64(t.Epoch))).Perm(d.N)
	}
	for i := 0; i < b; i++ {
		if t.perm == nil || t.Pos >= d.N {
			if t.perm != nil {
				t.Epoch++
			}
			t.perm = rand.New(rand.NewPCG(t.Config.Seed, uint64(t.Epoch))).Perm(d.N)
			t.Pos = 0
		}
		src := t.perm[t.Pos]
		t.Pos++
		grid := d.Codes[src*d.Len : (src+1)*d.Len]
		copy(emb.Tokens[i*c.Len:], grid)
		copy(t.gr.loss.Targets[i*c.Len:], grid)
		cls := int32(c.Classes) // no class
		if c.Classes > 0 && d.Labels != nil && t.rand.Float64() >= t.Config.CondDrop {
			cls = d.Labels[src]
		}
		emb.Classes[i] = cls
		if t.Config.Corrupt > 0 {
			in := emb.Tokens[i*c.Len : (i+1)*c.Len]
			for j := range in {
				if t.rand.Float64() < t.Config.Corrupt {
					in[j] = int32(t.rand.IntN(c.CodebookSize))
				}
			}
		}
	}
}

// TrainStep runs one optimiser step.
func (t *Trainer) TrainStep() (StepStats, error) {
	t.nextBatch()
	prog := t.gr.prog
	if err := prog.Run(); err != nil {
		return StepStats{}, fmt.Errorf("generator: step %d: %w", t.Step+1, err)
	}
	loss := float64(prog.LossValue())
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return StepStats{}, fmt.Errorf("%w at step %d: the loss is %v", ErrNotFinite, t.Step+1, loss)
	}
	for i := range prog.Params {
		t.grads[i] = prog.Grad(i)
	}
	// One pass finds the norm, and a NaN or an infinity with it; the
	// clipping factor rides along the optimiser's pass.
	norm := nn.GradNorm(t.grads)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		if err := nn.CheckFinite(prog.Params, t.grads); err != nil {
			return StepStats{}, fmt.Errorf("%w at step %d: %v", ErrNotFinite, t.Step+1, err)
		}
	}
	scale := float32(1)
	if limit := t.Config.Clip; limit > 0 && norm > limit {
		scale = float32(limit / norm)
	}
	lr := t.sched.At(t.Step)
	t.opt.UpdateScaled(prog.Params, t.grads, lr, scale)
	t.Step++
	return StepStats{Step: t.Step, Loss: loss, NLL: t.gr.loss.Stats.NLL / math.Ln2, LR: lr, GradNorm: norm}, nil
}
