package study

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/metrics"
)

func TestEvaluationText(t *testing.T) {
	fld := 12.5
	e := Evaluation{Gen: "gen", Samples: 100, Sampling: &generator.SampleConfig{Temperature: 1, TopP: 1, CFG: 1.5}, Against: "fashion-mnist test",
		ClassifierAccuracy: 0.9, Report: metrics.Report{Real: 10000, FLD: 3.25, Accuracy: 0.8},
		Memorization: &metrics.Memorization{Train: 500, NearCopies: 0.25, Novel: 75, FLDNovel: &fld}, HeldOut: &generator.Eval{NLL: 5.5}}
	var b bytes.Buffer
	if err := e.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gen: 100 samples (cfg 1.5, temperature 1, top-k 0, top-p 1) against 10000 real images of fashion-mnist test",
		"FLD 3.250", "class accuracy 0.800 (classifier's own test accuracy 0.900)", "near copies 25.0%", "novel FLD 12.500 (75 samples)", "nll 5.500 bits"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("%q does not say %q", b.String(), want)
		}
	}
	e.Sampling, e.Gen, e.Tokens, e.Memorization.FLDNovel, e.Report.Accuracy = nil, "", "s.npy", nil, -1
	b.Reset()
	_ = e.WriteText(&b)
	if got := b.String(); !strings.HasPrefix(got, "s.npy: 100 samples against") || strings.Contains(got, "class accuracy") || !strings.Contains(got, "novel FLD - (75 novel samples") {
		t.Errorf("token file without classes: %q", got)
	}
}
