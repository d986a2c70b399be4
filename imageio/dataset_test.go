package imageio

import (
	"slices"
	"strings"
	"testing"
)

func TestClassNumbers(t *testing.T) {
	d := &Dataset{Name: "d", N: 3, Labels: []int32{1, 0, 1}, Classes: []string{"7", "3"}}
	if got, err := d.ClassNumbers(); err != nil || !slices.Equal(got, []int32{3, 7, 3}) {
		t.Errorf("%v, %v; want [3 7 3]", got, err)
	}
	d.Classes[0] = "dog"
	if _, err := d.ClassNumbers(); err == nil || !strings.Contains(err.Error(), `"dog"`) {
		t.Errorf("a class named dog: %v", err)
	}
	if got, err := (&Dataset{N: 2}).ClassNumbers(); got != nil || err != nil {
		t.Errorf("no labels: %v, %v", got, err)
	}
}
