package vqvae

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/vqtool/vqtool/nn"
)

// A checkpoint is an nn checkpoint folder (config.json, model.safetensors,
// resume.safetensors) of this kind.
const kind = "vqtool.vqvae"

// Info is what config.json holds.
type Info struct {
	Kind    string             `json:"kind"`
	Version int                `json:"version"`
	Config  Config             `json:"config"`
	Data    DataInfo           `json:"data"`
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
var ErrNoCheckpoint = nn.ErrNoCheckpoint

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
	info.stamp(m.Config)
	return wrap(nn.SaveWeights(dir, kind, m.putWeights, info))
}

// ReadInfo reads dir/config.json and checks that it describes a VQ-VAE.
func ReadInfo(dir string) (Info, error) {
	info, err := nn.LoadInfo[Info](dir, kind, "a VQ-VAE checkpoint written by vqtool train-vq")
	return info, wrap(err)
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
	path := filepath.Join(dir, nn.ModelFile)
	c, err := nn.LoadCheckpoint(path)
	if err != nil {
		return nil, info, fmt.Errorf("vqvae: %w", err)
	}
	if err := m.restoreWeights(c); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s does not match %s: %w", path, nn.ConfigFile, err)
	}
	return m, info, nil
}

// SaveCheckpoint writes the model (config.json, model.safetensors) and the
// resume state (resume.safetensors) into dir, each file under a temporary
// name and renamed (see nn.SaveRun for the order).
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	tc := t.Config
	info.Step, info.Train = t.Step, &tc
	info.stamp(t.Model.Config)
	st := nn.TrainState{Step: t.Step, Epoch: t.Epoch, Pos: t.Pos, RNG: t.rng}
	return wrap(nn.SaveRun(dir, kind, t.Model.putWeights, t.opt, t.prog.Params, st, t.Model.Config, t.Config, info))
}

// wrap names the package in an error, except a bare nn.ErrNoCheckpoint.
func wrap(err error) error {
	if err == nil || errors.Is(err, nn.ErrNoCheckpoint) {
		return err
	}
	return fmt.Errorf("vqvae: %w", err)
}

// Resume rebuilds a trainer from dir/resume.safetensors: weights, codebook
// and its EMA buffers, optimiser moments, RNG state, step and position in the
// data. steps, if > 0, replaces the total step count (to extend a run).
func Resume(dir string, data Images, steps int) (*Trainer, Info, error) {
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
	if steps > 0 {
		tc.Steps = steps
	}
	m, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, info, err
	}
	if err := m.restoreWeights(c); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", dir, err)
	}
	t, err := NewTrainer(m, data, tc)
	if err != nil {
		return nil, info, err
	}
	st := nn.TrainState{RNG: t.rng}
	if err := c.RestoreTraining(t.opt, t.prog.Params, &st); err != nil {
		return nil, info, fmt.Errorf("vqvae: %s: %w", dir, err)
	}
	t.Step, t.Epoch, t.Pos = st.Step, st.Epoch, st.Pos
	return t, info, nil
}
