package generator

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestClassRows(t *testing.T) {
	for _, tc := range []struct {
		classes, per int
		want         []int32
	}{
		{3, 2, []int32{0, 0, 1, 1, 2, 2}},
		{0, 2, []int32{-1, -1, -1, -1}},
	} {
		m := &Model{Config: Config{Classes: tc.classes}}
		if got := m.ClassRows(tc.per); !slices.Equal(got, tc.want) {
			t.Errorf("%d classes, %d a row: %v, want %v", tc.classes, tc.per, got, tc.want)
		}
	}
}

// keepTop keeps what sorting keeps: the k largest (ties to the lower token),
// everything else zeroed, so that what is left sums to theirs.
func TestKeepTopIsTheSortedTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, k := range []int{1, 3, 50, 599} {
		p := make([]float32, 600)
		for v := range p {
			p[v] = float32(r.IntN(40)) / 7 // many ties
		}
		order := make([]int, len(p))
		for v := range order {
			order[v] = v
		}
		sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		want := make([]float32, len(p))
		var wantSum float64
		for _, v := range order[:k] {
			want[v] = p[v]
			wantSum += float64(p[v])
		}
		got := slices.Clone(p)
		keepTop(got, make([]int, len(p)), k)
		var sum float64
		for _, v := range got {
			sum += float64(v)
		}
		if !slices.Equal(got, want) || math.Abs(sum-wantSum) > 1e-9 {
			t.Errorf("k %d: kept %v (sum %v), want %v (sum %v)", k, got, sum, want, wantSum)
		}
	}
}
