package metrics

import (
	"github.com/vqtool/vqtool/internal/seeds"
)

// Report compares generated images with real ones through a classifier's
// features.
type Report struct {
	Real      int     `json:"real"`
	Fake      int     `json:"fake"`
	FLD       float64 `json:"fld"`     // Frechet distance of LeNet features (lower is better)
	KID       float64 `json:"kid"`     // unbiased kernel distance (lower is better)
	KIDStd    float64 `json:"kid_std"` // over subsets
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// Accuracy is the classifier's agreement with the classes the fake
	// images were asked for, when they were (-1 otherwise).
	Accuracy float64 `json:"class_accuracy"`
}

// Compare measures fake images (with the classes they were drawn for, or
// nil) against real images, both channel-major in [-1, 1].
func (l *LeNet) Compare(real []float32, nr int, fake []float32, nf int, asked []int32, seed uint64) (Report, error) {
	fr, _, err := l.Run(real, nr)
	if err != nil {
		return Report{}, err
	}
	return l.CompareFeatures(fr, nr, fake, nf, asked, seed)
}

// CompareFeatures is Compare with the real features already computed.
func (l *LeNet) CompareFeatures(realFeatures []float32, nr int, fake []float32, nf int, asked []int32, seed uint64) (Report, error) {
	ff, pred, err := l.Run(fake, nf)
	if err != nil {
		return Report{}, err
	}
	return l.CompareRun(realFeatures, nr, ff, pred, nf, asked, seed)
}

// CompareRun is CompareFeatures with the fake images' features and
// predicted classes already computed (Run).
func (l *LeNet) CompareRun(realFeatures []float32, nr int, ff []float32, pred []int32, nf int, asked []int32, seed uint64) (Report, error) {
	var err error
	rep := Report{Real: nr, Fake: nf, Accuracy: -1}
	d := l.Features
	if rep.FLD, err = Frechet(realFeatures, nr, ff, nf, d); err != nil {
		return rep, err
	}
	r := seeds.New(seed, seeds.KIDSubsets)
	if rep.KID, rep.KIDStd, err = KID(realFeatures, nr, ff, nf, d, 10, 1000, r); err != nil {
		return rep, err
	}
	rep.Precision, rep.Recall = PrecisionRecall(realFeatures, min(nr, 5000), ff, min(nf, 5000), d, 3)
	if asked != nil {
		hit := 0
		for i, c := range asked {
			if pred[i] == c {
				hit++
			}
		}
		rep.Accuracy = float64(hit) / float64(nf)
	}
	return rep, nil
}
