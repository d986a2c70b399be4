package vqvae

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
)

func TestSmoke(t *testing.T) {
	d, _ := imageio.Open("embedded", imageio.Options{})
	m, err := New(DefaultConfig(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTrainConfig()
	cfg.Steps = 30
	tr, err := NewTrainer(m, Images{Pix: d.Pix, N: d.N, C: d.C, H: d.H, W: d.W}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		tr.TrainStep()
	}
	nn.OpTimes = map[string]time.Duration{}
	start := time.Now()
	for range 20 {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	total := time.Since(start) / 20
	var names []string
	var sum time.Duration
	for k, v := range nn.OpTimes {
		names = append(names, k)
		sum += v
	}
	sort.Slice(names, func(i, j int) bool { return nn.OpTimes[names[i]] > nn.OpTimes[names[j]] })
	for _, k := range names {
		t.Logf("%-22s %v", k, nn.OpTimes[k]/20)
	}
	t.Logf("step %v, in ops %v", total, sum/20)
	nn.OpTimes = nil
}
