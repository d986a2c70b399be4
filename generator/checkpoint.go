package generator

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

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
	Kind    string   `json:"kind"`
	Version int      `json:"version"`
	Config  Config   `json:"config"`
	Loss    LossInfo `json:"loss"`
	VQ      string   `json:"vq,omitempty"` // the tokenizer checkpoint the tokens came from, relative to the run folder
	// VQWeights fingerprints the tokenizer's weights (nn.Fingerprint of its
	// model.safetensors): other weights at VQ are another tokenizer.
	VQWeights string             `json:"vq_weights,omitempty"`
	Data      string             `json:"data,omitempty"`
	Classes   []string           `json:"classes,omitempty"`
	Step      int                `json:"step"`
	Train     *TrainConfig       `json:"train,omitempty"`
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	// Init is the trained generator the run started from, if any.
	Init *InitRef `json:"init,omitempty"`
	// Flags are the command-line settings that started the run, which a
	// resumed run keeps.
	Flags map[string]string `json:"flags,omitempty"`
}

// Validate checks the model's config, for nn.Format.ReadInfo.
func (i *Info) Validate() error { return i.Config.Validate() }

// ErrNoCheckpoint reports a folder with no run to resume.
var ErrNoCheckpoint = nn.ErrNoCheckpoint

var format = nn.Format[Info, *Model]{Kind: kind, What: "a generator checkpoint written by vqtool train-gen", Pkg: "generator",
	New:     func(i *Info) (*Model, error) { return New(i.Config, rand.New(rand.NewPCG(0, 0))) },
	Shapes:  func(i *Info) map[string][]int { return i.Config.Shapes() },
	Stamp:   func(i *Info, m *Model) { i.Kind, i.Version, i.Config = kind, nn.Version, m.Config },
	Put:     func(m *Model, c *nn.Checkpoint) { c.PutParams(m.params) },
	Restore: func(m *Model, c *nn.Checkpoint) error { return c.RestoreParams(m.params) },
}

// Save writes config.json and model.safetensors into dir.
func (m *Model) Save(dir string, info Info) error { return format.Save(dir, m, info) }

// ReadInfo reads dir/config.json and checks that it describes a generator.
func ReadInfo(dir string) (Info, error) { return format.ReadInfo(dir) }

// ReadRunInfo reads the description of the run in dir: config.json, or
// the copy in resume.safetensors when a save stopped before config.json
// (see nn.Format.ReadRunInfo).
func ReadRunInfo(dir string) (Info, error) { return format.ReadRunInfo(dir) }

// Load reads a model saved by Save (or by a trainer's checkpoint).
func Load(dir string) (*Model, Info, error) { return format.Load(dir) }

// SaveCheckpoint writes the model and the resume state into dir (see
// nn.Format.SaveRun for the order).
func (t *Trainer) SaveCheckpoint(dir string, info Info) error {
	info.Step, info.Train = t.Step, &t.Config
	return format.SaveRun(dir, t.Model, t.run(), t.Config, info)
}

func (t *Trainer) run() nn.Run {
	return nn.Run{State: &t.TrainState, Opt: t.opt, Params: t.gr.prog.Params}
}

// Resume rebuilds a trainer from the checkpoint in dir. The loss (with its
// target table) is the caller's to rebuild from the Info, as the data is.
func Resume(dir string, data Tokens, loss *dist2.Loss) (*Trainer, Info, error) {
	var t *Trainer
	var tc TrainConfig
	info, err := format.Resume(dir, &tc, func(m *Model) (r nn.Run, err error) {
		if t, err = NewTrainer(m, data, loss, tc); err == nil {
			r = t.run()
		}
		return r, err
	})
	if err != nil {
		return nil, info, err
	}
	return t, info, nil
}

// TokenizerPath returns the folder of the tokenizer of the generator in
// dir, whose config.json is i: flag when not empty (a --vq given now);
// else the one i names, relative to dir, or as it stands (absolute, or
// relative to where train-gen ran) when dir holds none there.
func (i Info) TokenizerPath(dir, flag string) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case i.VQ == "":
		return "", fmt.Errorf("generator: %s names no tokenizer: want the tokenizer's checkpoint folder (--vq)", dir)
	}
	path := filepath.FromSlash(i.VQ)
	if filepath.IsAbs(path) {
		return path, nil
	}
	inRun := filepath.Join(dir, path)
	if _, err := os.Stat(filepath.Join(inRun, nn.ConfigFile)); err == nil {
		return inRun, nil
	}
	if _, err := os.Stat(path); err != nil {
		return inRun, nil // neither exists: name the one the folder means
	}
	return path, nil
}

// ErrNoFingerprint reports a generator whose config.json records no
// fingerprint of its tokenizer (an older vqtool wrote it).
var ErrNoFingerprint = errors.New("generator: no fingerprint of the tokenizer's weights")

// CheckTokenizer reports whether the tokenizer in path is the one the
// generator in dir, whose config.json is i, was trained with: an error
// naming both when its weights are others, ErrNoFingerprint when i records
// none.
func (i Info) CheckTokenizer(dir, path string) error {
	if i.VQWeights == "" {
		return ErrNoFingerprint
	}
	sum, err := nn.Fingerprint(filepath.Join(path, nn.ModelFile))
	if err != nil {
		return err
	}
	if sum != i.VQWeights {
		return fmt.Errorf("generator: the tokenizer %s is not the one %s was trained with: its weights are %s, %s records %s (naming %q)",
			path, dir, nn.Short(sum), filepath.Join(dir, nn.ConfigFile), nn.Short(i.VQWeights), i.VQ)
	}
	return nil
}
