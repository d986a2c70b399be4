package generator

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vqtool/vqtool/dist2"
)

// Complete keeps the given tokens, and with none given it is Sample.
func TestCompleteKeepsThePrefix(t *testing.T) {
	c := tinyConfig()
	m, _ := New(c, rand.New(rand.NewPCG(1, 1)))
	data := tinyTokens(rand.New(rand.NewPCG(2, 2)), 5, c)
	cfg := DefaultSampleConfig()
	out, err := m.Complete(data.Labels, data.Codes, 4, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data.N {
		if !slices.Equal(out[i*c.Len:i*c.Len+4], data.Codes[i*c.Len:i*c.Len+4]) {
			t.Errorf("grid %d: %v, want the prefix %v", i, out[i*c.Len:i*c.Len+4], data.Codes[i*c.Len:i*c.Len+4])
		}
	}
	none, _ := m.Complete(data.Labels, data.Codes, 0, cfg)
	sampled, _ := m.Sample(data.Labels, cfg)
	if !slices.Equal(none, sampled) {
		t.Error("Complete with no given tokens differs from Sample")
	}
	if _, err := m.Complete(data.Labels, data.Codes, c.Len+1, cfg); err == nil {
		t.Error("more given tokens than a grid holds were accepted")
	}
}

// A model trained to memorise three grids gives all three back from one
// token greedily; an untrained one gives none back.
func TestExtraction(t *testing.T) {
	c := tinyConfig()
	data := Tokens{Codes: make([]int32, 3*c.Len), Labels: []int32{0, 1, 2}, N: 3, Len: c.Len}
	r := rand.New(rand.NewPCG(3, 3))
	for i := range data.Codes {
		data.Codes[i] = int32(r.IntN(c.CodebookSize))
	}
	m, _ := New(c, rand.New(rand.NewPCG(1, 1)))
	greedy := SampleConfig{Temperature: 1, TopK: 1, TopP: 1, CFG: 1, Seed: 1}
	if got, err := m.Extraction(data, 1, greedy, 0.9); err != nil || got != 0 {
		t.Errorf("untrained: %v extracted (%v), want 0", got, err)
	}
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.LR, tc.Warmup, tc.CondDrop = 3, 300, 1e-2, 0, 0
	tr, err := NewTrainer(m, data, &dist2.Loss{Kind: dist2.CE}, tc)
	if err != nil {
		t.Fatal(err)
	}
	for range tc.Steps {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := m.Extraction(data, 1, greedy, 0.9); err != nil || got != 1 {
		t.Errorf("memorised: %v extracted (%v), want all 3", got, err)
	}
	if _, err := m.Extraction(data, c.Len, greedy, 0.9); err == nil {
		t.Error("a whole grid given was accepted")
	}
}
