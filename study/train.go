package study

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/internal/rundir"
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
}

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
	run, built, err := c.run(s, r, subset, dir)
	if err != nil {
		return nil, err
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
	return &trained{best: best, last: res.Model, bestStep: res.BestStep, curve: res.Curve, loss: built, seconds: res.Seconds}, nil
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
	}
	return generator.Run{Dir: dir, Loss: loss, Info: info, Data: subset, HeldOut: &val, Distance: dist,
		Config: generator.Config{CodebookSize: vq.Config.CodebookSize, Classes: len(s.Classes), Len: subset.Len,
			GridH: vq.Config.Grid(), GridW: vq.Config.Grid(), Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, MLP: c.MLP},
		Train:     c.trainConfig(subset.N, r.Seed),
		EvalEvery: c.EvalEvery, SaveEvery: c.EvalEvery, KeepBest: true}, built, nil
}
