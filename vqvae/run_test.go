package vqvae

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/nn"
)

func tinyRun(t *testing.T, dir string) Run {
	t.Helper()
	data, held := tinyData(t, 40), tinyData(t, 8)
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.Warmup = 8, 12, 2
	return Run{Dir: dir, Config: tinyConfig(), Train: tc, Data: data, HeldOut: &held, SaveEvery: 4,
		Info: Info{Data: DataInfo{Name: "embedded", Channels: data.C, Size: data.H, Range: [2]float64{-1, 1}}}}
}

// A run cancelled midway and continued ends with the weights of a run never
// stopped, and each records its final held-out measurement.
func TestTrainContinuedMatchesStraight(t *testing.T) {
	straight := tinyRun(t, t.TempDir())
	want, err := Train(context.Background(), straight)
	if err != nil {
		t.Fatal(err)
	}
	stopped := tinyRun(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	stopped.Progress = func(done, _ int, _ *StepStats) {
		if done == 6 {
			cancel()
		}
	}
	if _, err := Train(ctx, stopped); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v, want context.Canceled", err)
	}
	if !rundir.HasRun(stopped.Dir) {
		t.Fatal("a cancelled run left nothing to continue")
	}
	stopped.Progress = nil
	got, err := Train(context.Background(), stopped)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(straight.Dir, nn.ModelFile))
	b, _ := os.ReadFile(filepath.Join(stopped.Dir, nn.ModelFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the straight and the continued run wrote different weights")
	}
	if got.Steps != 12 || got.HeldOut == nil || *got.HeldOut != *want.HeldOut {
		t.Errorf("continued run: %d steps, held-out %+v; want 12 and %+v", got.Steps, got.HeldOut, want.HeldOut)
	}
	if _, info, _ := Load(stopped.Dir); info.Metrics["held_out_psnr"] != got.HeldOut.PSNR {
		t.Errorf("config.json metrics %v: want the final held-out PSNR %v", info.Metrics, got.HeldOut.PSNR)
	}
	r := tinyRun(t, stopped.Dir)
	r.Train.LR *= 2
	if _, err := Train(context.Background(), r); err == nil {
		t.Error("a folder holding a run of another learning rate was continued")
	}
}
