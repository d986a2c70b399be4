package nn

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/rundir"
)

// A model checkpoint is a folder:
//
//	config.json          what the model is: its kind, architecture, data, metrics
//	model.safetensors    the weights, for inference
//	resume.safetensors   the weights again, the Adam moments, the training
//	                     state and configs: what resuming needs
const (
	ConfigFile = rundir.ConfigFile
	ModelFile  = "model.safetensors"
	ResumeFile = rundir.ResumeFile
)

// Version is the version of the checkpoint folders this package writes and
// reads.
const Version = 1

// ErrNoCheckpoint reports a folder with no training run to resume.
var ErrNoCheckpoint = errors.New("no checkpoint")

// maxConfigBytes bounds a config.json: settings, a few metrics and flags.
const maxConfigBytes = 16 << 20

// readConfig decodes dir/config.json into v and checks that its "kind" is
// kind; what ("a checkpoint written by vqtool train-vq") goes into errors.
func readConfig(dir, kind, what string, v any) error {
	path := filepath.Join(dir, ConfigFile)
	f, size, err := openRegular(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is not %s: no %s", dir, what, ConfigFile)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if size > maxConfigBytes {
		return fmt.Errorf("%s: %d bytes: want at most %d", path, size, maxConfigBytes)
	}
	buf, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return decodeInfo(path, buf, kind, what, v)
}

// decodeInfo decodes the JSON of a checkpoint's description, read from
// path, into v, checking its kind, its version and, when v is a Validator,
// v.
func decodeInfo(path string, buf []byte, kind, what string, v any) error {
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

// Fingerprint returns "sha256:" and the hex digest of file: what a folder
// that depends on a checkpoint records of its weights (model.safetensors),
// to tell them from other weights at the same path.
func Fingerprint(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Short abbreviates a fingerprint for a message: "sha256:" and 12 digits.
func Short(sum string) string {
	if len(sum) > 19 {
		return sum[:19] + "..."
	}
	return sum
}

// A Validator reports the first setting of a checkpoint's config that
// cannot work; Format.ReadInfo checks an Info that is one after reading it.
type Validator interface{ Validate() error }

// A Format is one kind of checkpoint folder and how its model M is made,
// saved and restored; I is what its config.json holds. The packages with
// models (vqvae, generator, metrics) each declare one and save and load
// through it.
type Format[I, M any] struct {
	Kind string // written into every file: "vqtool.vqvae"
	What string // what errors say a folder should be: "a VQ-VAE checkpoint written by vqtool train-vq"
	Pkg  string // the prefix of errors: "vqvae"

	New     func(info *I) (M, error)       // a model of the architecture info describes
	Shapes  func(info *I) map[string][]int // the tensors Put writes for it, by name, computed without building it
	Stamp   func(info *I, m M)             // sets what every saved info says: kind, version, m's architecture
	Put     func(m M, c *Checkpoint)       // m's weights (parameters and buffers) into c
	Restore func(m M, c *Checkpoint) error // and back, checking names and shapes
}

// Run is what a trainer's checkpoint holds besides the model: where the
// run stands, and the optimiser with the weights it steps.
type Run struct {
	State  *TrainState
	Opt    *Adam
	Params []*Param
}

// ReadInfo reads dir/config.json, checking its kind and version, and the
// Info itself when it is a Validator.
func (f Format[I, M]) ReadInfo(dir string) (I, error) {
	var info I
	return info, f.wrap(readConfig(dir, f.Kind, f.What, &info))
}

// Load reads the model saved in dir: config.json, then the header of
// model.safetensors, whose tensors must be those config.json implies (when
// Shapes is set), and only then builds the model and reads its weights:
// a config.json cannot ask for more memory than the weights beside it hold.
func (f Format[I, M]) Load(dir string) (M, I, error) {
	var m M
	info, err := f.ReadInfo(dir)
	if err != nil {
		return m, info, err
	}
	path := filepath.Join(dir, ModelFile)
	if err := f.checkShapes(path, &info, true); err != nil {
		return m, info, err
	}
	if m, err = f.New(&info); err != nil {
		return m, info, f.wrap(err)
	}
	c, err := LoadCheckpoint(path)
	if err != nil {
		return m, info, f.wrap(err)
	}
	if err := f.Restore(m, c); err != nil {
		return m, info, f.wrap(fmt.Errorf("%s does not match %s: %w", path, ConfigFile, err))
	}
	return m, info, nil
}

// Save writes m's weights to dir/model.safetensors and info to
// dir/config.json, creating dir; each file goes under a temporary name and
// is renamed.
func (f Format[I, M]) Save(dir string, m M, info I) error {
	return f.wrap(f.save(dir, m, info))
}

func (f Format[I, M]) save(dir string, m M, info I) error {
	c := NewCheckpoint()
	f.Put(m, c)
	f.Stamp(&info, m)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.Meta["kind"] = f.Kind
	if err := c.Save(filepath.Join(dir, ModelFile)); err != nil {
		return err
	}
	return atomicfile.WriteJSON(filepath.Join(dir, ConfigFile), info)
}

// SaveRun writes a trainer's checkpoint folder: resume.safetensors (the
// weights, the optimiser, the run's state and the training config), then
// the model and info as Save does. config.json goes last: it is the commit
// point. The files beside it are of its step or of the save after it (a
// kill between the writes), and Resume continues from the resume file
// either way (the architecture, which config.json gives it, is the run's
// throughout). The resume file holds info too, so that a run whose first
// save stopped before config.json (a full disk) still resumes.
func (f Format[I, M]) SaveRun(dir string, m M, r Run, train any, info I) error {
	return f.wrap(f.saveRun(dir, m, r, train, info))
}

func (f Format[I, M]) saveRun(dir string, m M, r Run, train any, info I) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c := NewCheckpoint()
	f.Put(m, c)
	c.PutAdam(r.Opt, r.Params)
	c.Meta["kind"] = f.Kind + ".resume"
	if err := c.PutState(*r.State); err != nil {
		return err
	}
	if err := c.PutJSON("train", train); err != nil {
		return err
	}
	f.Stamp(&info, m)
	if err := c.PutJSON(infoKey, info); err != nil {
		return err
	}
	if err := c.Save(filepath.Join(dir, ResumeFile)); err != nil {
		return err
	}
	return f.save(dir, m, info)
}

// infoKey is the metadata entry of a resume file that holds the run's
// config.json as well: what resuming needs when a save was cut short
// before config.json.
const infoKey = "info"

// ReadRunInfo reads the description of the run saved in dir: config.json,
// or, when a save was cut short before it (a full disk during a run's
// first save), the copy in resume.safetensors. A folder that holds neither
// is an error that says what to delete.
func (f Format[I, M]) ReadRunInfo(dir string) (I, error) {
	var info I
	resume := filepath.Join(dir, ResumeFile)
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil || !errors.Is(err, os.ErrNotExist) {
		return f.ReadInfo(dir)
	}
	if _, err := os.Stat(resume); err != nil {
		return f.ReadInfo(dir) // says there is no config.json
	}
	meta, err := ReadMeta(resume)
	if err != nil {
		return info, f.wrap(err)
	}
	s, ok := meta[infoKey]
	if !ok {
		return info, f.wrap(fmt.Errorf("%s holds %s but no %s, its commit point, and the resume file holds no copy of it (an older vqtool wrote it): the run's first save was cut short; delete %s (and %s, if there) to start the run again",
			dir, ResumeFile, ConfigFile, resume, filepath.Join(dir, ModelFile)))
	}
	return info, f.wrap(decodeInfo(resume+" ("+infoKey+")", []byte(s), f.Kind, f.What, &info))
}

// Resume reads the run saved by SaveRun in dir. It decodes the training
// config into train, makes the model config.json describes, and calls
// trainer to build a trainer around it; then it restores the model's
// weights and the trainer's Run (whose State.RNG must be set) from the
// resume file. A folder without one gives an error that is ErrNoCheckpoint.
func (f Format[I, M]) Resume(dir string, train any, trainer func(m M) (Run, error)) (I, error) {
	path := filepath.Join(dir, ResumeFile)
	if _, err := os.Stat(path); err != nil {
		var info I
		return info, fmt.Errorf("%w to resume in %s: %v", ErrNoCheckpoint, dir, err)
	}
	info, err := f.ReadRunInfo(dir)
	if err == nil {
		err = f.resume(path, &info, train, trainer)
	}
	return info, err
}

func (f Format[I, M]) resume(path string, info *I, train any, trainer func(m M) (Run, error)) error {
	if err := f.checkShapes(path, info, false); err != nil {
		return err
	}
	c, err := LoadCheckpoint(path)
	if err != nil {
		return f.wrap(err)
	}
	if c.Meta["kind"] != f.Kind+".resume" {
		return f.wrap(fmt.Errorf("%s: kind %q: want %q", path, c.Meta["kind"], f.Kind+".resume"))
	}
	if err := c.GetJSON("train", train); err != nil {
		return f.wrap(fmt.Errorf("%s: %w", path, err))
	}
	m, err := f.New(info)
	if err != nil {
		return f.wrap(err)
	}
	r, err := trainer(m)
	if err != nil {
		return err
	}
	if err := f.Restore(m, c); err == nil {
		err = c.RestoreAdam(r.Opt, r.Params)
		if err == nil {
			err = c.RestoreState(r.State)
		}
	}
	if err != nil {
		return f.wrap(fmt.Errorf("%s: %w", path, err))
	}
	return nil
}

// checkShapes compares the tensors in the header of the checkpoint file path
// with those a model of info has; all says that the file holds the model
// alone (model.safetensors), not also an optimiser's state.
func (f Format[I, M]) checkShapes(path string, info *I, all bool) error {
	if f.Shapes == nil {
		return nil
	}
	have, err := ReadShapes(path)
	if err != nil {
		return f.wrap(err)
	}
	if err := CheckShapes(have, f.Shapes(info), all); err != nil {
		return f.wrap(fmt.Errorf("%s does not match %s: %w", path, ConfigFile, err))
	}
	return nil
}

// wrap names the package in an error, except an ErrNoCheckpoint.
func (f Format[I, M]) wrap(err error) error {
	if err == nil || errors.Is(err, ErrNoCheckpoint) {
		return err
	}
	return fmt.Errorf("%s: %w", f.Pkg, err)
}
