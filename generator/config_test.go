package generator

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vqtool/vqtool/nn"
)

func TestConfigJSON(t *testing.T) {
	want := Config{CodebookSize: 64, Classes: 10, Len: 49, GridH: 7, GridW: 7, Dim: 256, Layers: 6, Heads: 8, MLP: 1024}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"codebook_size":64`)) || bytes.Contains(b, []byte("vocab")) {
		t.Errorf("config written as %s: want codebook_size", b)
	}
	for _, js := range []string{string(b),
		`{"vocab": 64, "classes": 10, "len": 49, "grid_h": 7, "grid_w": 7, "dim": 256, "layers": 6, "heads": 8, "mlp": 1024}`} {
		var got Config
		if err := json.Unmarshal([]byte(js), &got); err != nil || got != want {
			t.Errorf("%s read as %+v, %v; want %+v", js, got, err, want)
		}
	}
}

// A checkpoint whose config.json names the codebook size "vocab" loads.
func TestOldConfigLoads(t *testing.T) {
	m, err := New(tinyConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, Info{Loss: LossInfo{Kind: "ce"}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, nn.ConfigFile)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Replace(b, []byte(`"codebook_size"`), []byte(`"vocab"`), 1)
	if bytes.Equal(old, b) {
		t.Fatalf("%s has no codebook_size", b)
	}
	if err := os.WriteFile(file, old, 0o644); err != nil {
		t.Fatal(err)
	}
	back, info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config != m.Config || info.Config != m.Config {
		t.Errorf("old config read as %+v (info %+v), want %+v", back.Config, info.Config, m.Config)
	}
	if back.Params()[0].Data()[0] != m.Params()[0].Data()[0] {
		t.Error("the old checkpoint's weights differ from the saved ones")
	}
}
