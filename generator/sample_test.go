package generator

import (
	"slices"
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
