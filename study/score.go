package study

import (
	"context"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/metrics"
)

// minNovel is the fewest samples that are not near copies for which a novel
// FLD is reported.
const minNovel = 200

// Scores measure one set of samples against real images.
type Scores struct {
	Temperature float64  `json:"temperature"`
	TopK        int      `json:"top_k,omitempty"`
	FLD         float64  `json:"fld"`
	FLDNovel    *float64 `json:"fld_novel"` // FLD of the samples that are not near copies; null under minNovel of them
	Novel       int      `json:"novel"`
	KID         float64  `json:"kid_x1e3"` // KID x 10^3
	KIDStd      float64  `json:"kid_std_x1e3"`
	Precision   float64  `json:"precision"`
	Recall      float64  `json:"recall"`
	ClassAcc    float64  `json:"class_acc"`
	NearCopies  float64  `json:"near_copies"`  // share of samples agreeing >= 90% with one training grid
	MeanOverlap float64  `json:"mean_overlap"` // mean of each sample's largest agreement
	// CT is the data-copying statistic C_T of the samples' features against
	// the run's training images and the real ones (metrics.Copying): well
	// below 0 is copying; null when no cell holds enough samples.
	CT *float64 `json:"c_t"`
}

// score draws c.Samples grids from m (classes in turn) with sc, decodes
// them and measures them against the real features feat (n real images) and
// against the training grids of the run and their images' features
// trainFeat. It returns the drawn grids too.
func (c Config) score(ctx context.Context, s *split, m *generator.Model, subset generator.Tokens, trainFeat []float32, sc generator.SampleConfig,
	feat []float32, n int) (Scores, []int32, []int32, error) {
	pix, tokens, classes, err := Draw(m, s.VQ, c.Samples, sc, func(int) error { return ctx.Err() })
	if err != nil {
		return Scores{}, nil, nil, err
	}
	per := len(pix) / c.Samples
	fakeFeat, pred, err := s.LeNet.Run(pix, c.Samples)
	if err != nil {
		return Scores{}, nil, nil, err
	}
	rep, err := s.LeNet.CompareRun(feat, n, fakeFeat, pred, c.Samples, classes, sc.Seed)
	if err != nil {
		return Scores{}, nil, nil, err
	}
	overlap, _, err := metrics.Overlap(tokens, c.Samples, subset.Codes, subset.N, subset.Len)
	if err != nil {
		return Scores{}, nil, nil, err
	}
	out := Scores{Temperature: sc.Temperature, TopK: sc.TopK, FLD: rep.FLD, KID: 1e3 * rep.KID, KIDStd: 1e3 * rep.KIDStd,
		Precision: rep.Precision, Recall: rep.Recall, ClassAcc: rep.Accuracy, NearCopies: metrics.NearCopies(overlap)}
	d := len(feat) / n
	if ct, err := metrics.Copying(trainFeat, len(trainFeat)/d, feat, n, fakeFeat, c.Samples, d, metrics.DefaultCopyingConfig()); err == nil {
		out.CT = &ct
	}
	var novel []float32
	for i, o := range overlap {
		out.MeanOverlap += o / float64(len(overlap))
		if o < metrics.NearCopyThreshold {
			novel = append(novel, pix[i*per:(i+1)*per]...)
			out.Novel++
		}
	}
	if out.Novel >= minNovel {
		fake, _, err := s.LeNet.Run(novel, out.Novel)
		if err != nil {
			return Scores{}, nil, nil, err
		}
		f, err := metrics.Frechet(feat, n, fake, out.Novel, d)
		if err != nil {
			return Scores{}, nil, nil, err
		}
		out.FLDNovel = &f
	}
	return out, tokens, classes, nil
}
