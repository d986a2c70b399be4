package generator

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/dist2"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/nn"
)

func tinyRun(t *testing.T, dir string) Run {
	t.Helper()
	c := tinyConfig()
	r := rand.New(rand.NewPCG(5, 5))
	data, held := tinyTokens(r, 24, c), tinyTokens(r, 6, c)
	tc := DefaultTrainConfig()
	tc.Batch, tc.Steps, tc.Warmup = 8, 12, 2
	return Run{Dir: dir, Config: c, Train: tc, Loss: &dist2.Loss{Kind: dist2.CE}, Data: data, HeldOut: &held,
		Distance: tinyDistance(c), EvalEvery: 4, SaveEvery: 4, KeepBest: true}
}

// A run cancelled midway and continued ends with the weights, the curve and
// the best step of a run never stopped.
func TestTrainContinuedMatchesStraight(t *testing.T) {
	straight := tinyRun(t, t.TempDir())
	want, err := Train(context.Background(), straight)
	if err != nil {
		t.Fatal(err)
	}
	stopped := tinyRun(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	stopped.Progress = func(done, _ int, _ *StepStats, _ *Eval) {
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
	for _, f := range []string{nn.ModelFile, filepath.Join(BestDir, nn.ModelFile)} {
		a, _ := os.ReadFile(filepath.Join(straight.Dir, f))
		b, _ := os.ReadFile(filepath.Join(stopped.Dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the straight and the continued run", f)
		}
	}
	if len(got.Curve) != 3 || len(want.Curve) != 3 {
		t.Fatalf("curves %v and %v: want measurements at steps 4, 8 and 12", want.Curve, got.Curve)
	}
	for i := range want.Curve {
		if want.Curve[i] != got.Curve[i] {
			t.Errorf("curve point %d: straight %v, continued %v", i, want.Curve[i], got.Curve[i])
		}
	}
	if got.BestStep != want.BestStep || want.BestStep != want.Curve[BestPoint(want.Curve)].Step {
		t.Errorf("best step: straight %d, continued %d, curve %v", want.BestStep, got.BestStep, want.Curve)
	}
	_, info, err := Load(filepath.Join(stopped.Dir, BestDir))
	if err != nil || info.Step != got.BestStep {
		t.Errorf("best checkpoint at step %d (%v): want %d", info.Step, err, got.BestStep)
	}
	if _, info, _ = Load(stopped.Dir); info.Metrics["held_out_nll_bits"] != got.HeldOut.NLL {
		t.Errorf("config.json metrics %v: want the final held-out NLL %v", info.Metrics, got.HeldOut.NLL)
	}
}

// A folder holding a run of other settings is refused, naming both.
func TestTrainRefusesOtherSettings(t *testing.T) {
	r := tinyRun(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	r.Progress = func(done, _ int, _ *StepStats, _ *Eval) {
		if done == 2 {
			cancel()
		}
	}
	if _, err := Train(ctx, r); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	r.Progress = nil
	r.Train.LR *= 2
	_, err := Train(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "holds a run trained with") {
		t.Errorf("another learning rate: %v, want a refusal naming the saved settings", err)
	}
}

// The curve is read back from the run's log as rundir.Start leaves it: cut
// to the checkpoint's step, a line cut short by a kill skipped.
func TestReadCurveAfterTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), rundir.MetricsFile)
	log := `{"step":100,"loss":1}
{"step":100,"held_out":{"nll_bits":6}}
{"step":200,"held_out":{"nll_bits":5.5}}
{"step":300,"held_out":{"nll_bits":5.6}}
{"step":400,"held_out":{"nll_bits":5.4}}
{"step":300,"held_o`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rundir.TruncateLog(path, 300); err != nil { // the checkpoint is at 300
		t.Fatal(err)
	}
	got, err := readCurve(path)
	if err != nil || len(got) != 3 || BestPoint(got) != 1 {
		t.Errorf("curve at step 300: %v (best %d), %v; want 3 points, best at index 1", got, BestPoint(got), err)
	}
	if BestPoint(nil) != -1 {
		t.Error("bestPoint of no curve is not -1")
	}
	if got, err := readCurve(filepath.Join(t.TempDir(), "none")); got != nil || err != nil {
		t.Errorf("a missing log: %v, %v; want an empty curve", got, err)
	}
}

// Token corruption replaces about the given share of the inputs by codes
// and never a target; at 0 the inputs are the targets.
func TestCorruptInputs(t *testing.T) {
	for _, p := range []float64{0, 0.3} {
		r := tinyRun(t, t.TempDir())
		r.Train.Corrupt = p
		m, err := New(r.Config, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(m, r.Data, r.Loss, r.Train)
		if err != nil {
			t.Fatal(err)
		}
		changed, n := 0, 0
		for range 20 {
			tr.nextBatch()
			in, target := tr.gr.embed.Tokens, tr.gr.loss.Targets
			for i := range target {
				n++
				if in[i] != target[i] {
					changed++
				}
			}
		}
		// A replacement draws the same code with probability 1/16 here.
		want := p * (1 - 1.0/float64(r.Config.CodebookSize))
		if got := float64(changed) / float64(n); got < want-0.03 || got > want+0.03 {
			t.Errorf("corrupt %v: %.3f of the inputs differ from their targets, want about %.3f", p, got, want)
		}
	}
	r := tinyRun(t, t.TempDir())
	r.Train.Corrupt = 1
	if err := r.Train.Validate(r.Data.N); err == nil {
		t.Error("corruption 1 (no true input left) was accepted")
	}
}

// With patience the run ends once that many measurements in a row miss the
// best, saves there, and stays ended when run again.
func TestTrainPatience(t *testing.T) {
	r := tinyRun(t, t.TempDir())
	r.Train.Steps, r.Train.LR, r.EvalEvery, r.SaveEvery = 200, 0.5, 2, 0 // a rate that soon stops improving
	r.Train.Warmup = 0
	r.Patience = 2
	res, err := Train(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	best := BestPoint(res.Curve)
	if !res.Converged || res.Steps >= 200 || len(res.Curve)-1-best != 2 || res.BestStep != res.Curve[best].Step {
		t.Fatalf("stopped at step %d (converged %v), curve %v: want a stop two measurements after the best", res.Steps, res.Converged, res.Curve)
	}
	again, err := Train(context.Background(), r)
	if err != nil || again.Steps != res.Steps || !again.Converged {
		t.Errorf("run again: %d steps (converged %v), %v; want it to stay at %d", again.Steps, again.Converged, err, res.Steps)
	}
	r.HeldOut = nil
	if _, err := Train(context.Background(), r); err == nil {
		t.Error("patience without held-out data was accepted")
	}
}
