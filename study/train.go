package study

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/nn"
)

// Point is one measurement of the validation curve.
type Point = generator.Point

// trained is a finished run's two checkpoints and its curve.
type trained struct {
	best, last *generator.Model
	bestStep   int
	curve      []Point
	loss       dist2.Built
	seconds    float64
	// start is the checkpoint a fine-tune run started from, and startNLL
	// its held-out NLL as the curve measures it: the run's step 0.
	start    *generator.InitRef
	startNLL float64
	// converged says Config.Patience ended the run before its budget.
	converged bool
}

// spec is the loss of a run.
func (c Config) spec(r RunSpec) dist2.Spec {
	s := dist2.Spec{Kind: r.Loss, Smoothing: c.Smoothing}
	switch r.Loss {
	case corruptLoss: // CE on corrupted inputs (trainConfig)
		s.Kind = "ce"
	case "dist2", corruptDist2: // corruptDist2 corrupts its inputs too (trainConfig)
		s = dist2.Spec{Kind: "dist2", Alpha: r.Alpha, Perplexity: r.Perplexity, Distance: c.Distance, TargetTopK: dist2.AutoTargetTopK}
	}
	return s
}

// train trains run r in dir (resuming what is there) on its subset and keeps
// the checkpoint of the lowest validation NLL in dir/best; from, when not
// empty, is the folder of the weights a new run starts from (with a fresh
// optimiser); onStep, if not nil, hears each step.
func (c Config) train(ctx context.Context, s *split, r RunSpec, subset generator.Tokens, dir, from string, logf func(string, ...any), onStep func(string, int, int, float64)) (*trained, error) {
	run, built, err := c.run(s, r, subset, dir)
	if err != nil {
		return nil, err
	}
	t := &trained{loss: built}
	if from != "" {
		m, ref, err := generator.LoadInit(from, run.Config, nil)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		// Measured before Train moves the weights.
		e, err := m.Evaluate(*run.HeldOut, run.Distance)
		if err != nil {
			return nil, err
		}
		ref.Path = rundir.Rel(dir, from)
		run.Init, run.Info.Init = m, &ref
		t.start, t.startNLL = &ref, e.NLL
	}
	run.Logf = func(format string, args ...any) { logf("run "+r.Name+": "+format, args...) }
	if onStep != nil {
		run.Progress = func(done, total int, st *generator.StepStats, _ *generator.Eval) {
			if st != nil {
				onStep(r.Name, done, total, st.Loss)
			}
		}
	}
	res, err := generator.Train(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.Name, err)
	}
	best, _, err := generator.Load(filepath.Join(dir, generator.BestDir))
	if err != nil {
		return nil, err
	}
	t.best, t.last, t.bestStep, t.curve, t.seconds, t.converged = best, res.Model, res.BestStep, res.Curve, res.Seconds, res.Converged
	return t, nil
}

// run is the training run of r in dir: an ordinary generator run folder,
// which vqtool sample --gen opens, measured on the validation grids every
// EvalEvery steps and saved at each measurement.
func (c Config) run(s *split, r RunSpec, subset generator.Tokens, dir string) (generator.Run, dist2.Built, error) {
	vq := s.VQ
	loss, built, err := vq.Loss(c.spec(r))
	if err != nil {
		return generator.Run{}, built, fmt.Errorf("run %s: %w", r.Name, err)
	}
	dist, err := vq.Codebook.Distance(dist2.SquaredL2)
	if err != nil {
		return generator.Run{}, built, err
	}
	val := head(s.val, c.ValLimit)
	info := generator.Info{Loss: built, Classes: s.Classes, Data: fmt.Sprintf("study subset of %d grids", subset.N)}
	if s.VQPath != "" {
		info.VQ = rundir.Rel(dir, s.VQPath)
		if info.VQWeights, err = nn.Fingerprint(filepath.Join(s.VQPath, nn.ModelFile)); err != nil {
			return generator.Run{}, built, err
		}
	}
	return generator.Run{Dir: dir, Loss: loss, Info: info, Data: subset, HeldOut: &val, Distance: dist,
		Config: generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: len(s.Classes), Len: subset.Len,
			GridH: vq.Config.Grid(), GridW: vq.Config.Grid(), Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, MLP: c.MLP},
		Train:     c.trainConfig(r, subset.N),
		EvalEvery: c.EvalEvery, SaveEvery: c.EvalEvery, KeepBest: true, Patience: c.Patience}, built, nil
}
