package vqvae

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/vqtool/vqtool/nn"
)

// A checkpoint is a folder:
//
//	config.json          Info: architecture, data, step, metrics
//	model.safetensors    weights and codebook, for inference
//	resume.safetensors   all of the above plus optimiser moments, EMA
//	                     buffers, RNG state and data position, to resume
const (
	configFile = "config.json"
	modelFile  = "model.safetensors"
	resumeFile = "resume.safetensors"
	kind       = "vqtool.vqvae"
)

// Info is what config.json holds.
type Info struct {
	Kind    string             `json:"kind"`
	Version int                `json:"version"`
	Config  Config             `json:"config"`
	Data    DataInfo           `json:"data"`
	Step    int                `json:"step"`
	Train   *TrainConfig       `json:"train,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// DataInfo records the data a model was trained on and how pixels were scaled.
type DataInfo struct {
	Name     string     `json:"name"`
	Channels int        `json:"channels"`
	Size     int        `json:"size"`
	Range    [2]float64 `json:"pixel_range"` // pixel values map linearly from [0, 255] to this range
	Fit      string     `json:"fit,omitempty"`
	Classes  []string   `json:"classes,omitempty"`
}

// ErrNoCheckpoint reports a folder that holds no checkpoint to resume.
var ErrNoCheckpoint = errors.New("vqvae: no checkpoint")

func (m *Model) putWeights(c *nn.Checkpoint) {
	c.PutParams(m.params)
	c.Put("codebook.ema_size", m.Codebook.Size, m.Config.CodebookSize)
	c.Put("codebook.ema_sum", m.Codebook.Sum, m.Config.CodebookSize, m.Config.CodeDim)
}

func (m *Model) restoreWeights(c *nn.Checkpoint) error {
	if err := c.RestoreParams(m.params); err != nil {
		return err
	}
	size, err := c.Get("codebook.ema_size", m.Config.CodebookSize)
	if err != nil {
		return err
	}
	sum, err := c.Get("codebook.ema_sum", m.Config.CodebookSize, m.Config.CodeDim)
	if err != nil {
		return err
	}
	copy(m.Codebook.Size, size)
	copy(m.Codebook.Sum, sum)
	return nil
}

// Save writes config.json and model.safetensors into dir, creating it.
func (m *Model) Save(dir string, info Info) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("vqvae: %w", err)
	}
	info.Kind, info.Version, info.Config = kind, 1, m.Config
	c := nn.NewCheckpoint()
	m.putWeights(c)
	c.Meta["kind"] = kind
	if err := c.Save(filepath.Join(dir, modelFile)); err != nil {
		return err
	}
	return nn.WriteJSON(filepath.Join(dir, configFile), info)
}

// ReadInfo reads dir/config.json and checks that it describes a VQ-VAE.
func ReadInfo(dir string) (Info, error) {
	var info Info
	path := filepath.Join(dir, configFile)
	buf, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return info, fmt.Errorf("vqvae: %s is not a VQ-VAE checkpoint: no %s", dir, configFile)
		}
		return info, fmt.Errorf("vqvae: %w", err)
	}
	if err := json.Unmarshal(buf, &info); err != nil {
		return info, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	if info.Kind != kind {
		return info, fmt.Errorf("vqvae: %s: kind %q: want %q (a checkpoint written by vqtool train-vq)", path, info.Kind, kind)
	}
	if err := info.Config.Validate(); err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// Load reads a model saved by Save (or by a trainer's checkpoint).
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
		return nil, info, fmt.Errorf("vqvae: %w", err)
	}
	if err := m.restoreWeights(c); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s does not match %s: %w", path, configFile, err)
	}
	return m, info, nil
}

// SaveCheckpoint writes the model (config.json, model.safetensors) and the
// resume state (resume.safetensors) into dir. Each file is written under a
// temporary name and renamed, the resume state last.
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	info.Step = t.Step
	tc := t.Config
	info.Train = &tc
	if err := t.Model.Save(dir, info); err != nil {
		return err
	}
	c := nn.NewCheckpoint()
	t.Model.putWeights(c)
	c.PutAdam(t.opt, t.prog.Params)
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

// Resume rebuilds a trainer from dir/resume.safetensors: weights, codebook
// and its EMA buffers, optimiser moments, RNG state, step and position in the
// data. steps, if > 0, replaces the total step count (to extend a run).
func Resume(dir string, data Images, steps int) (*Trainer, Info, error) {
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
		return nil, info, fmt.Errorf("vqvae: %w", err)
	}
	if c.Meta["kind"] != kind+".resume" {
		return nil, info, fmt.Errorf("vqvae: %s: kind %q: want %q", path, c.Meta["kind"], kind+".resume")
	}
	var cfg Config
	var tc TrainConfig
	if err := c.GetJSON("config", &cfg); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	if err := c.GetJSON("train", &tc); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	if steps > 0 {
		tc.Steps = steps
	}
	m, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, info, err
	}
	if err := m.restoreWeights(c); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	t, err := NewTrainer(m, data, tc)
	if err != nil {
		return nil, info, err
	}
	if err := c.RestoreAdam(t.opt, t.prog.Params); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	st := nn.TrainState{RNG: t.rng}
	if err := c.RestoreState(&st); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	t.Step, t.Epoch, t.Pos = st.Step, st.Epoch, st.Pos
	return t, info, nil
}
