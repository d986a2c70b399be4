package study

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/metrics"
)

// Results is what results.json holds.
type Results struct {
	Config      Config       `json:"config"`
	Choice      *Choice      `json:"choice"` // null while the sweep is not complete
	Sweep       []SweepRow   `json:"sweep"`
	Runs        []Result     `json:"runs"`
	Comparisons []Comparison `json:"comparisons"`
	Planned     int          `json:"planned_runs"`
}

// Comparison is the paired difference a - b of one metric at one size, over
// the seeds both arms ran (an arm is a loss, or ce->dist2 and ce->ce of the
// fine-tune arm: RunSpec.Arm).
type Comparison struct {
	Size     int        `json:"size"`
	Metric   string     `json:"metric"`
	A        string     `json:"a"`
	B        string     `json:"b"`
	MeanDiff float64    `json:"mean_diff"`
	CI95     [2]float64 `json:"ci95"` // NaN-free: equal to the mean with one pair
	NPairs   int        `json:"n_pairs"`
}

// Detected reports whether the interval excludes 0.
func (c Comparison) Detected() bool { return c.NPairs >= 2 && (c.CI95[0] > 0 || c.CI95[1] < 0) }

// metric is one number of a main run that the study compares.
type metric struct {
	key, label string
	lower      bool // lower is better
	get        func(Result) (float64, bool)
}

func plain(f func(Result) float64) func(Result) (float64, bool) {
	return func(r Result) (float64, bool) { return f(r), true }
}

func opt(f func(Result) *float64) func(Result) (float64, bool) {
	return func(r Result) (float64, bool) {
		v := f(r)
		if v == nil {
			return math.NaN(), false
		}
		return *v, true
	}
}

var studyMetrics = []metric{
	{"test_nll_bits", "test NLL (bits)", true, plain(func(r Result) float64 { return r.TestNLL })},
	{"near_copies", "near copies", true, plain(func(r Result) float64 { return r.NearCopies })},
	{"fld_t1", "FLD T=1", true, plain(func(r Result) float64 { return r.FLDT1 })},
	{"fld_novel_t1", "novel FLD T=1", true, opt(func(r Result) *float64 { return r.FLDNovelT1 })},
	{"fld_topk", "FLD top-k", true, plain(func(r Result) float64 { return r.FLDTopK })},
	{"kid_t1", "KID x1e3 T=1", true, plain(func(r Result) float64 { return r.KIDT1 })},
	{"precision_t1", "precision T=1", false, plain(func(r Result) float64 { return r.PrecisionT1 })},
	{"recall_t1", "recall T=1", false, plain(func(r Result) float64 { return r.RecallT1 })},
	{"class_acc_t1", "class acc T=1", false, plain(func(r Result) float64 { return r.ClassAccT1 })},
	{"token_acc", "token acc", false, plain(func(r Result) float64 { return r.TokenAcc })},
	{"expected_distance", "E[code dist]", true, plain(func(r Result) float64 { return r.ExpectedDistance })},
	{"nll_gap_bits", "val - train NLL", true, plain(func(r Result) float64 { return r.Gap })},
	{"best_step", "best step", true, plain(func(r Result) float64 { return float64(r.BestStep) })},
	{"test_nll_bits_last", "test NLL last", true, plain(func(r Result) float64 { return r.TestNLLLast })},
	{"near_copies_last", "near copies last", true, plain(func(r Result) float64 { return r.NearCopiesLast })},
	{"fld_t1_last", "FLD T=1 last", true, plain(func(r Result) float64 { return r.FLDT1Last })},
	{"fld_novel_t1_last", "novel FLD T=1 last", true, opt(func(r Result) *float64 { return r.FLDNovelT1Last })},
	{"class_acc_t1_last", "class acc T=1 last", false, plain(func(r Result) float64 { return r.ClassAccT1Last })},
	{"c_t", "C_T T=1", false, opt(func(r Result) *float64 { return r.CT })},
	{"c_t_last", "C_T T=1 last", false, opt(func(r Result) *float64 { return r.CTLast })},
	{"extraction_t1", "extracted T=1", true, extraction(func(r Result) map[string]float64 { return r.Extraction })},
	{"extraction_greedy", "extracted greedy", true, extraction(func(r Result) map[string]float64 { return r.ExtractionGreedy })},
	{"extraction_t1_last", "extracted T=1 last", true, extraction(func(r Result) map[string]float64 { return r.ExtractionLast })},
}

// extraction reads the mean share of extracted grids over the prefixes
// tried, absent without any.
func extraction(f func(Result) map[string]float64) func(Result) (float64, bool) {
	return func(r Result) (float64, bool) {
		m := f(r)
		if len(m) == 0 {
			return math.NaN(), false
		}
		var sum float64
		for _, k := range slices.Sorted(maps.Keys(m)) { // one order: the same bits every time
			sum += m[k]
		}
		return sum / float64(len(m)), true
	}
}

// setStepsToCEBest sets, for each main dist2 and corrupt run, the first
// step at which its validation curve reaches the best validation NLL of
// the ce run of its size and seed: sample efficiency.
func setStepsToCEBest(runs []Result) {
	ceBest := map[[2]any]float64{}
	for _, r := range runs {
		if !r.Sweep && r.Init == "" && r.Loss == "ce" {
			if b := generator.BestPoint(r.Curve); b >= 0 {
				ceBest[[2]any{r.Size, r.Seed}] = r.Curve[b].NLL
			}
		}
	}
	for i, r := range runs {
		target, ok := ceBest[[2]any{r.Size, r.Seed}]
		if r.Sweep || r.Init != "" || !isDist2(r.Loss) && !corrupts(r.Loss) || !ok {
			continue
		}
		runs[i].StepsToCEBest = nil
		for _, p := range r.Curve {
			if p.NLL <= target {
				step := p.Step
				runs[i].StepsToCEBest = &step
				break
			}
		}
	}
}

// comparisons pairs the arms of Config.pairs by seed at every size.
func comparisons(runs []Result, c Config) []Comparison {
	by := map[[3]any]Result{}
	for _, r := range runs {
		if !r.Sweep {
			by[[3]any{r.Size, r.Arm(), r.Seed}] = r
		}
	}
	out := []Comparison{}
	for _, size := range c.Sizes {
		for _, p := range c.pairs() {
			for _, m := range studyMetrics {
				var d []float64
				for s := 1; s <= c.Seeds; s++ {
					ra, ok1 := by[[3]any{size, p[0], uint64(s)}]
					rb, ok2 := by[[3]any{size, p[1], uint64(s)}]
					if !ok1 || !ok2 {
						continue
					}
					va, oka := m.get(ra)
					vb, okb := m.get(rb)
					if oka && okb {
						d = append(d, va-vb)
					}
				}
				if len(d) == 0 {
					continue
				}
				iv := metrics.CI95(d)
				lo, hi := iv.Lo, iv.Hi
				if len(d) < 2 {
					lo, hi = iv.Mean, iv.Mean
				}
				out = append(out, Comparison{Size: size, Metric: m.key, A: p[0], B: p[1], MeanDiff: iv.Mean, CI95: [2]float64{lo, hi}, NPairs: len(d)})
			}
		}
	}
	return out
}

// Merge gathers the finished runs of the study folders inputs (shards of
// one study: their study.json must agree) into out: samples, results.json,
// report.md, report.html and the plots. tok decodes the sample grids, and
// out's study.json names it.
func Merge(out string, inputs []string, tok Tokenizer) (*Results, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("study: merge: no study folders given")
	}
	var c Config
	for i, dir := range inputs {
		got, err := ReadConfig(dir)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			c = got
		} else if !reflect.DeepEqual(c, got) {
			return nil, fmt.Errorf("study: %s and %s hold different studies (%s)", inputs[0], dir, diff(c, got))
		}
	}
	if err := claim(out, c, tok.VQPath); err != nil {
		return nil, err
	}
	runs, from, err := readRuns(inputs)
	if err != nil {
		return nil, err
	}
	order := map[string]int{}
	for k, r := range c.Plan() {
		order[r.Name] = k
	}
	slices.SortFunc(runs, func(a, b Result) int { return order[a.Name] - order[b.Name] })
	for _, r := range runs {
		if r.Samples == "" || from[r.Name] == out {
			continue
		}
		src, dst := filepath.Join(from[r.Name], r.Samples), filepath.Join(out, r.Samples)
		for _, p := range [][2]string{{dst, src}, {imageio.LabelsPath(dst), imageio.LabelsPath(src)}} {
			if err := os.MkdirAll(filepath.Dir(p[0]), 0o755); err != nil {
				return nil, err
			}
			if err := atomicfile.Copy(p[0], p[1]); err != nil {
				return nil, err
			}
		}
	}
	setStepsToCEBest(runs)
	res := &Results{Config: c, Sweep: sweepRows(runs), Runs: runs, Comparisons: comparisons(runs, c), Planned: len(c.Plan())}
	if res.Choice, err = c.chooseFrom(runs); err != nil && !errors.Is(err, ErrNeedSweep) {
		return nil, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(out, resultsFile), res); err != nil {
		return nil, err
	}
	return res, res.write(out, tok.VQ, tok.Classes)
}
