package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/nn"
)

// Point is one measurement of the validation curve.
type Point struct {
	Step   int     `json:"step"`
	ValNLL float64 `json:"val_nll_bits"`
}

// trained is a finished run's two checkpoints and its curve.
type trained struct {
	best, last *generator.Model
	bestStep   int
	curve      []Point
	loss       dist2.Built
	seconds    float64
}

const (
	curveFile = "curve.json"
	bestDir   = "best"
)

// spec is the loss of a run.
func (c Config) spec(r RunSpec) dist2.Spec {
	s := dist2.Spec{Kind: r.Loss, Smoothing: c.Smoothing}
	if r.Loss == "dist2" {
		s = dist2.Spec{Kind: "dist2", Alpha: r.Alpha, Perplexity: r.Perplexity, Distance: c.Distance, TargetTopK: dist2.AutoTargetTopK}
	}
	return s
}

// train trains run r in dir (resuming what is there) on its subset and keeps
// the checkpoint of the lowest validation NLL in dir/best; onStep, if not
// nil, hears each step.
func (c Config) train(ctx context.Context, s *split, r RunSpec, subset generator.Tokens, dir string, logf func(string, ...any), onStep func(string, int, int, float64)) (*trained, error) {
	vq := s.VQ
	loss, built, err := vq.Loss(c.spec(r))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.Name, err)
	}
	val := head(s.val, c.ValLimit)
	info := generator.Info{Loss: built, Classes: s.Classes, Data: fmt.Sprintf("study subset of %d grids", subset.N)}
	tr, _, err := generator.Resume(dir, subset, loss)
	var curve []Point
	switch {
	case errors.Is(err, nn.ErrNoCheckpoint):
		cfg := generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: len(s.Classes), Len: subset.Len, GridH: vq.Config.Grid(), GridW: vq.Config.Grid(),
			Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, MLP: c.MLP}
		m, err := generator.New(cfg, rand.New(rand.NewPCG(r.Seed, 0x6e4)))
		if err != nil {
			return nil, err
		}
		if tr, err = generator.NewTrainer(m, subset, loss, c.trainConfig(subset.N, r.Seed)); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if want := c.trainConfig(subset.N, r.Seed); tr.Config != want {
			return nil, fmt.Errorf("%s holds a run trained with %+v: this study wants %+v", dir, tr.Config, want)
		}
		if curve, err = readCurve(dir, tr.Step); err != nil {
			return nil, err
		}
		logf("run %s: resuming at step %d of %d", r.Name, tr.Step, tr.Config.Steps)
	}
	dist, err := vq.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for tr.Step < tr.Config.Steps {
		if err := ctx.Err(); err != nil {
			if serr := tr.SaveCheckpoint(dir, info); serr != nil {
				return nil, serr
			}
			return nil, err
		}
		st, err := tr.TrainStep()
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		if onStep != nil {
			onStep(r.Name, tr.Step, tr.Config.Steps, st.Loss)
		}
		if tr.Step%c.EvalEvery != 0 && tr.Step != tr.Config.Steps {
			continue
		}
		e, err := tr.Model.Evaluate(val, dist)
		if err != nil {
			return nil, err
		}
		if best := bestPoint(curve); best < 0 || e.NLL < curve[best].ValNLL {
			if err := tr.Model.Save(filepath.Join(dir, bestDir), withStep(info, tr.Step)); err != nil {
				return nil, err
			}
		}
		curve = append(curve, Point{tr.Step, e.NLL})
		// The curve first, then the checkpoint: a kill between the two
		// resumes from the older checkpoint and replays the same steps.
		if err := nn.WriteJSON(filepath.Join(dir, curveFile), curve); err != nil {
			return nil, err
		}
		if err := tr.SaveCheckpoint(dir, info); err != nil {
			return nil, err
		}
		logf("run %s: step %d/%d, validation nll %.3f bits (best %.3f at step %d)", r.Name, tr.Step, tr.Config.Steps,
			e.NLL, curve[bestPoint(curve)].ValNLL, curve[bestPoint(curve)].Step)
	}
	best, _, err := generator.Load(filepath.Join(dir, bestDir))
	if err != nil {
		return nil, err
	}
	return &trained{best: best, last: tr.Model, bestStep: curve[bestPoint(curve)].Step, curve: curve, loss: built,
		seconds: time.Since(start).Seconds()}, nil
}

func withStep(info generator.Info, step int) generator.Info {
	info.Step = step
	return info
}

// bestPoint returns the index of the lowest validation NLL (the earliest on
// ties), -1 for an empty curve.
func bestPoint(curve []Point) int {
	best := -1
	for i, p := range curve {
		if best < 0 || p.ValNLL < curve[best].ValNLL {
			best = i
		}
	}
	return best
}

// readCurve reads a run's curve up to step (a kill can leave points beyond
// the checkpoint it resumes from).
func readCurve(dir string, step int) ([]Point, error) {
	b, err := os.ReadFile(filepath.Join(dir, curveFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var curve []Point
	if err := json.Unmarshal(b, &curve); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, curveFile), err)
	}
	for i, p := range curve {
		if p.Step > step || math.IsNaN(p.ValNLL) {
			return curve[:i], nil
		}
	}
	return curve, nil
}
