package study

import (
	"fmt"
	"io"
	"strings"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/metrics"
)

// Evaluation is what vqtool eval reports of a set of samples: where they
// came from (a generator drawn with Sampling, a token file or images), what
// they were scored against, the scores (Score), and the held-out NLL of the
// generator that drew them.
type Evaluation struct {
	Gen                string                  `json:"gen,omitempty"`
	Tokens             string                  `json:"tokens,omitempty"`
	Images             string                  `json:"images,omitempty"`
	Samples            int                     `json:"samples"`
	Sampling           *generator.SampleConfig `json:"sampling,omitempty"`
	Against            string                  `json:"against"` // the real images: their set, and split
	Classifier         string                  `json:"classifier"`
	ClassifierAccuracy float64                 `json:"classifier_test_accuracy"`
	metrics.Report
	Memorization *metrics.Memorization `json:"memorization,omitempty"`
	HeldOut      *generator.Eval       `json:"held_out,omitempty"`
	Seconds      float64               `json:"sample_seconds"`
}

// WriteText writes e as lines of text.
func (e Evaluation) WriteText(w io.Writer) error {
	var p strings.Builder
	if s := e.Sampling; s != nil {
		fmt.Fprintf(&p, "%s: %d samples (cfg %g, temperature %g, top-k %d, top-p %g) against %d real images of %s\n",
			e.Gen, e.Samples, s.CFG, s.Temperature, s.TopK, s.TopP, e.Real, e.Against)
	} else {
		fmt.Fprintf(&p, "%s%s: %d samples against %d real images of %s\n", e.Tokens, e.Images, e.Samples, e.Real, e.Against)
	}
	fmt.Fprintf(&p, "FLD %.3f  KID %.4f ± %.4f  precision %.3f  recall %.3f", e.FLD, e.KID, e.KIDStd, e.Precision, e.Recall)
	if e.Accuracy >= 0 {
		fmt.Fprintf(&p, "  class accuracy %.3f (classifier's own test accuracy %.3f)", e.Accuracy, e.ClassifierAccuracy)
	}
	fmt.Fprintf(&p, "\n")
	if m := e.Memorization; m != nil {
		novel := fmt.Sprintf("- (%d novel samples, under %d)", m.Novel, metrics.MinNovel)
		if m.FLDNovel != nil {
			novel = fmt.Sprintf("%.3f (%d samples)", *m.FLDNovel, m.Novel)
		}
		fmt.Fprintf(&p, "memorisation against %d training grids: near copies %.1f%%, mean overlap %.3f, novel FLD %s\n",
			m.Train, 100*m.NearCopies, m.MeanOverlap, novel)
	}
	if he := e.HeldOut; he != nil {
		fmt.Fprintf(&p, "held-out tokens: nll %.3f bits, accuracy %.3f, expected codebook distance %.4g\n", he.NLL, he.Accuracy, he.ExpectedDistance)
	}
	_, err := io.WriteString(w, p.String())
	return err
}
