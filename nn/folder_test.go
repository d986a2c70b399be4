package nn

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// toyInfo and toyModel are the smallest model a Format can save: one
// weight matrix of a size its config.json gives, and a buffer beside it.
type toyInfo struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	Width   int    `json:"width"`
}

func (i *toyInfo) Validate() error {
	if i.Width < 1 {
		return errors.New("width 0: want >= 1")
	}
	return nil
}

type toyModel struct {
	w   *Param
	buf []float32
}

var toyFormat = Format[toyInfo, *toyModel]{Kind: "vqtool.toy", What: "a toy checkpoint", Pkg: "toy",
	New: func(i *toyInfo) (*toyModel, error) {
		return &toyModel{w: NewParam("w", i.Width, 2), buf: make([]float32, i.Width)}, nil
	},
	Stamp: func(i *toyInfo, m *toyModel) { i.Kind, i.Version, i.Width = "vqtool.toy", Version, len(m.buf) },
	Put: func(m *toyModel, c *Checkpoint) {
		c.PutParams([]*Param{m.w})
		c.Put("buf", m.buf, len(m.buf))
	},
	Restore: func(m *toyModel, c *Checkpoint) error {
		if err := c.RestoreParams([]*Param{m.w}); err != nil {
			return err
		}
		b, err := c.Get("buf", len(m.buf))
		copy(m.buf, b)
		return err
	},
}

func newToy(t *testing.T, width int, seed uint64) (*toyModel, toyInfo) {
	t.Helper()
	info := toyInfo{Width: width}
	m, err := toyFormat.New(&info)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 0))
	m.w.Uniform(r, 1)
	for i := range m.buf {
		m.buf[i] = float32(r.NormFloat64())
	}
	toyFormat.Stamp(&info, m)
	return m, info
}

func TestFormatSaveLoad(t *testing.T) {
	dir := t.TempDir()
	m, info := newToy(t, 3, 1)
	if err := toyFormat.Save(dir, m, info); err != nil {
		t.Fatal(err)
	}
	back, got, err := toyFormat.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != info || !slices.Equal(back.w.Data(), m.w.Data()) || !slices.Equal(back.buf, m.buf) {
		t.Errorf("loaded %+v %v %v, want %+v %v %v", got, back.w.Data(), back.buf, info, m.w.Data(), m.buf)
	}

	// The config and the weights disagree: the error names both files.
	other := t.TempDir()
	bigger, binfo := newToy(t, 4, 1)
	toyFormat.Save(other, bigger, binfo)
	os.Rename(filepath.Join(dir, ModelFile), filepath.Join(other, ModelFile))
	if _, _, err := toyFormat.Load(other); err == nil || !strings.Contains(err.Error(), "toy: ") ||
		!strings.Contains(err.Error(), ModelFile+" does not match "+ConfigFile) {
		t.Errorf("mismatched weights: error %v, want one naming the package and both files", err)
	}
}

func TestFormatReadInfoErrors(t *testing.T) {
	write := func(body string) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, ConfigFile), []byte(body), 0o644)
		return dir
	}
	for _, tc := range []struct{ name, dir, want string }{
		{"no folder", filepath.Join(t.TempDir(), "missing"), "is not a toy checkpoint: no config.json"},
		{"other kind", write(`{"kind": "vqtool.vqvae", "width": 2}`), `kind "vqtool.vqvae": want "vqtool.toy"`},
		{"newer version", write(`{"kind": "vqtool.toy", "version": 99, "width": 2}`), "version 99"},
		{"invalid config", write(`{"kind": "vqtool.toy", "width": 0}`), "width 0: want >= 1"},
		{"not JSON", write(`{"kind": `), ConfigFile},
	} {
		_, err := toyFormat.ReadInfo(tc.dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "toy: ") {
			t.Errorf("%s: error %v, want one starting %q and saying %q", tc.name, err, "toy: ", tc.want)
		}
	}
}

// toyTrainer is a trainer around a toy model: an optimiser and a run state.
type toyTrainer struct {
	m     *toyModel
	state TrainState
	opt   *Adam
	Steps int // the training config, saved in the resume file
}

func (tr *toyTrainer) run() Run {
	return Run{State: &tr.state, Opt: tr.opt, Params: []*Param{tr.m.w}}
}

func TestFormatSaveRunResume(t *testing.T) {
	dir := t.TempDir()
	if _, err := toyFormat.Resume(dir, new(int), nil); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty folder: error %v, want ErrNoCheckpoint", err)
	}
	m, info := newToy(t, 3, 2)
	rng := rand.NewPCG(5, 6)
	tr := &toyTrainer{m: m, state: TrainState{Step: 7, Epoch: 2, Pos: 11, RNG: rng}, opt: NewAdam(0), Steps: 40}
	tr.opt.Update([]*Param{m.w}, [][]float32{{1, 2, 3, 4, 5, 6}}, 0.1)
	if err := toyFormat.SaveRun(dir, m, tr.run(), tr.Steps, toyInfo{}); err != nil {
		t.Fatal(err)
	}
	next := rand.New(rng).Uint64() // what the resumed generator must draw next

	var back *toyTrainer
	var steps int
	got, err := toyFormat.Resume(dir, &steps, func(m *toyModel) (Run, error) {
		back = &toyTrainer{m: m, state: TrainState{RNG: rand.NewPCG(0, 0)}, opt: NewAdam(0), Steps: steps}
		return back.run(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := back.state
	if got != info || back.Steps != 40 || s.Step != 7 || s.Epoch != 2 || s.Pos != 11 || rand.New(s.RNG).Uint64() != next {
		t.Errorf("resumed %+v steps %d state %+v, want %+v, 40 steps, step 7 epoch 2 pos 11 and the same RNG", got, back.Steps, s, info)
	}
	if !slices.Equal(back.m.w.Data(), m.w.Data()) || !slices.Equal(back.m.buf, m.buf) ||
		!slices.Equal(back.opt.M["w"], tr.opt.M["w"]) || back.opt.Step != 1 {
		t.Error("resumed weights or optimiser moments differ from the saved ones")
	}
	// The inference files beside the resume file hold the same model.
	if lm, _, err := toyFormat.Load(dir); err != nil || !slices.Equal(lm.buf, m.buf) {
		t.Errorf("Load after SaveRun: %v", err)
	}

	// A resume file of another kind is refused, and so is a trainer error.
	os.WriteFile(filepath.Join(dir, ResumeFile), []byte("garbage"), 0o644)
	if _, err := toyFormat.Resume(dir, &steps, nil); err == nil || !strings.Contains(err.Error(), ResumeFile) {
		t.Errorf("garbage resume file: error %v, want one naming it", err)
	}
}
