package metrics

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// Train refuses a batch, a step count or labels it cannot use, with an
// error rather than a panic; a set smaller than a batch is a
// *FewImagesError that says what would do.
func TestTrainRefusesWhatItCannotUse(t *testing.T) {
	l, err := NewLeNet(1, 8, 2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	images := make([]float32, 4*64)
	labels := []int32{0, 1, 0, 1}
	for _, c := range []struct {
		name         string
		images       []float32
		labels       []int32
		steps, batch int
		want         string
	}{
		{"batch 0", images, labels, 1, 0, "batch 0: want at least 1"},
		{"batch -1", images, labels, 1, -1, "batch -1: want at least 1"},
		{"steps 0", images, labels, 0, 2, "0 steps: want at least 1"},
		{"short images", images[:64], labels, 1, 2, "64 floats for 4 labelled images"},
		{"label 2", images, []int32{0, 1, 2, 1}, 1, 2, "label 2 of image 2: want a class in [0, 2)"},
		{"label -1", images, []int32{0, -1, 0, 1}, 1, 2, "label -1 of image 1"},
		{"4 images, batch 64", images, labels, 1, 64, "4 labelled images for batches of 64: want at least 64 images, or batches of at most 4"},
	} {
		_, err := l.Train(c.images, c.labels, c.steps, c.batch, 1e-3, 1, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	_, err = l.Train(images, labels, 1, 64, 1e-3, 1, nil)
	var few *FewImagesError
	if !errors.As(err, &few) || few.Images != 4 || few.Batch != 64 {
		t.Errorf("4 images, batch 64: %#v, want a *FewImagesError{4, 64}", err)
	}
}
