package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReportText(t *testing.T) {
	rounds := []Round{
		{Keys: map[string]float64{"a_ms": 2, "b_per_s": 100}, Peer: map[string]float64{"a_ms": 4, "b_per_s": 50}},
		{Keys: map[string]float64{"a_ms": 3, "b_per_s": 100}, Peer: map[string]float64{"a_ms": 4, "b_per_s": 100}},
	}
	for i := range rounds {
		rounds[i].Ratios = Ratios(rounds[i].Keys, rounds[i].Peer)
	}
	var b bytes.Buffer
	if err := NewReport(rounds, "avx2", 2, nil).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	// a_ms: ratios 0.5 and 0.75, median 0.625; b_per_s: 0.5 and 1.
	if !strings.HasPrefix(lines[1], "a_ms") || !strings.Contains(lines[1], "0.50-0.75") ||
		!strings.HasPrefix(lines[2], "b_per_s") || !strings.Contains(lines[2], "0.50-1.00") ||
		!strings.Contains(b.String(), "medians over 2 rounds") {
		t.Errorf("report:\n%s", b.String())
	}
	b.Reset()
	_ = WriteOpTimes(&b, "k", map[string]time.Duration{"small": time.Millisecond, "big": 3 * time.Millisecond}, 2)
	if got := b.String(); !strings.HasPrefix(got, "k: 2.0 ms in kernels per call\n  big ") {
		t.Errorf("op times: %q", got)
	}
}
