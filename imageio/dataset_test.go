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

func TestMadeBy(t *testing.T) {
	tok := &Tokens{Codes: []int32{1, 2, 3, 4}, Labels: []int32{1}, N: 1, H: 2, W: 2, Tokenizer: "sha256:aaaa"}
	m := Maker{CodebookSize: 8, Grid: 2, Weights: "sha256:aaaa", Classes: []string{"a", "b"}}
	if err := tok.MadeBy(m, "t.npy"); err != nil {
		t.Fatalf("tokens of the maker: %v", err)
	}
	for name, bad := range map[string]Maker{
		"t.npy":           {CodebookSize: 4, Grid: 2, Classes: m.Classes}, // code 4 of 4
		"2x2 grids":       {CodebookSize: 8, Grid: 3, Classes: m.Classes},
		"t.labels.npy":    {CodebookSize: 8, Grid: 2, Classes: []string{"a"}},
		"made by a token": {CodebookSize: 8, Grid: 2, Weights: "sha256:bbbb", Classes: m.Classes},
	} {
		if err := tok.MadeBy(bad, "t.npy"); err == nil || !strings.Contains(err.Error(), strings.Fields(name)[0]) {
			t.Errorf("%+v: %v, want an error saying %q", bad, err, name)
		}
	}
	old := *tok
	old.Tokenizer = ""
	if err := old.MadeBy(Maker{CodebookSize: 8, Grid: 2, Weights: "sha256:bbbb", Classes: m.Classes}, ""); err != nil {
		t.Errorf("tokens without a fingerprint: %v", err)
	}
}
