package generator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/internal/seeds"
)

// A Run is a training run of a generator in a run folder: the model it
// starts from, how it is trained, on what, and how often it is measured and
// saved. Train carries it out.
type Run struct {
	Dir string // the run folder: config.json, model.safetensors, resume.safetensors, metrics.jsonl

	// Config is the model of a new run, with weights drawn from
	// Train.Seed; Init, when not nil, is the start instead: its weights
	// and architecture, with a fresh optimiser.
	Config Config
	Init   *Model
	Train  TrainConfig
	Loss   *dist2.Loss
	// Info is what config.json records beside the model, its step and
	// Train: the loss, the tokenizer, the data, the class names, the
	// flags.
	Info Info

	Data    Tokens
	HeldOut *Tokens // measured every EvalEvery steps and at the end; nil: never
	// Distance is the codebook distance of the held-out errors (nil: not
	// measured).
	Distance dist2.Distance

	EvalEvery int  // steps between held-out measurements (0: at the end only)
	SaveEvery int  // steps between checkpoints (0: at the end only); a cancelled run is saved too
	KeepBest  bool // keep the weights of the lowest held-out NLL in Dir/best
	// Patience, when > 0, ends the run once that many held-out
	// measurements in a row have not improved on the best: early stopping,
	// with Train.Steps as the ceiling. It needs HeldOut and EvalEvery.
	Patience int

	// Progress, if not nil, hears where the run starts (s nil) and then
	// every step: the steps done and of the whole run, the step's
	// statistics and the last held-out measurement (nil before the first).
	Progress func(done, total int, s *StepStats, last *Eval)
	// OnEval, if not nil, runs after each held-out measurement (to draw
	// samples, say).
	OnEval func(m *Model, e Eval) error
	Logf   func(format string, args ...any)
}

// BestDir is the folder of a run's best weights (Run.KeepBest).
const BestDir = "best"

// Point is one held-out measurement of a run.
type Point struct {
	Step int     `json:"step"`
	NLL  float64 `json:"val_nll_bits"`
}

// Result is what a finished run reached.
type Result struct {
	Model    *Model    // the weights at the end
	Steps    int       // the steps of the run
	Last     StepStats // the last step of this session (zero when there was none)
	HeldOut  *Eval     // the final held-out measurement, nil without held-out data
	Curve    []Point   // every held-out measurement of the run, resumed sessions included
	BestStep int       // the step of the lowest held-out NLL (Curve's), 0 without one
	// Converged is true when Patience ended the run before its ceiling.
	Converged bool
	Seconds   float64 // the time this session trained
}

// Train carries out r: it continues the run r.Dir holds, or starts one
// there when it holds none (callers that want one or the other check
// first: rundir.CheckFresh, nn.ErrNoCheckpoint). A run continued must have
// been started with r.Train. Train locks the folder, logs every step and
// measurement to metrics.jsonl, saves every SaveEvery steps, at the end and
// when ctx is cancelled (returning ctx's error), and keeps the folder's last
// complete checkpoint when a write fails.
func Train(ctx context.Context, r Run) (*Result, error) {
	if r.Patience < 0 || r.Patience > 0 && (r.HeldOut == nil || r.EvalEvery < 1) {
		return nil, fmt.Errorf("generator: patience %d: want 0 (off), or a count of measurements with held-out data measured every EvalEvery >= 1 steps", r.Patience)
	}
	logf := r.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return nil, err
	}
	tr, saved, err := r.open(logf)
	if err != nil {
		return nil, err
	}
	release, metrics, err := rundir.Start(r.Dir, tr.Step, logf)
	if err != nil {
		return nil, err
	}
	defer release()
	res := &Result{Model: tr.Model}
	if res.Curve, err = readCurve(filepath.Join(r.Dir, rundir.MetricsFile)); err != nil {
		return nil, err
	}
	info := r.Info
	if w := saved.VQWeights; w != "" && info.VQWeights != "" && w != info.VQWeights {
		return nil, fmt.Errorf("generator: the run in %s was trained on the tokens of a tokenizer with weights %s; %s has weights %s: --vq points at the tokenizer: give the one the run started with",
			r.Dir, w, info.VQ, info.VQWeights)
	}
	if info.Init == nil {
		info.Init = saved.Init // a continued run keeps its start
	}
	if info.Flags == nil {
		info.Flags = saved.Flags
	}
	var last *Eval
	var dist dist2.Distance // dense at the first measurement, once (4 K^2 bytes)
	evaluate := func() error {
		if r.HeldOut == nil {
			return nil
		}
		if dist == nil && r.Distance != nil {
			dist = dist2.NewDense(r.Distance)
		}
		e, err := tr.Model.Evaluate(*r.HeldOut, dist)
		if err != nil {
			return err
		}
		last = &e
		if err := metrics.Add(map[string]any{"step": tr.Step, "held_out": e}); err != nil {
			return err
		}
		if r.KeepBest && (len(res.Curve) == 0 || e.NLL < res.Curve[BestPoint(res.Curve)].NLL) {
			if err := tr.Model.Save(filepath.Join(r.Dir, BestDir), withStep(info, tr.Step)); err != nil {
				return err
			}
		}
		res.Curve = append(res.Curve, Point{tr.Step, e.NLL})
		if r.OnEval != nil {
			return r.OnEval(tr.Model, e)
		}
		return nil
	}
	save := func() error { return tr.SaveCheckpoint(r.Dir, info) }
	patient := func() bool { // Patience measurements without a new best
		n := len(res.Curve)
		return r.Patience > 0 && n > 0 && n-1-BestPoint(res.Curve) >= r.Patience
	}
	start := time.Now()
	if r.Progress != nil {
		r.Progress(tr.Step, tr.Config.Steps, nil, nil)
	}
	loop := rundir.Loop{Dir: r.Dir, Done: func() int { return tr.Step }, Total: tr.Config.Steps,
		Save: save, Diverged: ErrNotFinite, Logf: logf, Stop: patient,
		Step: func() (string, error) {
			s, err := tr.TrainStep()
			if err != nil {
				return "", err
			}
			res.Last = s
			if err := metrics.Add(s); err != nil {
				return "", err
			}
			if r.Progress != nil {
				r.Progress(tr.Step, tr.Config.Steps, &s, last)
			}
			return "", nil
		},
		Periodic: []rundir.Periodic{{N: r.EvalEvery, F: func() error {
			if tr.Step == tr.Config.Steps {
				return nil // the final measurement follows
			}
			return evaluate()
		}}, {N: r.SaveEvery, F: save}},
	}
	if err := loop.Run(ctx); err != nil {
		return nil, err
	}
	if n := len(res.Curve); r.HeldOut != nil && (n == 0 || res.Curve[n-1].Step != tr.Step) {
		if err := evaluate(); err != nil {
			return nil, loop.Kept(err)
		}
	}
	res.Steps, res.Seconds = tr.Step, time.Since(start).Seconds()
	if res.Converged = patient(); res.Converged {
		logf("stopped at step %d of %d: no better held-out NLL in %d measurements (best at step %d)",
			tr.Step, tr.Config.Steps, r.Patience, res.Curve[BestPoint(res.Curve)].Step)
	}
	res.HeldOut = last
	if last != nil {
		info.Metrics = last.Metrics()
	}
	if len(res.Curve) > 0 {
		res.BestStep = res.Curve[BestPoint(res.Curve)].Step
	}
	if err := save(); err != nil {
		return nil, loop.Kept(err)
	}
	return res, nil
}

// open continues the run in r.Dir, with the Info it saved, or makes a new
// one.
func (r Run) open(logf func(string, ...any)) (*Trainer, Info, error) {
	tr, saved, err := Resume(r.Dir, r.Data, r.Loss)
	switch {
	case err == nil:
		if tr.Config != r.Train {
			return nil, saved, fmt.Errorf("generator: %s holds a run trained with %+v: this one asks for %+v (continue it with its own settings, or choose another folder)",
				r.Dir, tr.Config, r.Train)
		}
		logf("resuming %s at step %d of %d", r.Dir, tr.Step, tr.Config.Steps)
		return tr, saved, nil
	case !errors.Is(err, ErrNoCheckpoint):
		return nil, saved, err
	}
	m := r.Init
	if m == nil {
		if m, err = New(r.Config, seeds.New(r.Train.Seed, seeds.GeneratorWeights)); err != nil {
			return nil, Info{}, err
		}
	}
	if tr, err = NewTrainer(m, r.Data, r.Loss, r.Train); err != nil {
		return nil, Info{}, err
	}
	c, t := m.Config, r.Train
	from := fmt.Sprintf("%d weights", m.NumParams())
	if r.Init != nil && r.Info.Init != nil {
		from = fmt.Sprintf("from %s (step %d)", r.Info.Init.Path, r.Info.Init.Step)
	}
	logf("%d grids of %dx%d, %d classes, %d steps of %d (%.1f epochs), loss %s, %s",
		r.Data.N, c.GridH, c.GridW, c.Classes, t.Steps, t.Batch, float64(t.Steps*t.Batch)/float64(r.Data.N), r.Loss.Kind, from)
	return tr, Info{}, nil
}

func withStep(info Info, step int) Info {
	info.Step = step
	return info
}

// BestPoint returns the index of the lowest NLL of a curve (the earliest on
// ties), -1 for an empty one.
func BestPoint(curve []Point) int {
	best := -1
	for i, p := range curve {
		if best < 0 || p.NLL < curve[best].NLL {
			best = i
		}
	}
	return best
}

// readCurve reads the held-out measurements of a run's log (rundir.Start
// has cut it back to the checkpoint's step). A missing log is an empty
// curve; lines that are not measurements are skipped, as is a line cut short
// by a kill.
func readCurve(path string) ([]Point, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var curve []Point
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Step    int
			HeldOut *struct {
				NLL float64 `json:"nll_bits"`
			} `json:"held_out"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.HeldOut == nil || math.IsNaN(line.HeldOut.NLL) {
			continue
		}
		curve = append(curve, Point{line.Step, line.HeldOut.NLL})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("generator: %s: %w", path, err)
	}
	return curve, nil
}
