package metrics

import (
	"fmt"

	"github.com/vqtool/vqtool/internal/par"
)

// NearCopyThreshold is the agreement at or above which a sample counts as a
// near copy of a training grid.
const NearCopyThreshold = 0.9

// Overlap returns, for each of the n grids in samples, the largest fraction
// of its positions whose tokens equal those of one grid of train (grids of
// length l in raster order, position-wise):
//
//	overlap[i] = max_j (1/l) sum_p [samples[i*l+p] == train[j*l+p]]
//
// and the index of that training grid (the first one on ties).
func Overlap(samples []int32, n int, train []int32, m, l int) (overlap []float64, nearest []int, err error) {
	if l < 1 || len(samples) != n*l || len(train) != m*l || m < 1 {
		return nil, nil, fmt.Errorf("metrics: overlap of %d samples and %d training grids of %d tokens: got %d and %d tokens",
			n, m, l, len(samples), len(train))
	}
	overlap, nearest = make([]float64, n), make([]int, n)
	par.For(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := samples[i*l : (i+1)*l]
			best, at := -1, 0
			for j := range m {
				t := train[j*l : (j+1)*l]
				same := 0
				for p, v := range s {
					if t[p] == v {
						same++
					}
				}
				if same > best {
					best, at = same, j
				}
			}
			overlap[i], nearest[i] = float64(best)/float64(l), at
		}
	})
	return overlap, nearest, nil
}

// NearCopies returns the share of overlaps at or above NearCopyThreshold.
func NearCopies(overlap []float64) float64 {
	if len(overlap) == 0 {
		return 0
	}
	k := 0
	for _, o := range overlap {
		if o >= NearCopyThreshold {
			k++
		}
	}
	return float64(k) / float64(len(overlap))
}

// MinNovel is the fewest novel samples (not near copies) whose FLD
// Memorize measures.
const MinNovel = 200

// Memorization is how much samples copy the training grids.
type Memorization struct {
	Train       int      `json:"train_grids"`
	NearCopies  float64  `json:"near_copies"`  // share of samples agreeing >= NearCopyThreshold with one training grid
	MeanOverlap float64  `json:"mean_overlap"` // mean of each sample's largest agreement
	Novel       int      `json:"novel"`        // samples that are not near copies
	FLDNovel    *float64 `json:"fld_novel"`    // FLD of the novel samples; null under MinNovel of them
}

// Memorize measures n samples, their grids tokens (of length l) and their
// images fake (channel-major in [-1, 1]), against the m training grids train
// (Overlap) and, for the novel ones, against the real features (nr rows).
func (l *LeNet) Memorize(realFeatures []float32, nr int, fake []float32, tokens []int32, n int, train []int32, m, length int) (Memorization, error) {
	overlap, _, err := Overlap(tokens, n, train, m, length)
	if err != nil {
		return Memorization{}, err
	}
	out := Memorization{Train: m, NearCopies: NearCopies(overlap)}
	per := len(fake) / n
	var novel []float32
	for i, o := range overlap {
		out.MeanOverlap += o
		if o < NearCopyThreshold {
			novel = append(novel, fake[i*per:(i+1)*per]...)
			out.Novel++
		}
	}
	out.MeanOverlap /= float64(n)
	if out.Novel < MinNovel {
		return out, nil
	}
	feat, _, err := l.Run(novel, out.Novel)
	if err != nil {
		return out, err
	}
	f, err := Frechet(realFeatures, nr, feat, out.Novel, l.Features)
	if err != nil {
		return out, err
	}
	out.FLDNovel = &f
	return out, nil
}
