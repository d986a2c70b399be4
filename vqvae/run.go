package vqvae

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/internal/seeds"
	"github.com/vqtool/vqtool/nn"
)

// A Run is a training run of a tokenizer in a run folder: the model, how it
// is trained, on what, and how often it is saved and pictured. Train
// carries it out.
type Run struct {
	Dir    string // the run folder: config.json, model.safetensors, resume.safetensors, metrics.jsonl
	Config Config // the model of a new run, with weights drawn from Train.Seed
	Train  TrainConfig
	// Info is what config.json records beside the model, its step and
	// Train: the data, the flags.
	Info Info

	Data    Images
	HeldOut *Images // measured at the end of each epoch and of the run; nil: never

	SaveEvery    int                  // steps between checkpoints (0: at the end only); a cancelled run is saved too
	PictureEvery int                  // steps between calls of Picture (0: at the end only)
	Picture      func(m *Model) error // draws the model's reconstructions, say; nil: none

	// Progress, if not nil, hears where the run starts (s nil) and then
	// every step: the steps done and of the whole run and the step's
	// statistics.
	Progress func(done, total int, s *StepStats)
	Logf     func(format string, args ...any)
}

// Result is what a finished run reached.
type Result struct {
	Model   *Model
	Steps   int       // the steps of the run
	Last    StepStats // the last step of this session (zero when there was none)
	HeldOut *Eval     // the final held-out measurement, nil without held-out data
	Seconds float64   // the time this session trained
}

// Train carries out r: it continues the run r.Dir holds, or starts one
// there when it holds none (callers that want one or the other check
// first: rundir.CheckFresh, nn.ErrNoCheckpoint). A run continued must have
// been started with r.Train. Train locks the folder, logs every step and
// measurement to metrics.jsonl, saves every SaveEvery steps, at the end and
// when ctx is cancelled (returning ctx's error), and keeps the folder's last
// complete checkpoint when a write fails.
func Train(ctx context.Context, r Run) (*Result, error) {
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
	info := r.Info
	if info.Flags == nil {
		info.Flags = saved.Flags
	}
	res := &Result{Model: tr.Model}
	picture := func() error {
		if r.Picture == nil {
			return nil
		}
		return r.Picture(tr.Model)
	}
	save := func() error { return tr.SaveCheckpoint(r.Dir, info) }
	start, startStep, epoch := time.Now(), tr.Step, tr.Epoch
	if r.Progress != nil {
		r.Progress(tr.Step, tr.Config.Steps, nil)
	}
	loop := rundir.Loop{Dir: r.Dir, Done: func() int { return tr.Step }, Total: tr.Config.Steps,
		Save: save, Diverged: ErrNotFinite, Logf: logf,
		Step: func() (string, error) {
			s, err := tr.TrainStep()
			if err != nil {
				return "", err
			}
			res.Last = s
			rate := float64((tr.Step-startStep)*tr.Config.Batch) / time.Since(start).Seconds()
			if err := metrics.Add(map[string]any{"step": s.Step, "loss": s.Loss, "psnr": s.PSNR, "lr": s.LR,
				"usage": s.Usage, "restarts": s.Restarts, "img_per_s": rate}); err != nil {
				return "", err
			}
			if r.Progress != nil {
				r.Progress(tr.Step, tr.Config.Steps, &s)
			}
			return "", nil
		},
		Periodic: []rundir.Periodic{{N: r.PictureEvery, F: picture}, {N: r.SaveEvery, F: save}, {N: 1, F: func() error {
			if tr.Epoch == epoch || r.HeldOut == nil {
				return nil
			}
			epoch = tr.Epoch
			ev, _, err := tr.Model.Evaluate(*r.HeldOut)
			if err != nil {
				return err
			}
			logf("epoch %d: held-out psnr %.2f dB, mse %.5f, codes used %d/%d (%.1f%%), perplexity %.1f",
				epoch, ev.PSNR, ev.MSE, ev.Used, tr.Model.Config.CodebookSize, 100*ev.Fraction, ev.Perplexity)
			return metrics.Add(map[string]any{"step": tr.Step, "epoch": epoch, "held_out": ev})
		}}},
	}
	if err := loop.Run(ctx); err != nil {
		return nil, err
	}
	res.Steps, res.Seconds = tr.Step, time.Since(start).Seconds()
	info.Metrics = map[string]float64{"train_batch_psnr": res.Last.PSNR}
	if r.HeldOut != nil {
		ev, _, err := tr.Model.Evaluate(*r.HeldOut)
		if err != nil {
			return nil, err
		}
		res.HeldOut = &ev
		ev.AddMetrics(info.Metrics)
		if err := metrics.Add(map[string]any{"step": tr.Step, "final": true, "held_out": ev}); err != nil {
			return nil, loop.Kept(err)
		}
	}
	if err := save(); err != nil {
		return nil, loop.Kept(err)
	}
	if err := picture(); err != nil {
		return nil, err
	}
	return res, nil
}

// open continues the run in r.Dir, with the Info it saved, or makes a new
// one.
func (r Run) open(logf func(string, ...any)) (*Trainer, Info, error) {
	tr, saved, err := Resume(r.Dir, r.Data)
	switch {
	case err == nil:
		if tr.Config != r.Train {
			return nil, saved, fmt.Errorf("vqvae: %s holds a run trained with %+v: this one asks for %+v (continue it with its own settings, or choose another folder)",
				r.Dir, tr.Config, r.Train)
		}
		logf("resuming %s at step %d of %d", r.Dir, tr.Step, tr.Config.Steps)
		return tr, saved, nil
	case !errors.Is(err, nn.ErrNoCheckpoint):
		return nil, saved, err
	}
	m, err := New(r.Config, seeds.New(r.Train.Seed, seeds.TokenizerWeights))
	if err != nil {
		return nil, Info{}, err
	}
	if tr, err = NewTrainer(m, r.Data, r.Train); err != nil {
		return nil, Info{}, err
	}
	d, t := r.Data, r.Train
	logf("%d images of %dx%dx%d from %s, %d steps of %d (%.1f epochs), %d weights",
		d.N, d.C, d.H, d.W, r.Info.Data.Name, t.Steps, t.Batch, float64(t.Steps*t.Batch)/float64(d.N), m.NumParams())
	return tr, Info{}, nil
}
