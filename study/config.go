package study

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
)

// Config is the design of a study. It is saved as study.json in the study's
// folder, and a study resumed with another Config is refused.
type Config struct {
	Sizes        []int     `json:"sizes"`        // training-set sizes
	Losses       []string  `json:"losses"`       // ce, smooth, dist2, corrupt
	Seeds        int       `json:"seeds"`        // seeds per (size, loss), paired across losses
	Alphas       []float64 `json:"alphas"`       // the sweep's dist2 weights
	Perplexities []float64 `json:"perplexities"` // the sweep's effective neighbours of p_d
	Temperatures []float64 `json:"temperatures"` // the sweep's sampling temperatures
	SweepSizes   []int     `json:"sweep_sizes"`  // sizes the sweep runs at
	Distance     string    `json:"distance"`     // dist2 distance between codes
	Smoothing    float64   `json:"smoothing"`    // label-smoothing mass

	ValSize int `json:"val_size"` // grids at the end of the training split held out for validation

	Dim    int `json:"dim"` // generator architecture
	Layers int `json:"layers"`
	Heads  int `json:"heads"`
	MLP    int `json:"mlp"`

	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	Epochs    float64 `json:"epochs"` // budget in passes over the subset...
	MinSteps  int     `json:"min_steps"`
	MaxSteps  int     `json:"max_steps"`  // ...held in [MinSteps, MaxSteps]
	EvalEvery int     `json:"eval_every"` // validation NLL every N steps
	ValLimit  int     `json:"val_limit"`  // validation grids per curve point (0: all)

	Samples int     `json:"samples"` // samples scored per run and setting
	TopK    int     `json:"top_k"`   // the truncated sampling setting
	CFG     float64 `json:"cfg"`     // guidance scale when sampling

	// FineTune is the fine-tune arm's budget as a fraction of the size's
	// (0: no arm; a study.json without it has none): from each main ce
	// run's best checkpoint, a fresh optimiser continues with DIST2 at the
	// paper's setting (ce->dist2) and, as the control, with CE (ce->ce),
	// at the same seed, rate and early stopping.
	FineTune float64 `json:"fine_tune"`

	// Corrupt is the probability with which the corrupt arm (loss
	// "corrupt": CE with token corruption, generator.TrainConfig.Corrupt)
	// replaces an input token by a random code.
	Corrupt float64 `json:"corrupt,omitempty"`
	// Patience, when > 0, ends a run once that many validation
	// measurements in a row miss its best (early stopping; the budget is
	// then its ceiling, and a run that reaches it is not converged).
	Patience int `json:"patience,omitempty"`
	// ExtractionGiven are the token counts the prefix attack gives of a
	// training grid (with its class) before the model completes it, and
	// ExtractionGrids how many of the run's training grids it tries.
	ExtractionGiven []int `json:"extraction_given,omitempty"`
	ExtractionGrids int   `json:"extraction_grids,omitempty"`
	// CodebookSize, when > 0, is the codebook size K the study's tokenizer
	// must have; its runs are then named k{K}-..., so that the runs of
	// studies of several tokenizers merge into one report (0: any K, runs
	// named as the first edition's).
	CodebookSize int `json:"codebook_size,omitempty"`
}

// corruptLoss is the arm of CE with token corruption at Config.Corrupt, and
// corruptDist2 that of DIST2 (at the main dist2 runs' setting) with it.
const (
	corruptLoss  = "corrupt"
	corruptDist2 = "dist2+corrupt"
)

// corrupts reports whether the arm of loss l trains on corrupted inputs.
func corrupts(l string) bool { return l == corruptLoss || l == corruptDist2 }

// isDist2 reports whether the arm of loss l trains with DIST2.
func isDist2(l string) bool { return l == "dist2" || l == corruptDist2 }

// The fine-tune arm starts from the runs of fineTuneFrom and trains DIST2
// as the paper does: alpha dist2.DefaultAlpha, tau calibrated to
// dist2.DefaultPerplexity effective neighbours.
const fineTuneFrom = "ce"

// DefaultConfig is the full default study: sizes 500 to the whole pool
// (60,000 asks for all 55,000 grids before the validation split), the three
// losses, three seeds, a sweep of 4 alphas x 3 perplexities x 3
// temperatures at size 500, and the fine-tune arm at half the budget: the
// ce run has stopped at its best, so the arm asks what more training from
// there does under each loss, at a third more steps than the main runs
// rather than two thirds.
func DefaultConfig() Config {
	return Config{
		Sizes: []int{500, 2000, 10000, 60000}, Losses: []string{"ce", "smooth", "dist2"}, Seeds: 3,
		Alphas: []float64{0.03, 0.1, 0.3, 1}, Perplexities: []float64{2, 8, 32}, Temperatures: []float64{1, 0.9, 0.8},
		SweepSizes: []int{500}, Distance: "l2", Smoothing: 0.1, ValSize: 5000,
		Dim: 128, Layers: 4, Heads: 4, MLP: 512, Batch: 64, LR: 6e-4,
		Epochs: 60, MinSteps: 300, MaxSteps: 600, EvalEvery: 100, ValLimit: 2000,
		Samples: 1000, TopK: 50, CFG: 1.5, FineTune: 0.5,
		Corrupt: 0.1, ExtractionGiven: []int{1, 7, 14, 24}, ExtractionGrids: 1000,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case len(c.Sizes) == 0 || len(c.Losses) == 0 || c.Seeds < 1:
		return fmt.Errorf("study: sizes %v, losses %v, %d seeds: want at least one of each", c.Sizes, c.Losses, c.Seeds)
	case len(c.Alphas) == 0 || len(c.Perplexities) == 0 || len(c.Temperatures) == 0:
		return fmt.Errorf("study: alphas %v, perplexities %v, temperatures %v: want at least one of each", c.Alphas, c.Perplexities, c.Temperatures)
	case c.Batch < 1 || !(c.LR > 0) || !(c.Epochs > 0) || c.MinSteps < 1 || c.MaxSteps < c.MinSteps || c.EvalEvery < 1:
		return fmt.Errorf("study: batch %d, lr %v, epochs %v, steps [%d, %d], eval every %d: want positive values and min <= max",
			c.Batch, c.LR, c.Epochs, c.MinSteps, c.MaxSteps, c.EvalEvery)
	case c.Samples < 10 || c.TopK < 0 || !(c.CFG >= 0):
		return fmt.Errorf("study: %d samples, top-k %d, guidance %v: want >= 10 samples, top-k >= 0, guidance >= 0", c.Samples, c.TopK, c.CFG)
	case c.ValSize < 1:
		return fmt.Errorf("study: validation size %d: want at least 1", c.ValSize)
	case !(c.FineTune >= 0 && c.FineTune <= 10):
		return fmt.Errorf("study: fine-tune %v: want a fraction of the budget in [0, 10] (0: no fine-tune arm)", c.FineTune)
	case !(c.Corrupt >= 0 && c.Corrupt < 1) || slices.ContainsFunc(c.Losses, corrupts) && c.Corrupt == 0:
		return fmt.Errorf("study: corrupt %v with losses %v: want a probability in [0, 1), above 0 for the %s and %s arms", c.Corrupt, c.Losses, corruptLoss, corruptDist2)
	case c.Patience < 0 || c.ExtractionGrids < 0 || c.CodebookSize < 0:
		return fmt.Errorf("study: patience %d, extraction grids %d, codebook size %d: want each >= 0", c.Patience, c.ExtractionGrids, c.CodebookSize)
	case c.FineTune > 0 && !slices.Contains(c.Losses, fineTuneFrom):
		return fmt.Errorf("study: fine-tune %v with losses %v: the arm starts from the %s runs (want %s among the losses, or fine-tune 0)",
			c.FineTune, c.Losses, fineTuneFrom, fineTuneFrom)
	}
	for _, s := range append(slices.Clone(c.Sizes), c.SweepSizes...) {
		if s < 10 {
			return fmt.Errorf("study: size %d: want at least 10 grids (one per class)", s)
		}
	}
	for _, g := range c.ExtractionGiven {
		if g < 0 {
			return fmt.Errorf("study: extraction given %d: want token counts >= 0", g)
		}
	}
	for _, l := range c.Losses {
		if corrupts(l) {
			continue
		}
		if _, err := dist2.ParseKind(l); err != nil {
			return fmt.Errorf("study: %w", err)
		}
	}
	for _, l := range []struct {
		name string
		xs   []float64
	}{{"alpha", c.Alphas}, {"perplexity", c.Perplexities}, {"temperature", c.Temperatures}} {
		for _, x := range l.xs {
			if !(x > 0) || math.IsInf(x, 0) {
				return fmt.Errorf("study: %s %v: want a number > 0", l.name, x)
			}
		}
	}
	if _, err := dist2.ParseVectorKind(c.Distance); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return nil
}

// Steps is a run's budget at size n: Epochs passes at Batch, in [MinSteps, MaxSteps].
func (c Config) Steps(n int) int {
	s := int(math.Ceil(c.Epochs * float64(n) / float64(c.batch(n))))
	return min(max(s, c.MinSteps), c.MaxSteps)
}

// steps is run r's budget at size n: Steps, or FineTune of it for the
// fine-tune arm.
func (c Config) steps(r RunSpec, n int) int {
	if r.Init == "" {
		return c.Steps(n)
	}
	return max(1, int(math.Ceil(c.FineTune*float64(c.Steps(n)))))
}

func (c Config) batch(n int) int { return min(c.Batch, n) }

// trainConfig is run r's optimiser at size n: the generator's defaults at
// the study's rate.
func (c Config) trainConfig(r RunSpec, n int) generator.TrainConfig {
	t := generator.DefaultTrainConfig()
	t.Batch, t.LR, t.Steps, t.Seed = c.batch(n), c.LR, c.steps(r, n), r.Seed
	t.Warmup = min(t.Warmup, t.Steps/10)
	if corrupts(r.Loss) {
		t.Corrupt = c.Corrupt
	}
	return t
}

// Setting is one point of the DIST2 sweep.
type Setting struct {
	Alpha       float64 `json:"alpha"`
	Perplexity  float64 `json:"perplexity"`
	Temperature float64 `json:"temperature"`
}

// RunSpec names one generator of the study.
type RunSpec struct {
	Name       string  `json:"name"`
	Sweep      bool    `json:"sweep,omitempty"` // a run of the DIST2 sweep
	Size       int     `json:"size"`
	Loss       string  `json:"loss"`
	Seed       uint64  `json:"seed"`
	Alpha      float64 `json:"alpha"`      // dist2 only (0 for the others)
	Perplexity float64 `json:"perplexity"` // dist2 only
	// Init names the run whose best checkpoint this one starts from (the
	// fine-tune arm: the ce run of the same size and seed); empty: none.
	Init string `json:"init,omitempty"`
}

// Arm is what the study compares r as: its loss, or "ce->LOSS" for the
// fine-tune arm.
func (r RunSpec) Arm() string {
	if r.Init == "" {
		return r.Loss
	}
	return fineTuneFrom + "->" + r.Loss
}

// pass is when a shard runs r: the sweep, the main ce and smooth runs, the
// main dist2 runs (after the sweep), the fine-tune arm (after its ce runs).
func (r RunSpec) pass() int {
	switch {
	case r.Sweep:
		return 0
	case r.Init != "":
		return 3
	case isDist2(r.Loss):
		return 2
	}
	return 1
}

// arms lists what the study compares: its losses, then the fine-tune arm.
func (c Config) arms() []string {
	arms := slices.Clone(c.Losses)
	if c.FineTune > 0 {
		arms = append(arms, fineTuneFrom+"->dist2", fineTuneFrom+"->"+fineTuneFrom)
	}
	return arms
}

// pairs lists the paired comparisons a - b: dist2 - ce, dist2 - smooth and
// dist2 - corrupt, corrupt - ce, dist2+corrupt - corrupt and - ce, then
// ce->dist2 - ce->ce.
func (c Config) pairs() [][2]string {
	var out [][2]string
	for _, p := range [][2]string{{"dist2", "ce"}, {"dist2", "smooth"}, {"dist2", corruptLoss}, {corruptLoss, "ce"},
		{corruptDist2, corruptLoss}, {corruptDist2, "ce"}} {
		if slices.Contains(c.Losses, p[0]) && slices.Contains(c.Losses, p[1]) {
			out = append(out, p)
		}
	}
	if c.FineTune > 0 {
		out = append(out, [2]string{fineTuneFrom + "->dist2", fineTuneFrom + "->" + fineTuneFrom})
	}
	return out
}

// swept reports whether the study searches the DIST2 setting.
func (c Config) swept() bool {
	return slices.Contains(c.Losses, "dist2") && len(c.Alphas)*len(c.Perplexities)*len(c.Temperatures) > 1
}

// Plan lists the study's runs in their stable order: the sweep (by size,
// alpha, perplexity), the main runs by size, loss and seed, then the
// fine-tune arm by size, loss (dist2, then ce) and seed. The main dist2 runs
// carry no setting yet: it is the sweep's choice (or the one given when
// nothing is swept).
func (c Config) Plan() []RunSpec {
	var runs []RunSpec
	if c.swept() {
		for _, n := range c.SweepSizes {
			for _, a := range c.Alphas {
				for _, p := range c.Perplexities {
					runs = append(runs, RunSpec{Name: fmt.Sprintf("sweep-n%d-a%s-p%s", n, num(a), num(p)), Sweep: true,
						Size: n, Loss: "dist2", Seed: 1, Alpha: a, Perplexity: p})
				}
			}
		}
	}
	k := ""
	if c.CodebookSize > 0 {
		k = fmt.Sprintf("k%d-", c.CodebookSize)
	}
	for _, n := range c.Sizes {
		for _, l := range c.Losses {
			for s := 1; s <= c.Seeds; s++ {
				runs = append(runs, RunSpec{Name: fmt.Sprintf("%sn%d-%s-s%d", k, n, l, s), Size: n, Loss: l, Seed: uint64(s)})
			}
		}
	}
	if c.FineTune > 0 {
		for _, n := range c.Sizes {
			for _, l := range []string{"dist2", fineTuneFrom} {
				for s := 1; s <= c.Seeds; s++ {
					r := RunSpec{Name: fmt.Sprintf("%sn%d-%s-to-%s-s%d", k, n, fineTuneFrom, l, s), Size: n, Loss: l, Seed: uint64(s),
						Init: fmt.Sprintf("%sn%d-%s-s%d", k, n, fineTuneFrom, s)}
					if l == "dist2" {
						r.Alpha, r.Perplexity = dist2.DefaultAlpha, dist2.DefaultPerplexity
					}
					runs = append(runs, r)
				}
			}
		}
	}
	return runs
}

// num writes a number short and exactly: 0.1, 32.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Shard is the part I (1-based) of N of a study that one worker runs.
type Shard struct{ I, N int }

// ParseShard reads "I/N".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("study: shard %q: want I/N with 1 <= I <= N", s)
	}
	return Shard{i, n}, nil
}

// Has reports whether run k of the plan belongs to the shard.
func (s Shard) Has(k int) bool { return s.N <= 1 || k%s.N == s.I-1 }

// studyFile is study.json: the design, and the tokenizer the runs use,
// relative to the study folder (absent from the study.json of older
// vqtools).
type studyFile struct {
	Config
	Tokenizer string `json:"tokenizer,omitempty"`
}

func readStudyFile(dir string) (studyFile, error) {
	var f studyFile
	path := filepath.Join(dir, specFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("study: %s is not a study folder: %w", dir, err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("study: %s: %w", path, err)
	}
	return f, f.Validate()
}

// ReadConfig reads the Config saved in a study folder.
func ReadConfig(dir string) (Config, error) {
	f, err := readStudyFile(dir)
	return f.Config, err
}

// TokenizerOf returns the tokenizer folder that the study.json of the
// study folders dirs name (relative to each), or "" when none names one.
// Folders that name different tokenizers are an error.
func TokenizerOf(dirs []string) (string, error) {
	var path, from string
	for _, dir := range dirs {
		f, err := readStudyFile(dir)
		if err != nil {
			return "", err
		}
		if f.Tokenizer == "" {
			continue
		}
		p := filepath.Join(dir, f.Tokenizer)
		if path == "" {
			path, from = p, dir
			continue
		}
		a, errA := os.Stat(path)
		b, errB := os.Stat(p)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			return "", fmt.Errorf("study: %s is a study of the tokenizer %s, %s of %s", from, path, dir, p)
		}
	}
	return path, nil
}
