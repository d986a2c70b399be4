package vqvae

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		var c struct{ Config Config }
		if json.Unmarshal(cfg, &c) == nil && (c.Config.Hidden > 256 || c.Config.ResHidden > 256 || c.Config.Size > 64 || c.Config.CodebookSize > 4096) {
			t.Skip("a model this large only costs time to build before its weights are found not to match")
		}
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
