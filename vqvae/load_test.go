package vqvae

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/memory"
	"github.com/vqtool/vqtool/nn"
)

// copyFixture copies the committed small tokenizer into a temporary folder.
func copyFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{nn.ConfigFile, nn.ModelFile} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fmnist-small.vq", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A NaN weight and an unknown config version are errors that name them,
// not a model that decodes black patches.
func TestLoadRejectsNaNAndUnknownVersions(t *testing.T) {
	dir := copyFixture(t)
	if _, _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, nn.ModelFile)
	c, err := nn.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, tensor := range c.Tensors {
		if strings.Contains(name, "codebook") {
			tensor.Data[3] = float32(math.NaN())
			break
		}
	}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), "codebook") {
		t.Errorf("a NaN codebook entry: %v, want an error naming the tensor and NaN", err)
	}

	dir = copyFixture(t)
	cfg := filepath.Join(dir, nn.ConfigFile)
	b, _ := os.ReadFile(cfg)
	b = []byte(strings.Replace(string(b), `"version": 1`, `"version": 7`, 1))
	os.WriteFile(cfg, b, 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("version 7: %v, want an error naming the version", err)
	}
}

// A config.json from outside is checked against the weights beside it: any
// bytes give a model or an error, never a panic.
func FuzzLoadConfig(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("..", "testdata", "fmnist-small.vq", nn.ConfigFile))
	if err != nil {
		f.Fatal(err)
	}
	weights, err := os.ReadFile(filepath.Join("..", "testdata", "fmnist-small.vq", nn.ModelFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(strings.Replace(string(seed), `"hidden": 32`, `"hidden": 64`, 1)))
	f.Add([]byte(strings.Replace(string(seed), `"size": 28`, `"size": 0`, 1)))
	f.Fuzz(func(t *testing.T, cfg []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, nn.ConfigFile), cfg, 0o644)
		os.WriteFile(filepath.Join(dir, nn.ModelFile), weights, 0o644)
		m, info, err := Load(dir)
		if err != nil {
			return
		}
		if m.Config != info.Config || m.Codebook.CodebookSize != info.Config.CodebookSize {
			t.Fatalf("loaded %+v from %+v", m.Config, info.Config)
		}
	})
}

// A config.json is checked against the header of the weights beside it
// before the model is built: a config within Validate's bounds that asks
// for gigabytes beside small real weights, weights that are a sparse file
// or a link to /dev/zero, are refused with an error naming the file, having
// allocated next to nothing.
func TestLoadBombs(t *testing.T) {
	save := func() (string, Info) {
		dir := t.TempDir()
		m, err := New(tinyConfig(), rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Save(dir, Info{}); err != nil {
			t.Fatal(err)
		}
		info, err := ReadInfo(dir)
		if err != nil {
			t.Fatal(err)
		}
		return dir, info
	}
	huge, _ := save()
	info, _ := ReadInfo(huge)
	info.Config.Hidden, info.Config.ResBlocks, info.Config.ResHidden, info.Config.CodebookSize, info.Config.CodeDim = 4096, 16, 4096, 1<<16, 1024
	if err := atomicfile.WriteJSON(filepath.Join(huge, nn.ConfigFile), info); err != nil {
		t.Fatal(err)
	}
	sparse, _ := save()
	if err := os.Truncate(filepath.Join(sparse, nn.ModelFile), 10<<30); err != nil {
		t.Fatal(err)
	}
	zero, _ := save()
	os.Remove(filepath.Join(zero, nn.ModelFile))
	if err := os.Symlink("/dev/zero", filepath.Join(zero, nn.ModelFile)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dir, want string }{
		{"hidden 4096, 16 blocks, K 65536, D 1024", huge, "does not match config.json"},
		{"a sparse 10 GB model.safetensors", sparse, "its header describes"},
		{"model.safetensors a link to /dev/zero", zero, "is a device (a link to /dev/zero): want a regular file"},
	} {
		var err error
		n := memory.Allocated(func() { _, _, err = Load(tc.dir) })
		if err == nil || !strings.Contains(err.Error(), filepath.Join(tc.dir, nn.ModelFile)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", tc.name, err, nn.ModelFile, tc.want)
		}
		if n > memory.TestBound {
			t.Errorf("%s: %d bytes allocated before the error", tc.name, n)
		}
	}
}

// Config.Shapes lists exactly the tensors a saved model holds.
func TestShapesMatchTheModel(t *testing.T) {
	deep := tinyConfig()
	deep.Downsample, deep.Size, deep.ResBlocks, deep.Channels = 8, 32, 2, 3
	for _, c := range []Config{tinyConfig(), deep} {
		m, err := New(c, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		ck := nn.NewCheckpoint()
		m.putWeights(ck)
		got := map[string][]int{}
		for name, tn := range ck.Tensors {
			got[name] = tn.Shape
		}
		if err := nn.CheckShapes(got, c.Shapes(), true); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
