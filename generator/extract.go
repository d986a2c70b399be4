package generator

import "fmt"

// Extraction is the share of data's grids that m completes to themselves
// (Complete) from their first given tokens and their label: grids whose
// drawn tokens, positions given to Len, agree with the original's in at
// least threshold of them (0.9 in Kowalczuk et al.'s extraction attack on
// image autoregressive models). Sampling at TopK 1 is the greedy attack.
func (m *Model) Extraction(data Tokens, given int, cfg SampleConfig, threshold float64) (float64, error) {
	c := m.Config
	switch {
	case data.N == 0 || data.Len != c.Len:
		return 0, fmt.Errorf("generator: %d grids of %d tokens: want grids of %d", data.N, data.Len, c.Len)
	case given < 0 || given >= c.Len:
		return 0, fmt.Errorf("generator: %d given tokens: want 0 to %d, leaving tokens to draw", given, c.Len-1)
	case !(threshold > 0 && threshold <= 1):
		return 0, fmt.Errorf("generator: agreement threshold %v: want a share in (0, 1]", threshold)
	}
	classes := make([]int32, data.N)
	for i := range classes {
		classes[i] = -1
		if data.Labels != nil {
			classes[i] = data.Labels[i]
		}
	}
	out, err := m.Complete(classes, data.Codes, given, cfg)
	if err != nil {
		return 0, err
	}
	extracted := 0
	for i := range data.N {
		same := 0
		for j := given; j < c.Len; j++ {
			if out[i*c.Len+j] == data.Codes[i*c.Len+j] {
				same++
			}
		}
		if float64(same) >= threshold*float64(c.Len-given) {
			extracted++
		}
	}
	return float64(extracted) / float64(data.N), nil
}
