package study

import (
	"fmt"
	"math"
	"strings"
)

// Choice is the DIST2 setting the main runs use, with how it was chosen.
type Choice struct {
	Setting
	Swept bool    `json:"swept"`           // chosen by the sweep (false: the only setting given)
	By    string  `json:"by,omitempty"`    // the criterion
	Score float64 `json:"score,omitempty"` // its value, the mean over the sweep sizes
}

// SweepRow is one sweep run scored at one temperature on the validation split.
type SweepRow struct {
	Setting
	CodebookSize int      `json:"codebook_size,omitempty"`
	Size         int      `json:"size"`
	ValNLL       float64  `json:"val_nll_bits"`
	FLD          float64  `json:"fld_val"`
	FLDNovel     *float64 `json:"fld_novel_val"`
	NearCopies   float64  `json:"near_copies"`
	ClassAcc     float64  `json:"class_acc"`
}

// sweepRows lists the sweep's runs at every temperature.
func sweepRows(runs []Result) []SweepRow {
	rows := []SweepRow{}
	for _, r := range runs {
		if !r.Sweep {
			continue
		}
		for _, s := range r.Scores {
			if s.TopK != 0 {
				continue
			}
			rows = append(rows, SweepRow{Setting: Setting{r.Alpha, r.Perplexity, s.Temperature}, CodebookSize: r.CodebookSize, Size: r.Size, ValNLL: r.ValNLL,
				FLD: s.FLD, FLDNovel: s.FLDNovel, NearCopies: s.NearCopies, ClassAcc: s.ClassAcc})
		}
	}
	return rows
}

// choose picks the DIST2 setting from the sweep runs found in dirs: the
// lowest novel FLD on the validation split, averaged over the sweep sizes,
// among settings with enough novel samples at every size (the lowest FLD
// when no setting has). It returns ErrNeedSweep, naming the missing runs,
// when the sweep is not complete.
func (c Config) choose(dirs []string) (*Choice, error) {
	if !c.swept() {
		return &Choice{Setting: Setting{c.Alphas[0], c.Perplexities[0], c.Temperatures[0]}}, nil
	}
	runs, _, err := readRuns(dirs)
	if err != nil {
		return nil, err
	}
	return c.chooseFrom(runs)
}

func (c Config) chooseFrom(runs []Result) (*Choice, error) {
	if !c.swept() {
		return &Choice{Setting: Setting{c.Alphas[0], c.Perplexities[0], c.Temperatures[0]}}, nil
	}
	have := map[string]bool{}
	for _, r := range runs {
		have[r.Name] = true
	}
	var missing []string
	for _, r := range c.Plan() {
		if r.Sweep && !have[r.Name] {
			missing = append(missing, r.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %d sweep runs are not done (%s)", ErrNeedSweep, len(missing), strings.Join(missing, ", "))
	}
	type acc struct {
		novel, fld float64
		n, full    int
	}
	sums := map[Setting]*acc{}
	var order []Setting
	for _, row := range sweepRows(runs) {
		a := sums[row.Setting]
		if a == nil {
			a = &acc{}
			sums[row.Setting] = a
			order = append(order, row.Setting)
		}
		a.n++
		a.fld += row.FLD
		if row.FLDNovel != nil {
			a.full++
			a.novel += *row.FLDNovel
		}
	}
	best, bestFLD := (*Choice)(nil), (*Choice)(nil)
	for _, s := range order {
		a := sums[s]
		if a.full == a.n && (best == nil || a.novel/float64(a.n) < best.Score) {
			best = &Choice{Setting: s, Swept: true, By: "novel FLD on the validation split", Score: a.novel / float64(a.n)}
		}
		if bestFLD == nil || a.fld/float64(a.n) < bestFLD.Score {
			bestFLD = &Choice{Setting: s, Swept: true, By: "FLD on the validation split (no setting had enough novel samples)", Score: a.fld / float64(a.n)}
		}
	}
	if best == nil {
		best = bestFLD
	}
	if best == nil || math.IsNaN(best.Score) {
		return nil, fmt.Errorf("study: the sweep scored no setting")
	}
	return best, nil
}
