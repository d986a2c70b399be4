package vqvae

import (
	"math/rand/v2"

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

// Validate checks the model's config, for nn.Format.ReadInfo.
func (i *Info) Validate() error { return i.Config.Validate() }

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

var format = nn.Format[Info, *Model]{Kind: kind, What: "a VQ-VAE checkpoint written by vqtool train-vq", Pkg: "vqvae",
	New:     func(i *Info) (*Model, error) { return New(i.Config, rand.New(rand.NewPCG(0, 0))) },
	Shapes:  func(i *Info) map[string][]int { return i.Config.Shapes() },
	Stamp:   func(i *Info, m *Model) { i.Kind, i.Version, i.Config = kind, nn.Version, m.Config },
	Put:     (*Model).putWeights,
	Restore: (*Model).restoreWeights,
}

func (m *Model) putWeights(c *nn.Checkpoint) {
	c.PutParams(m.params)
	c.Put("codebook.ema_size", m.Codebook.ClusterSize, m.Config.CodebookSize)
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
	copy(m.Codebook.ClusterSize, size)
	copy(m.Codebook.Sum, sum)
	return nil
}

// Save writes config.json and model.safetensors into dir, creating it.
func (m *Model) Save(dir string, info Info) error { return format.Save(dir, m, info) }

// ReadInfo reads dir/config.json and checks that it describes a VQ-VAE.
func ReadInfo(dir string) (Info, error) { return format.ReadInfo(dir) }

// ReadRunInfo reads the description of the run in dir: config.json, or
// the copy in resume.safetensors when a save stopped before config.json
// (see nn.Format.ReadRunInfo).
func ReadRunInfo(dir string) (Info, error) { return format.ReadRunInfo(dir) }

// Load reads a model saved by Save (or by a trainer's checkpoint).
func Load(dir string) (*Model, Info, error) { return format.Load(dir) }

// SaveCheckpoint writes the model (config.json, model.safetensors) and the
// resume state (resume.safetensors) into dir, each file under a temporary
// name and renamed (see nn.Format.SaveRun for the order).
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	info.Step, info.Train = t.Step, &t.Config
	return format.SaveRun(dir, t.Model, t.run(), t.Config, info)
}

func (t *Trainer) run() nn.Run {
	return nn.Run{State: &t.TrainState, Opt: t.opt, Params: t.prog.Params}
}

// Resume rebuilds a trainer from the checkpoint in dir: weights, codebook
// and its EMA buffers, optimiser moments, RNG state, step and position in
// the data.
func Resume(dir string, data Images) (*Trainer, Info, error) {
	var t *Trainer
	var tc TrainConfig
	info, err := format.Resume(dir, &tc, func(m *Model) (r nn.Run, err error) {
		if t, err = NewTrainer(m, data, tc); err == nil {
			r = t.run()
		}
		return r, err
	})
	if err != nil {
		return nil, info, err
	}
	return t, info, nil
}
