package progress

import (
	"bytes"
	"strings"
	"testing"
)

// Plain lines come every N steps, counted from where the work starts (a
// resumed run at step 5), and once more at the end.
func TestPlainLines(t *testing.T) {
	var w bytes.Buffer
	b := New(30, "train", Options{W: &w, Every: Interval{N: 10}})
	for step := 5; step <= 27; step++ {
		b.Describe("loss 1.0")
		_ = b.Set(step)
	}
	_ = b.Finish()
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "train: 15/30 (50%), loss 1.0, ") ||
		!strings.HasPrefix(lines[1], "train: 25/30") || !strings.HasPrefix(lines[2], "train: 27/30") || !strings.Contains(lines[0], "ETA") {
		t.Errorf("lines %q: want steps 15, 25 and 27 with the description and an ETA", lines)
	}
	w.Reset()
	q := New(30, "quiet", Options{W: &w, Quiet: true})
	_ = q.Set(30)
	_ = q.Finish()
	if w.Len() != 0 {
		t.Errorf("quiet: %q", w.String())
	}
}

func TestIntervalFlag(t *testing.T) {
	var v Interval
	for in, want := range map[string]Interval{"50": {N: 50}, "30s": {Every: 30e9}} {
		if err := v.Set(in); err != nil || v != want || v.String() != in {
			t.Errorf("%q: %+v (%v), %q; want %+v", in, v, err, v.String(), want)
		}
	}
	for _, bad := range []string{"0", "-3", "-1s", "soon"} {
		if err := v.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Runs starts a new bar for each run.
func TestRuns(t *testing.T) {
	var w bytes.Buffer
	r := &Runs{Options: Options{W: &w, Every: Interval{N: 1}}}
	r.Step("a", 1, 2, 0.5)
	r.Step("a", 2, 2, 0.4)
	r.Step("b", 1, 2, 0.3)
	r.Step("b", 2, 2, 0.2)
	r.Finish()
	if got := w.String(); !strings.Contains(got, "run a: 2/2 (100%), loss 0.400") || !strings.Contains(got, "run b: 2/2 (100%), loss 0.200") {
		t.Errorf("%q", got)
	}
}
