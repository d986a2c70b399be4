package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/metrics"
)

// Result is one scored run, as results.json lists it. Sweep runs are scored
// against the validation split, main runs against the test split (Against
// says which); fields ending in _last score the last checkpoint of the
// budget, the others the best one.
type Result struct {
	RunSpec
	Against          string   `json:"against"`
	Tau              float64  `json:"tau"` // dist2 only
	Steps            int      `json:"steps"`
	BestStep         int      `json:"best_step"`
	TrainSeconds     float64  `json:"train_seconds"` // of the session that finished the training: a resumed run's counts what followed the resume
	EvalSeconds      float64  `json:"eval_seconds"`  // the scoring after training: held-out NLL, samples, extraction
	ValNLL           float64  `json:"val_nll_bits"`
	TestNLL          float64  `json:"test_nll_bits,omitempty"` // main runs only: the sweep never touches the test split
	TrainNLL         float64  `json:"train_nll_bits"`
	Gap              float64  `json:"nll_gap_bits"` // validation - training NLL
	TokenAcc         float64  `json:"token_acc"`
	ExpectedDistance float64  `json:"expected_distance"`
	NearCopies       float64  `json:"near_copies"`
	FLDT1            float64  `json:"fld_t1"`
	FLDNovelT1       *float64 `json:"fld_novel_t1"`
	FLDTopK          float64  `json:"fld_topk"`
	KIDT1            float64  `json:"kid_t1"` // x 10^3
	KIDStdT1         float64  `json:"kid_std_t1"`
	PrecisionT1      float64  `json:"precision_t1"`
	RecallT1         float64  `json:"recall_t1"`
	ClassAccT1       float64  `json:"class_acc_t1"`
	InitStep         int      `json:"init_step,omitempty"`         // fine-tune arm: the step of the checkpoint it started from
	InitWeights      string   `json:"init_weights,omitempty"`      // fine-tune arm: that checkpoint's fingerprint (generator.InitRef)
	InitValNLL       float64  `json:"init_val_nll_bits,omitempty"` // fine-tune arm: its validation NLL as the curve measures it (step 0)
	TestNLLLast      float64  `json:"test_nll_bits_last,omitempty"`
	NearCopiesLast   float64  `json:"near_copies_last"`
	FLDT1Last        float64  `json:"fld_t1_last"`
	FLDNovelT1Last   *float64 `json:"fld_novel_t1_last"`
	ClassAccT1Last   float64  `json:"class_acc_t1_last"`
	CodebookSize     int      `json:"codebook_size,omitempty"`
	TargetTopK       int      `json:"target_topk,omitempty"`  // dist2: the nearest codes each target row keeps (0: all)
	DroppedMass      float64  `json:"dropped_mass,omitempty"` // dist2: the mean target mass that truncation dropped
	Corrupt          float64  `json:"corrupt"`                // the token corruption it trained with (0: off)
	Patience         int      `json:"patience"`               // early stopping's measurements (0: the fixed budget)
	Converged        bool     `json:"converged"`              // patience ended it before its budget
	CT               *float64 `json:"c_t"`                    // C_T of the best checkpoint's samples at T=1 (Scores.CT)
	CTLast           *float64 `json:"c_t_last"`
	// Extraction maps the tokens given of a training grid (as a string) to
	// the share of Config.ExtractionGrids training grids the best checkpoint
	// completes to themselves at T = 1 (generator.Model.Extraction: >= 90%
	// of the drawn tokens); ExtractionGreedy the same greedy (top-k 1), and
	// ExtractionLast of the last checkpoint at T = 1. Main runs only.
	Extraction       map[string]float64 `json:"extraction,omitempty"`
	ExtractionGreedy map[string]float64 `json:"extraction_greedy,omitempty"`
	ExtractionLast   map[string]float64 `json:"extraction_last,omitempty"`
	// StepsToCEBest is, for a dist2 or corrupt run, the first step at which
	// its validation curve reaches the best validation NLL of the ce run of
	// its size and seed; null when it never does, or there is no such run
	// (and for the other arms).
	StepsToCEBest *int `json:"steps_to_ce_best"`
	// StepsRatio is StepsToCEBest over the ce run's best step: under 1, the
	// run reached CE's best in fewer steps than CE did.
	StepsRatio *float64 `json:"steps_to_ce_best_ratio"`
	Samples    string   `json:"samples,omitempty"` // tokens [N, H, W] of the best checkpoint at T=1, relative to the study folder
	Curve      []Point  `json:"curve"`
	Scores     []Scores `json:"scores"`      // the best checkpoint at each temperature, then top-k
	ScoresLast []Scores `json:"scores_last"` // the last checkpoint at temperature 1
}

// at returns the scores of temperature t without truncation.
func (r Result) at(t float64) (Scores, bool) {
	for _, s := range r.Scores {
		if s.Temperature == t && s.TopK == 0 {
			return s, true
		}
	}
	return Scores{}, false
}

// Options say where a study runs and which part of it.
type Options struct {
	Dir   string
	Shard Shard
	// With lists other folders of the same study (other shards) whose
	// finished sweep runs count when choosing the DIST2 setting, and whose
	// ce runs the fine-tune arm starts from.
	With []string
	Logf func(format string, args ...any) // progress; nil is silent
	// OnStep, if not nil, hears each training step of a run: its name, the
	// steps done and to do, and the step's loss.
	OnStep func(run string, step, steps int, loss float64)
}

const (
	specFile    = "study.json"
	resultFile  = "result.json"
	resultsFile = "results.json"
)

// ErrNeedSweep reports runs that wait for runs of other shards: the main
// dist2 runs for the sweep, the fine-tune arm for its ce runs.
var ErrNeedSweep = errors.New("study: runs wait for runs of other shards")

// Run runs the study's runs of o.Shard into o.Dir (keeping finished runs,
// resuming unfinished ones), then writes results.json, report.md and
// report.html over the runs the folder holds.
func Run(ctx context.Context, c Config, d Data, o Options) (*Results, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if k := d.VQ.Config.CodebookSize; c.CodebookSize > 0 && k != c.CodebookSize {
		return nil, fmt.Errorf("study: the study is of codebook size %d: the tokenizer %s has %d codes", c.CodebookSize, d.VQPath, k)
	}
	if err := claim(o.Dir, c, d.VQPath); err != nil {
		return nil, err
	}
	s, err := c.split(d)
	if err != nil {
		return nil, err
	}
	plan := c.Plan()
	dirs := append([]string{o.Dir}, o.With...)
	var waiting []string
	for pass := range 4 {
		var choice *Choice
		var chooseErr error
		var parents map[string]string // finished run -> its study folder
		switch pass {
		case 2:
			if choice, chooseErr = c.choose(dirs); chooseErr != nil && !errors.Is(chooseErr, ErrNeedSweep) {
				return nil, chooseErr
			}
		case 3:
			if _, parents, err = readRuns(dirs); err != nil {
				return nil, err
			}
		}
		var needSweep []string
		for k, r := range plan {
			if !o.Shard.Has(k) || r.pass() != pass {
				continue
			}
			from := ""
			switch {
			case pass == 2 && choice == nil:
				needSweep = append(needSweep, r.Name)
				continue
			case pass == 2:
				r.Alpha, r.Perplexity = choice.Alpha, choice.Perplexity
			case pass == 3:
				if dir, ok := parents[r.Init]; ok {
					from = filepath.Join(dir, "runs", r.Init, generator.BestDir)
				} else if _, err := os.Stat(filepath.Join(o.Dir, "runs", r.Name, resultFile)); err != nil {
					waiting = append(waiting, fmt.Sprintf("%s waits for %s", r.Name, r.Init))
					continue
				}
			}
			if _, err := c.runOne(ctx, s, r, from, o.Dir, logf, o.OnStep); err != nil {
				return nil, err
			}
		}
		if len(needSweep) > 0 {
			waiting = append(waiting, fmt.Sprintf("%s wait for the sweep (%s)", strings.Join(needSweep, ", "),
				strings.TrimPrefix(chooseErr.Error(), ErrNeedSweep.Error()+": ")))
		}
	}
	res, err := Merge(o.Dir, []string{o.Dir}, d.Tokenizer.For)
	if err != nil {
		return nil, err
	}
	if len(waiting) > 0 {
		return res, fmt.Errorf("%w: %s; run the other shards, then this one again with --with their folders", ErrNeedSweep, strings.Join(waiting, "; "))
	}
	return res, nil
}

// claim writes the study's Config and its tokenizer vq (a folder; empty:
// none) into dir's study.json, or checks that the Config there is c. A
// study.json that names no tokenizer (an older one) gets vq; one that names
// another tokenizer, still on disk, refuses vq.
func claim(dir string, c Config, vq string) error {
	path := filepath.Join(dir, specFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return atomicfile.WriteJSON(path, studyFile{Config: c, Tokenizer: rel(dir, vq)})
	}
	if err != nil {
		return err
	}
	var saved studyFile
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !reflect.DeepEqual(saved.Config, c) {
		return fmt.Errorf("%s holds another study (%s): continue it with its own settings, or choose another folder", dir, diff(saved.Config, c))
	}
	if vq == "" {
		return nil
	}
	if saved.Tokenizer != "" {
		was := filepath.Join(dir, saved.Tokenizer)
		a, errA := os.Stat(was)
		b, errB := os.Stat(vq)
		switch {
		case errA == nil && errB == nil && os.SameFile(a, b):
			return nil
		case errA == nil:
			return fmt.Errorf("%s is a study of the tokenizer %s: given %s (continue it with its own tokenizer, or choose another folder)", dir, was, vq)
		}
	}
	saved.Tokenizer = rel(dir, vq)
	return atomicfile.WriteJSON(path, saved)
}

// rel is path relative to dir, kept empty.
func rel(dir, path string) string {
	if path == "" {
		return ""
	}
	return rundir.Rel(dir, path)
}

// diff names the first setting two configs disagree on.
func diff(saved, given Config) string {
	a, b := reflect.ValueOf(saved), reflect.ValueOf(given)
	for i := range a.NumField() {
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			return fmt.Sprintf("%s saved %v, given %v", a.Type().Field(i).Name, a.Field(i).Interface(), b.Field(i).Interface())
		}
	}
	return "no difference"
}

// runOne trains and scores one run, or reads its result when it is done;
// from is the folder of the weights a fine-tune run starts from.
func (c Config) runOne(ctx context.Context, s *split, r RunSpec, from, dir string, logf func(string, ...any), onStep func(string, int, int, float64)) (Result, error) {
	rdir := filepath.Join(dir, "runs", r.Name)
	if res, err := readResult(filepath.Join(rdir, resultFile)); err == nil {
		if res.RunSpec != r {
			return res, fmt.Errorf("%s is %+v: the study now wants %+v", rdir, res.RunSpec, r)
		}
		return res, nil
	}
	idx, err := Balanced(s.pool.Labels, len(s.Classes), r.Size)
	if err != nil {
		return Result{}, err
	}
	subset := gather(s.pool, idx)
	if r.Init != "" && from == "" {
		return Result{}, fmt.Errorf("study: run %s starts from %s: no folder given", r.Name, r.Init)
	}
	logf("run %s: %d grids, %d steps%s", r.Name, subset.N, c.steps(r, subset.N), map[bool]string{true: ", from " + from}[from != ""])
	t, err := c.train(ctx, s, r, subset, rdir, from, logf, onStep)
	if err != nil {
		return Result{}, err
	}
	scored := time.Now()
	res := Result{RunSpec: r, Against: "test", Tau: t.loss.Tau, BestStep: t.bestStep, TrainSeconds: t.seconds, Curve: t.curve,
		CodebookSize: s.VQ.Config.CodebookSize, Patience: c.Patience, Converged: t.converged}
	res.Steps = c.steps(r, subset.N)
	if corrupts(r.Loss) {
		res.Corrupt = c.Corrupt
	}
	res.TargetTopK, res.DroppedMass = t.loss.TopK, t.loss.Dropped
	per := len(s.TrainPix) / s.Train.N
	subPix := make([]float32, 0, len(idx)*per)
	for _, i := range idx {
		subPix = append(subPix, s.TrainPix[i*per:(i+1)*per]...)
	}
	trainFeat, _, err := s.LeNet.Run(subPix, len(idx))
	if err != nil {
		return res, err
	}
	if t.start != nil {
		res.InitStep, res.InitWeights, res.InitValNLL = t.start.Step, t.start.Weights, t.startNLL
	}
	real, nReal := s.testFeat, s.nTest
	if r.Sweep {
		res.Against, real, nReal = "validation", s.valFeat, s.nVal
	}
	d, err := s.VQ.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		return res, err
	}
	dist := dist2.NewDense(d) // once for the five evaluations
	ev := func(m *generator.Model, t generator.Tokens) (generator.Eval, error) { return m.Evaluate(t, dist) }
	val, err := ev(t.best, s.val)
	if err != nil {
		return res, err
	}
	tr, err := ev(t.best, head(subset, s.nVal))
	if err != nil {
		return res, err
	}
	res.ValNLL, res.TrainNLL, res.Gap = val.NLL, tr.NLL, val.NLL-tr.NLL
	res.TokenAcc, res.ExpectedDistance = val.Accuracy, val.ExpectedDistance
	if !r.Sweep {
		te, err := ev(t.best, s.Test)
		if err != nil {
			return res, err
		}
		tl, err := ev(t.last, s.Test)
		if err != nil {
			return res, err
		}
		res.TestNLL, res.TestNLLLast = te.NLL, tl.NLL
		res.TokenAcc, res.ExpectedDistance = te.Accuracy, te.ExpectedDistance
	}
	sc := generator.SampleConfig{Temperature: 1, TopP: 1, CFG: c.CFG, Seed: r.Seed}
	var samples []int32
	var classes []int32
	for _, temp := range c.Temperatures {
		sc.Temperature = temp
		got, tokens, cls, err := c.score(ctx, s, t.best, subset, trainFeat, sc, real, nReal)
		if err != nil {
			return res, err
		}
		res.Scores = append(res.Scores, got)
		if temp == 1 {
			samples, classes = tokens, cls
		}
	}
	sc.Temperature = 1
	if samples == nil {
		got, tokens, cls, err := c.score(ctx, s, t.best, subset, trainFeat, sc, real, nReal)
		if err != nil {
			return res, err
		}
		res.Scores, samples, classes = append(res.Scores, got), tokens, cls
	}
	if c.TopK > 0 && !r.Sweep {
		sc.TopK = c.TopK
		got, _, _, err := c.score(ctx, s, t.best, subset, trainFeat, sc, real, nReal)
		if err != nil {
			return res, err
		}
		res.Scores = append(res.Scores, got)
		res.FLDTopK = got.FLD
		sc.TopK = 0
	}
	last, _, _, err := c.score(ctx, s, t.last, subset, trainFeat, sc, real, nReal)
	if err != nil {
		return res, err
	}
	res.ScoresLast = []Scores{last}
	t1, _ := res.at(1)
	res.NearCopies, res.FLDT1, res.FLDNovelT1, res.KIDT1, res.KIDStdT1 = t1.NearCopies, t1.FLD, t1.FLDNovel, t1.KID, t1.KIDStd
	res.PrecisionT1, res.RecallT1, res.ClassAccT1 = t1.Precision, t1.Recall, t1.ClassAcc
	res.NearCopiesLast, res.FLDT1Last, res.FLDNovelT1Last, res.ClassAccT1Last = last.NearCopies, last.FLD, last.FLDNovel, last.ClassAcc
	res.CT, res.CTLast = t1.CT, last.CT
	if !r.Sweep && len(c.ExtractionGiven) > 0 && c.ExtractionGrids > 0 {
		grids := head(subset, c.ExtractionGrids)
		t1 := generator.SampleConfig{Temperature: 1, TopP: 1, CFG: 1, Seed: r.Seed}
		greedy := t1
		greedy.TopK = 1
		for _, x := range []struct {
			m   *generator.Model
			sc  generator.SampleConfig
			out *map[string]float64
		}{{t.best, t1, &res.Extraction}, {t.best, greedy, &res.ExtractionGreedy}, {t.last, t1, &res.ExtractionLast}} {
			*x.out = map[string]float64{}
			for _, g := range c.ExtractionGiven {
				share, err := x.m.Extraction(grids, g, x.sc, metrics.NearCopyThreshold)
				if err != nil {
					return res, fmt.Errorf("run %s: extraction from %d tokens: %w", r.Name, g, err)
				}
				(*x.out)[strconv.Itoa(g)] = share
			}
		}
	}
	if !r.Sweep {
		res.Samples = filepath.Join("samples", r.Name+".npy")
		g := s.VQ.Config.Grid()
		if err := mkdirFor(filepath.Join(dir, res.Samples)); err != nil {
			return res, err
		}
		if err := imageio.SaveTokens(filepath.Join(dir, res.Samples), &imageio.Tokens{Codes: samples, Labels: classes, N: c.Samples, H: g, W: g}); err != nil {
			return res, err
		}
	}
	logf("run %s: best step %d of %d, %s nll %.3f bits, near copies %.1f%%, FLD %.2f (novel %s), class acc %.3f",
		r.Name, res.BestStep, res.Steps, res.Against, map[bool]float64{true: res.ValNLL, false: res.TestNLL}[r.Sweep],
		100*res.NearCopies, res.FLDT1, fmtOpt(res.FLDNovelT1, "%.2f"), res.ClassAccT1)
	res.EvalSeconds = time.Since(scored).Seconds()
	return res, atomicfile.WriteJSON(filepath.Join(rdir, resultFile), res)
}

func fmtOpt(v *float64, format string) string {
	if v == nil || math.IsNaN(*v) {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

func readResult(path string) (Result, error) {
	var r Result
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// readRuns reads the finished runs under the study folders dirs, the first
// folder's copy of a run winning.
func readRuns(dirs []string) ([]Result, map[string]string, error) {
	var out []Result
	from := map[string]string{}
	for _, dir := range dirs {
		paths, err := filepath.Glob(filepath.Join(dir, "runs", "*", resultFile))
		if err != nil {
			return nil, nil, err
		}
		slices.Sort(paths)
		for _, p := range paths {
			r, err := readResult(p)
			if err != nil {
				return nil, nil, err
			}
			if _, dup := from[r.Name]; dup {
				continue
			}
			from[r.Name] = dir
			out = append(out, r)
		}
	}
	return out, from, nil
}

func mkdirFor(path string) error { return os.MkdirAll(filepath.Dir(path), 0o755) }
