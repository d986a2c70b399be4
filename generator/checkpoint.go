package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/nn"
)

// A checkpoint is a folder: config.json (Info), model.safetensors (weights)
// and resume.safetensors (weights, AdamW moments, RNG and data position).
const (
	configFile = "config.json"
	modelFile  = "model.safetensors"
	resumeFile = "resume.safetensors"
	kind       = "vqtool.generator"
)

// LossInfo records the loss a generator was trained with.
type LossInfo struct {
	Kind       string  `json:"kind"` // ce, smooth or dist2
	Alpha      float64 `json:"alpha,omitempty"`
	Tau        float64 `json:"tau,omitempty"`        // the tau used (calibrated when TauAuto)
	TauAuto    bool    `json:"tau_auto,omitempty"`   // tau was chosen for Perplexity
	Perplexity float64 `json:"perplexity,omitempty"` // target mean perplexity of p_d rows
	Distance   string  `json:"distance,omitempty"`   // l2, mse or cosine
	TopK       int     `json:"topk,omitempty"`
	Dropped    float64 `json:"dropped_mass,omitempty"` // mean target mass top-k truncation dropped
	Smoothing  float64 `json:"smoothing,omitempty"`
}

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
}

// ErrNoCheckpoint reports a folder with no run to resume.
var ErrNoCheckpoint = errors.New("generator: no checkpoint")

// Save writes config.json and model.safetensors into dir.
func (m *Model) Save(dir string, info Info) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	info.Kind, info.Version, info.Config = kind, 1, m.Config
	c := nn.NewCheckpoint()
	c.PutParams(m.params)
	c.Meta["kind"] = kind
	if err := c.Save(filepath.Join(dir, modelFile)); err != nil {
		return err
	}
	return nn.WriteJSON(filepath.Join(dir, configFile), info)
}

// ReadInfo reads dir/config.json and checks that it describes a generator.
func ReadInfo(dir string) (Info, error) {
	var info Info
	path := filepath.Join(dir, configFile)
	buf, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return info, fmt.Errorf("generator: %s is not a generator checkpoint: no %s", dir, configFile)
		}
		return info, fmt.Errorf("generator: %w", err)
	}
	if err := json.Unmarshal(buf, &info); err != nil {
		return info, fmt.Errorf("generator: %s: %w", path, err)
	}
	if info.Kind != kind {
		return info, fmt.Errorf("generator: %s: kind %q: want %q (a checkpoint written by vqtool train-gen)", path, info.Kind, kind)
	}
	if err := info.Config.Validate(); err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
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
	path := filepath.Join(dir, modelFile)
	c, err := nn.LoadCheckpoint(path)
	if err != nil {
		return nil, info, fmt.Errorf("generator: %w", err)
	}
	if err := c.RestoreParams(m.params); err != nil {
		return nil, info, fmt.Errorf("generator: %s does not match %s: %w", path, configFile, err)
	}
	return m, info, nil
}

// SaveCheckpoint writes the model and the resume state into dir.
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	info.Step = t.Step
	tc := t.Config
	info.Train = &tc
	if err := t.Model.Save(dir, info); err != nil {
		return err
	}
	c := nn.NewCheckpoint()
	c.PutParams(t.Model.params)
	c.PutAdam(t.opt, t.gr.prog.Params)
	c.Meta["kind"] = kind + ".resume"
	if err := c.PutState(nn.TrainState{Step: t.Step, Epoch: t.Epoch, Pos: t.Pos, RNG: t.rng}); err != nil {
		return err
	}
	if err := c.PutJSON("config", t.Model.Config); err != nil {
		return err
	}
	if err := c.PutJSON("train", t.Config); err != nil {
		return err
	}
	return c.Save(filepath.Join(dir, resumeFile))
}

// Resume rebuilds a trainer from dir/resume.safetensors. The loss (with its
// target table) is the caller's to rebuild from the Info, as the data is.
func Resume(dir string, data Tokens, loss *dist2.Loss) (*Trainer, Info, error) {
	path := filepath.Join(dir, resumeFile)
	if _, err := os.Stat(path); err != nil {
		return nil, Info{}, fmt.Errorf("%w to resume in %s: %v", ErrNoCheckpoint, dir, err)
	}
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, info, err
	}
	c, err := nn.LoadCheckpoint(path)
	if err != nil {
		return nil, info, fmt.Errorf("generator: %w", err)
	}
	if c.Meta["kind"] != kind+".resume" {
		return nil, info, fmt.Errorf("generator: %s: kind %q: want %q", path, c.Meta["kind"], kind+".resume")
	}
	var cfg Config
	var tc TrainConfig
	if err := c.GetJSON("config", &cfg); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", path, err)
	}
	if err := c.GetJSON("train", &tc); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", path, err)
	}
	m, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, info, err
	}
	if err := c.RestoreParams(m.params); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", path, err)
	}
	t, err := NewTrainer(m, data, loss, tc)
	if err != nil {
		return nil, info, err
	}
	if err := c.RestoreAdam(t.opt, t.gr.prog.Params); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", path, err)
	}
	st := nn.TrainState{RNG: t.rng}
	if err := c.RestoreState(&st); err != nil {
		return nil, info, fmt.Errorf("generator: %s: %w", path, err)
	}
	t.Step, t.Epoch, t.Pos = st.Step, st.Epoch, st.Pos
	return t, info, nil
}
