package rundir

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A resumed run's metrics.jsonl holds each step once: the steps logged after
// the checkpoint it resumes from are dropped, lines without a step kept.
func TestTruncateLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsFile)
	os.WriteFile(path, []byte("{\"step\":1}\n{\"step\":2}\n{\"epoch\":1}\n{\"step\":3}\n{\"step\":4}\n"), 0o644)
	if err := TruncateLog(path, 2); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{\"step\":1}\n{\"step\":2}\n{\"epoch\":1}\n" {
		t.Errorf("got %q", b)
	}
	if err := TruncateLog(filepath.Join(t.TempDir(), "none"), 2); err != nil {
		t.Errorf("a missing log: %v", err)
	}
}

func TestCheckFreshAndMake(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	undo, err := Make(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFresh(dir, false); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
	undo()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("undo left %s: %v", dir, err)
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644)
	if err := CheckFresh(dir, false); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), dir) {
		t.Errorf("a model without --force: %v", err)
	}
	if err := CheckFresh(dir, true); err != nil {
		t.Errorf("a model with force: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "resume.safetensors"), nil, 0o644)
	if err := CheckFresh(dir, true); !errors.Is(err, ErrRunning) {
		t.Errorf("a run in progress, even with force: %v", err)
	}
	again, err := Make(dir)
	if err != nil {
		t.Fatal(err)
	}
	again()
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("undo of a folder that was there removed it: %v", err)
	}
}

// Start locks the folder, removes stale temp files and cuts the log back.
func TestStart(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".model.safetensors.tmp123"), []byte("half"), 0o644)
	os.WriteFile(filepath.Join(dir, MetricsFile), []byte("{\"step\":5}\n{\"step\":6}\n"), 0o644)
	var logs []string
	release, metrics, err := Start(dir, 5, func(f string, a ...any) { logs = append(logs, f) })
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Start(dir, 5, nil); err == nil {
		t.Error("a second writer got the folder")
	}
	if err := metrics.Add(map[string]int{"step": 6}); err != nil {
		t.Fatal(err)
	}
	if err := metrics.Add(map[string]float64{"step": 7, "loss": math.NaN()}); err != nil { // no JSON: left out
		t.Fatal(err)
	}
	release()
	b, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if string(b) != "{\"step\":5}\n{\"step\":6}\n" {
		t.Errorf("log %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, ".model.safetensors.tmp123")); err == nil || len(logs) != 1 {
		t.Errorf("stale temp file kept, or not reported (%q)", logs)
	}
	if release, _, err := Start(dir, 6, nil); err != nil {
		t.Errorf("after release: %v", err)
	} else {
		release()
	}
}

// A failed save (a full disk) says whether the folder keeps a checkpoint to
// resume from: config.json, written last, is the commit point.
func TestFailedSaveSaysWhatIsKept(t *testing.T) {
	dir := t.TempDir()
	l := Loop{Dir: dir}
	full := errors.New("no space left on device")
	if err := l.Kept(full); !errors.Is(err, full) || !strings.Contains(err.Error(), "no complete checkpoint yet") {
		t.Errorf("without config.json: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Kept(full); !strings.Contains(err.Error(), "--resume") || strings.Contains(err.Error(), "yet") {
		t.Errorf("with config.json: %v", err)
	}
}

// The loop steps to Total, runs periodic work on its steps, and on
// cancellation saves and stops; a diverged step keeps the checkpoint.
func TestLoop(t *testing.T) {
	done, saves, every3 := 0, 0, 0
	var seen []int
	l := Loop{Dir: t.TempDir(), Done: func() int { return done }, Total: 7,
		Step:     func() (string, error) { done++; return "ok", nil },
		Save:     func() error { saves++; return nil },
		Periodic: []Periodic{{N: 3, F: func() error { every3++; return nil }}, {N: 0, F: func() error { t.Error("N 0 ran"); return nil }}},
		Progress: func(d int, _ string) { seen = append(seen, d) }}
	if err := l.Run(context.Background()); err != nil || done != 7 || every3 != 2 || saves != 0 || len(seen) != 8 {
		t.Errorf("err %v, %d steps, periodic %d, saves %d, progress %v", err, done, every3, saves, seen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done = 0
	l.Step = func() (string, error) {
		if done++; done == 2 {
			cancel()
		}
		return "", nil
	}
	var msg string
	l.Logf = func(f string, a ...any) { msg = fmt.Sprintf(f, a...) }
	if err := l.Run(ctx); !errors.Is(err, context.Canceled) || done != 2 || saves != 1 || !strings.Contains(msg, "step 2") {
		t.Errorf("cancelled: err %v after %d steps, %d saves, %q", err, done, saves, msg)
	}
	nan := errors.New("loss is NaN")
	l.Diverged, done = nan, 0
	l.Step = func() (string, error) { return "", fmt.Errorf("step 1: %w", nan) }
	if err := l.Run(context.Background()); !errors.Is(err, nan) || !strings.Contains(err.Error(), "kept") {
		t.Errorf("diverged: %v", err)
	}
}
