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
	"strings"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/metrics"
)

// Results is what results.json holds.
type Results struct {
	Config      Config       `json:"config"` // the first part's
	Choice      *Choice      `json:"choice"` // the first part's; null while its sweep is not complete
	Sweep       []SweepRow   `json:"sweep"`
	Runs        []Result     `json:"runs"`
	Comparisons []Comparison `json:"comparisons"`
	Planned     int          `json:"planned_runs"`
	// Parts lists the designs merged, when there are several: the second
	// edition runs one per codebook size and per budget.
	Parts []Part `json:"parts,omitempty"`

	parts []part // every part, one for a plain study
}

// Part is one design of a merged study: the study folders (its shards)
// whose study.json agree, and its tokenizer's codebook size.
type Part struct {
	CodebookSize int      `json:"codebook_size"`
	Tokenizer    string   `json:"tokenizer,omitempty"` // relative to the merged folder
	Folders      []string `json:"folders"`             // relative to the merged folder
	Config       Config   `json:"config"`
	Planned      int      `json:"planned_runs"`
}

// part is a Part with its runs and tokenizer.
type part struct {
	Part
	runs []Result
	tok  Tokenizer
}

// Comparison is the paired difference a - b of one metric at one codebook
// size and training-set size, over the seeds both arms ran (an arm is a
// loss, or ce->dist2 and ce->ce of the fine-tune arm: RunSpec.Arm).
type Comparison struct {
	CodebookSize int        `json:"codebook_size,omitempty"`
	Size         int        `json:"size"`
	Metric       string     `json:"metric"`
	A            string     `json:"a"`
	B            string     `json:"b"`
	MeanDiff     float64    `json:"mean_diff"`
	CI95         [2]float64 `json:"ci95"` // NaN-free: equal to the mean with one pair
	NPairs       int        `json:"n_pairs"`
}

// Detected reports whether the interval excludes 0.
func (c Comparison) Detected() bool { return c.NPairs >= 2 && (c.CI95[0] > 0 || c.CI95[1] < 0) }

// metric is one number of a main run that the study compares.
type metric struct {
	key, label string
	lower      bool // lower is better
	get        func(Result) (float64, bool)
}

// neutral lists the metrics of which neither direction is better. C_T is
// 0 when samples sit as near the training images as held-out images do,
// below 0 when they copy, above 0 when they sit farther (worse samples):
// a paired difference says higher or lower, not better or worse.
var neutral = map[string]bool{"c_t": true, "c_t_last": true}

// direction names which way a paired difference d of m went.
func (m metric) direction(d float64) string {
	if neutral[m.key] {
		return map[bool]string{true: "lower", false: "higher"}[d < 0]
	}
	return map[bool]string{true: "better", false: "worse"}[(d < 0) == m.lower]
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
	{"steps_to_ce_best", "steps to CE's best", true, opt(func(r Result) *float64 {
		if r.StepsToCEBest == nil {
			return nil
		}
		v := float64(*r.StepsToCEBest)
		return &v
	})},
	{"steps_to_ce_best_ratio", "steps to CE's best / CE's", true, opt(func(r Result) *float64 { return r.StepsRatio })},
	{"converged", "converged", false, plain(func(r Result) float64 { return map[bool]float64{true: 1}[r.Converged] })},
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
// the ce run of its size and seed, and that step over the ce run's best
// step: sample efficiency.
func setStepsToCEBest(runs []Result) {
	type best struct {
		nll  float64
		step int
	}
	ceBest := map[[2]any]best{}
	for _, r := range runs {
		if !r.Sweep && r.Init == "" && r.Loss == "ce" {
			if b := generator.BestPoint(r.Curve); b >= 0 {
				ceBest[[2]any{r.Size, r.Seed}] = best{r.Curve[b].NLL, r.Curve[b].Step}
			}
		}
	}
	for i, r := range runs {
		target, ok := ceBest[[2]any{r.Size, r.Seed}]
		if r.Sweep || r.Init != "" || !isDist2(r.Loss) && !corrupts(r.Loss) || !ok {
			continue
		}
		runs[i].StepsToCEBest, runs[i].StepsRatio = nil, nil
		for _, p := range r.Curve {
			if p.NLL <= target.nll {
				step, ratio := p.Step, float64(p.Step)/float64(target.step)
				runs[i].StepsToCEBest, runs[i].StepsRatio = &step, &ratio
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

// Merge gathers the finished runs of the study folders inputs into out:
// samples, results.json, report.md, report.html and the plots. Folders
// whose study.json agree, design and tokenizer, are shards of one part;
// folders of other designs or tokenizers are other parts of one report
// (the second edition runs one part per codebook size and budget), which
// must not plan a run of the same name. tok returns a folder's tokenizer,
// which decodes its sample grids. Out's study.json names the design and
// tokenizer of a one-part merge; a merge of several parts writes none, and
// refuses an out that holds a study.
func Merge(out string, inputs []string, tok func(dir string) (Tokenizer, error)) (*Results, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("study: merge: no study folders given")
	}
	var parts []part
	for _, dir := range inputs {
		f, err := readStudyFile(dir)
		if err != nil {
			return nil, err
		}
		t, err := tok(dir)
		if err != nil {
			return nil, err
		}
		k := slices.IndexFunc(parts, func(p part) bool { return reflect.DeepEqual(p.Config, f.Config) && sameFile(p.tok.VQPath, t.VQPath) })
		if k < 0 {
			k = len(parts)
			parts = append(parts, part{Part: Part{Config: f.Config, Planned: len(f.Config.Plan())}, tok: t})
			if t.VQ != nil {
				parts[k].CodebookSize = t.VQ.Config.CodebookSize
			}
		}
		parts[k].Folders = append(parts[k].Folders, dir)
	}
	planned := map[string]int{} // run -> the part that plans it
	for k, p := range parts {
		for _, r := range p.Config.Plan() {
			j, dup := planned[r.Name]
			if !dup {
				planned[r.Name] = k
				continue
			}
			q := parts[j]
			how := diff(q.Config, p.Config)
			if reflect.DeepEqual(q.Config, p.Config) {
				how = fmt.Sprintf("tokenizer %s against %s", q.tok.VQPath, p.tok.VQPath)
			}
			return nil, fmt.Errorf("study: %s and %s both plan run %s, but hold different studies (%s): shards of one study need one design and tokenizer, and parts of one report name their runs apart (--codebook-size)",
				strings.Join(q.Folders, ", "), strings.Join(p.Folders, ", "), r.Name, how)
		}
	}
	if len(parts) == 1 {
		if err := claim(out, parts[0].Config, parts[0].tok.VQPath); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(filepath.Join(out, specFile)); err == nil {
		return nil, fmt.Errorf("study: %s holds a study: a report of %d parts (%s) goes to a folder of its own", out, len(parts), strings.Join(inputs, ", "))
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	res := &Results{Config: parts[0].Config, Comparisons: []Comparison{}}
	for k := range parts {
		p := &parts[k]
		runs, from, err := readRuns(p.Folders)
		if err != nil {
			return nil, err
		}
		order := map[string]int{}
		for i, r := range p.Config.Plan() {
			order[r.Name] = i
		}
		slices.SortFunc(runs, func(a, b Result) int { return order[a.Name] - order[b.Name] })
		for _, r := range runs {
			if r.Samples == "" || from[r.Name] == out {
				continue
			}
			src, dst := filepath.Join(from[r.Name], r.Samples), filepath.Join(out, r.Samples)
			for _, q := range [][2]string{{dst, src}, {imageio.LabelsPath(dst), imageio.LabelsPath(src)}} {
				if err := os.MkdirAll(filepath.Dir(q[0]), 0o755); err != nil {
					return nil, err
				}
				if err := atomicfile.Copy(q[0], q[1]); err != nil {
					return nil, err
				}
			}
		}
		setStepsToCEBest(runs)
		for _, cm := range comparisons(runs, p.Config) {
			cm.CodebookSize = p.CodebookSize
			res.Comparisons = append(res.Comparisons, cm)
		}
		p.runs = runs
		res.Runs = append(res.Runs, runs...)
		res.Planned += p.Planned
		if p.tok.VQPath != "" {
			p.Tokenizer = rel(out, p.tok.VQPath)
		}
		for i, f := range p.Folders {
			p.Folders[i] = rel(out, f)
		}
		if len(parts) > 1 {
			res.Parts = append(res.Parts, p.Part)
		}
	}
	res.parts = parts
	res.Sweep = sweepRows(res.Runs)
	var err error
	if res.Choice, err = parts[0].Config.chooseFrom(parts[0].runs); err != nil && !errors.Is(err, ErrNeedSweep) {
		return nil, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(out, resultsFile), res); err != nil {
		return nil, err
	}
	return res, res.write(out)
}

// sameFile reports whether paths a and b name one file (or are both empty).
func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	if a == "" || b == "" {
		return a == b
	}
	x, errA := os.Stat(a)
	y, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(x, y)
}
