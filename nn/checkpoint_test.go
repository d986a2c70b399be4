package nn

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	conv := NewConv("enc", 3, 4, Geometry{3, 1, 1}, r)
	a := NewAdam(0.01)
	grads := [][]float32{make([]float32, len(conv.W.Data())), make([]float32, 4)}
	for i := range grads[0] {
		grads[0][i] = float32(r.NormFloat64())
	}
	a.Update(conv.Params(), grads, 1e-3)
	c := NewCheckpoint()
	c.PutParams(conv.Params())
	c.PutAdam(a, conv.Params())
	c.Meta["config"] = `{"k": 3}`
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	other := NewConv("enc", 3, 4, Geometry{3, 1, 1}, rand.New(rand.NewPCG(9, 9)))
	if err := back.RestoreParams(other.Params()); err != nil {
		t.Fatal(err)
	}
	b := NewAdam(0.01)
	if err := back.RestoreAdam(b, other.Params()); err != nil {
		t.Fatal(err)
	}
	if other.W.Data()[5] != conv.W.Data()[5] || b.Step != 1 || b.V["enc.weight"][3] != a.V["enc.weight"][3] {
		t.Error("restored values differ")
	}
	if back.Meta["config"] != `{"k": 3}` {
		t.Errorf("meta %v", back.Meta)
	}
	wrong := NewConv("enc", 5, 4, Geometry{3, 1, 1}, r)
	if err := back.RestoreParams(wrong.Params()); err == nil || !strings.Contains(err.Error(), "want [45 4]") {
		t.Errorf("wrong shape: error %v, want one naming the expected shape", err)
	}
	os.WriteFile(path, []byte("not a checkpoint at all"), 0o644)
	if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("garbage file: error %v, want one naming the file", err)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	c := NewCheckpoint()
	c.Put("w", []float32{1, 2, 3, 4}, 2, 2)
	path := filepath.Join(f.TempDir(), "c.safetensors")
	c.Save(path)
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := DecodeCheckpoint(in)
		if errors.Is(err, errParserPanic) {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		for name, tn := range c.Tensors {
			n := 1
			for _, d := range tn.Shape {
				n *= d
			}
			if n != len(tn.Data) {
				t.Fatalf("tensor %q: shape %v but %d values", name, tn.Shape, len(tn.Data))
			}
		}
	})
}

func TestAdamMatchesReference(t *testing.T) {
	// One parameter, gradient 0.5 three times, lr 0.1, no decay: the Adam
	// update is lr * mhat/(sqrt(vhat)+eps) = 0.1 per step, as in PyTorch.
	p := NewParam("w", 1)
	a := NewAdam(0)
	for range 3 {
		a.Update([]*Param{p}, [][]float32{{0.5}}, 0.1)
	}
	if got := p.Data()[0]; got > -0.2999 || got < -0.3001 {
		t.Errorf("w = %v, want -0.3", got)
	}
	s := Schedule{Peak: 1, Warmup: 10, Total: 110, MinRatio: 0.1}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 0.1}, {9, 1}, {10, 1}, {60, 0.55}, {110, 0.1}, {500, 0.1}} {
		if got := s.At(tc.step); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("schedule at %d = %v, want %v", tc.step, got, tc.want)
		}
	}
}
