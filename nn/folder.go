package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// A model checkpoint is a folder:
//
//	config.json          what the model is: its kind, architecture, data, metrics
//	model.safetensors    the weights, for inference
//	resume.safetensors   the weights again, the Adam moments, the training
//	                     state and configs: what resuming needs
const (
	ConfigFile = "config.json"
	ModelFile  = "model.safetensors"
	ResumeFile = "resume.safetensors"
)

// Version is the version of the checkpoint folders this package writes and
// reads.
const Version = 1

// LoadWeights reads dir/model.safetensors into params, by name, checking
// shapes and that every weight is finite.
func LoadWeights(dir string, params []*Param) error {
	path := filepath.Join(dir, ModelFile)
	c, err := LoadCheckpoint(path)
	if err != nil {
		return err
	}
	if err := c.RestoreParams(params); err != nil {
		return fmt.Errorf("%s does not match %s: %w", path, ConfigFile, err)
	}
	return nil
}

// ErrNoCheckpoint reports a folder with no training run to resume.
var ErrNoCheckpoint = errors.New("no checkpoint")

// ReadConfig decodes dir/config.json into v and checks that its "kind" is
// kind; what ("a checkpoint written by vqtool train-vq") goes into errors.
func ReadConfig(dir, kind, what string, v any) error {
	path := filepath.Join(dir, ConfigFile)
	buf, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is not %s: no %s", dir, what, ConfigFile)
	}
	if err != nil {
		return err
	}
	var head struct {
		Kind    string
		Version int
	}
	if err := json.Unmarshal(buf, &head); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if head.Kind != kind {
		return fmt.Errorf("%s: kind %q: want %q (%s)", path, head.Kind, kind, what)
	}
	// Version 0 is a file from before versions were written.
	if head.Version != 0 && head.Version != Version {
		return fmt.Errorf("%s: version %d: this vqtool reads version %d (%s)", path, head.Version, Version, what)
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if c, ok := v.(Validator); ok {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// A Validator reports the first setting of a checkpoint's config that
// cannot work; ReadConfig checks one after reading it.
type Validator interface{ Validate() error }

// SaveModel writes the weights in c to dir/model.safetensors and info to
// dir/config.json, creating dir.
func SaveModel(dir, kind string, c *Checkpoint, info any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.Meta["kind"] = kind
	if err := c.Save(filepath.Join(dir, ModelFile)); err != nil {
		return err
	}
	return WriteJSON(filepath.Join(dir, ConfigFile), info)
}

// SaveResume completes c (which holds the weights) with the optimiser, the
// training state and the configs, and writes dir/resume.safetensors.
func SaveResume(dir, kind string, c *Checkpoint, opt *Adam, params []*Param, st TrainState, config, train any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.PutAdam(opt, params)
	c.Meta["kind"] = kind + ".resume"
	if err := c.PutState(st); err != nil {
		return err
	}
	if err := c.PutJSON("config", config); err != nil {
		return err
	}
	if err := c.PutJSON("train", train); err != nil {
		return err
	}
	return c.Save(filepath.Join(dir, ResumeFile))
}

// OpenResume reads dir/resume.safetensors and decodes the configs that
// SaveResume stored into config and train.
func OpenResume(dir, kind string, config, train any) (*Checkpoint, error) {
	path := filepath.Join(dir, ResumeFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w to resume in %s: %v", ErrNoCheckpoint, dir, err)
	}
	c, err := LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if c.Meta["kind"] != kind+".resume" {
		return nil, fmt.Errorf("%s: kind %q: want %q", path, c.Meta["kind"], kind+".resume")
	}
	if err := c.GetJSON("config", config); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.GetJSON("train", train); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// RestoreTraining reads the optimiser moments and the training state (whose
// RNG must be set) back from a resume checkpoint.
func (c *Checkpoint) RestoreTraining(opt *Adam, params []*Param, st *TrainState) error {
	if err := c.RestoreAdam(opt, params); err != nil {
		return err
	}
	return c.RestoreState(st)
}

// Weights puts a model's weights (its parameters and any buffers beside
// them) into a checkpoint.
type Weights func(c *Checkpoint)

// SaveWeights writes the weights w to dir/model.safetensors and info to
// dir/config.json, creating dir.
func SaveWeights(dir, kind string, w Weights, info any) error {
	c := NewCheckpoint()
	w(c)
	return SaveModel(dir, kind, c, info)
}

// SaveRun writes a trainer's checkpoint folder: the resume state (weights,
// optimiser, st and the configs) to resume.safetensors, then the weights
// and info as SaveWeights does. config.json goes last: it is the commit
// point. The files beside it are of its step or of the save after it (a
// kill between the writes), and resuming continues from the resume state
// either way.
func SaveRun(dir, kind string, w Weights, opt *Adam, params []*Param, st TrainState, config, train, info any) error {
	c := NewCheckpoint()
	w(c)
	if err := SaveResume(dir, kind, c, opt, params, st, config, train); err != nil {
		return err
	}
	return SaveWeights(dir, kind, w, info)
}

// LoadInfo reads dir/config.json into an I as ReadConfig does.
func LoadInfo[I any](dir, kind, what string) (I, error) {
	var info I
	err := ReadConfig(dir, kind, what, &info)
	return info, err
}
