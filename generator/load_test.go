package generator

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/memory"
	"github.com/vqtool/vqtool/nn"
)

// A config.json that asks for one 32 GB embedding beside the weights of a
// small model is refused before the model is built, naming the file.
func TestLoadRefusesAConfigLargerThanItsWeights(t *testing.T) {
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
	info.Config.CodebookSize, info.Config.Dim, info.Config.Heads = 1<<16, 8192, 1 // embed.tokens: 2^16 x 8192 float32, 2 GiB
	if err := atomicfile.WriteJSON(filepath.Join(dir, nn.ConfigFile), info); err != nil {
		t.Fatal(err)
	}
	n := memory.Allocated(func() { _, _, err = Load(dir) })
	if err == nil || !strings.Contains(err.Error(), "does not match config.json") || !strings.Contains(err.Error(), filepath.Join(dir, nn.ModelFile)) {
		t.Errorf("codebook size 2^16, width 8192 beside a tiny model: %v, want an error naming %s", err, nn.ModelFile)
	}
	if n > memory.TestBound {
		t.Errorf("%d bytes allocated before the error", n)
	}
}

// Config.Shapes lists exactly the tensors a saved model holds.
func TestShapesMatchTheModel(t *testing.T) {
	c := tinyConfig()
	m, err := New(c, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ck := nn.NewCheckpoint()
	ck.PutParams(m.params)
	got := map[string][]int{}
	for name, tn := range ck.Tensors {
		got[name] = tn.Shape
	}
	if err := nn.CheckShapes(got, c.Shapes(), true); err != nil {
		t.Error(err)
	}
}
