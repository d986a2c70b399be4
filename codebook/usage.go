package codebook

import (
	"math"
	"sort"
)

// Usage counts how often each code is chosen over a whole data set: per
// batch figures depend on the batch size, these do not.
type Usage struct {
	Counts []int64
}

// NewUsage returns a counter for k codes.
func NewUsage(k int) *Usage { return &Usage{Counts: make([]int64, k)} }

// Add counts the codes in idx.
func (u *Usage) Add(idx []int32) {
	for _, j := range idx {
		u.Counts[j]++
	}
}

// Stats summarises a usage count.
type Stats struct {
	Used       int     `json:"used"`       // codes chosen at least once
	Fraction   float64 `json:"usage"`      // Used / K
	Perplexity float64 `json:"perplexity"` // exp(entropy of the code frequencies)
	Dead       int     `json:"dead_codes"` // codes never chosen
	Total      int64   `json:"tokens"`     // tokens counted
}

// Stats returns the usage, perplexity and dead-code count.
func (u *Usage) Stats() Stats {
	var s Stats
	for _, c := range u.Counts {
		s.Total += c
		if c > 0 {
			s.Used++
		}
	}
	s.Dead = len(u.Counts) - s.Used
	s.Fraction = float64(s.Used) / float64(len(u.Counts))
	if s.Total == 0 {
		return s
	}
	var h float64
	for _, c := range u.Counts {
		if c > 0 {
			p := float64(c) / float64(s.Total)
			h -= p * math.Log(p)
		}
	}
	s.Perplexity = math.Exp(h)
	return s
}

// Order returns the codes, most used first (ties by code).
func (u *Usage) Order() []int {
	order := make([]int, len(u.Counts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return u.Counts[order[a]] > u.Counts[order[b]] })
	return order
}
