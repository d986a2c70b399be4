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

// ErrNoCheckpoint reports a folder with no run to resume.
var ErrNoCheckpoint = nn.ErrNoCheckpoint

// Save writes config.json and model.safetensors into dir.
func (m *Model) Save(dir string, info Info) error {
	info.Kind, info.Version, info.Config = kind, nn.Version, m.Config
	c := nn.NewCheckpoint()
	c.PutParams(m.params)
	if err := nn.SaveModel(dir, kind, c, info); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	return nil
}

// ReadInfo reads dir/config.json and checks that it describes a generator.
func ReadInfo(dir string) (Info, error) {
	var info Info
	if err := nn.ReadConfig(dir, kind, "a generator checkpoint written by vqtool train-gen", &info); err != nil {
		return info, fmt.Errorf("generator: %w", err)
	}
	return info, nil
}

// Validate checks the model's config, for nn.ReadConfig.
func (i *Info) Validate() error { return i.Config.Validate() }

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
		return nil, info, fmt.Errorf("generator: %w", err)
	}
	return m, info, nil
}

// SaveCheckpoint writes the model and the resume state into dir.
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	info.Step = t.Step
	tc := t.Config
	info.Train = &tc
	c := nn.NewCheckpoint()
	c.PutParams(t.Model.params)
	st := nn.TrainState{Step: t.Step, Epoch: t.Epoch, Pos: t.Pos, RNG: t.rng}
	if err := nn.SaveResume(dir, kind, c, t.opt, t.gr.prog.Params, st, t.Model.Config, t.Config); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	// The resume state first, config.json last: config.json is the commit
	// point. The files beside it are of its step or of the save after it (a
	// kill between the writes), and resuming continues from the resume
	// state either way.
	return t.Model.Save(dir, info)
}

// Resume rebuilds a trainer from dir/resume.safetensors. The loss (with its
// target table) is the caller's to rebuild from the Info, as the data is.
func Resume(dir string, data Tokens, loss *dist2.Loss) (*Trainer, Info, error) {
	var cfg Config
	var tc TrainConfig
	c, err := nn.OpenResume(dir, kind, &cfg, &tc)
	if err != nil {
		if errors.Is(err, nn.ErrNoCheckpoint) {
			return nil, Info{}, err
		}
		return nil, Info{}, fmt.Errorf("generator: %w", err)
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
