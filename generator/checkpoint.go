package generator

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/nn"
)

// A checkpoint is an nn checkpoint folder (config.json, model.safetensors,
// resume.safetensors) of this kind.
const kind = "vqtool.generator"

// LossInfo records the loss a generator was trained with.
type LossInfo = dist2.Built

// Info is what config.json holds.
type Info struct {
	Kind    string             `json:"kind"`
	Version int                `json:"version"`
	Config  Config             `json:"config"`
	Loss    LossInfo           `json:"loss"`
	VQ      string             `json:"vq,omitempty"` // the tokenizer checkpoint the tokens came from
	Data    string             `json:"data,omitempty"`
	Classes []string           `json:"classes,omitempty"`
	Step    int                `json:"step"`
	Train   *TrainConfig       `json:"train,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Flags are the command-line settings that started the run, which a
	// resumed run keeps.
	Flags map[string]string `json:"flags,omitempty"`
}

// Validate checks the model's config, for nn.ReadConfig.
func (i *Info) Validate() error { return i.Config.Validate() }

// stamp sets what every saved Info says: the kind, the version, the config.
func (i *Info) stamp(c Config) { i.Kind, i.Version, i.Config = kind, nn.Version, c }

// ErrNoCheckpoint reports a folder with no run to resume.
var ErrNoCheckpoint = nn.ErrNoCheckpoint

// Save writes config.json and model.safetensors into dir.
func (m *Model) Save(dir string, info Info) error {
	info.stamp(m.Config)
	return wrap(nn.SaveWeights(dir, kind, m.weights, info))
}

func (m *Model) weights(c *nn.Checkpoint) { c.PutParams(m.params) }

// ReadInfo reads dir/config.json and checks that it describes a generator.
func ReadInfo(dir string) (Info, error) {
	info, err := nn.LoadInfo[Info](dir, kind, "a generator checkpoint written by vqtool train-gen")
	return info, wrap(err)
}

// Load reads a model saved by Save.
func Load(dir string) (*Model, Info, error) {
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, info, err
	}
	m, err := New(info.Config, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, info, err
	}
	if err := nn.LoadWeights(dir, m.params); err != nil {
		return nil, info, wrap(err)
	}
	return m, info, nil
}

// SaveCheckpoint writes the model and the resume state into dir (see
// nn.SaveRun for the order).
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	tc := t.Config
	info.Step, info.Train = t.Step, &tc
	info.stamp(t.Model.Config)
	st := nn.TrainState{Step: t.Step, Epoch: t.Epoch, Pos: t.Pos, RNG: t.rng}
	return wrap(nn.SaveRun(dir, kind, t.Model.weights, t.opt, t.gr.prog.Params, st, t.Model.Config, t.Config, info))
}

// wrap names the package in an error, except a bare nn.ErrNoCheckpoint.
func wrap(err error) error {
	if err == nil || errors.Is(err, nn.ErrNoCheckpoint) {
		return err
	}
	return fmt.Errorf("generator: %w", err)
}

// Resume rebuilds a trainer from dir/resume.safetensors. The loss (with its
// target table) is the caller's to rebuild from the Info, as the data is.
func Resume(dir string, data Tokens, loss *dist2.Loss) (*Trainer, Info, error) {
	var cfg Config
	var tc TrainConfig
	c, err := nn.OpenResume(dir, kind, &cfg, &tc)
	if err != nil {
		return nil, Info{}, wrap(err)
	}
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, info, err
	}
	m, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, info, err
	}
	if err := c.RestoreParams(m.params); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", dir, err)
	}
	t, err := NewTrainer(m, data, loss, tc)
	if err != nil {
		return nil, info, err
	}
	st := nn.TrainState{RNG: t.rng}
	if err := c.RestoreTraining(t.opt, t.gr.prog.Params, &st); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", dir, err)
	}
	t.Step, t.Epoch, t.Pos = st.Step, st.Epoch, st.Pos
	return t, info, nil
}
