package imageio

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Re-writing a token file without labels removes the labels of the grids it
// replaces, so that no reader pairs new grids with old labels.
func TestSaveTokensDropsStaleLabels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.npy")
	if err := SaveTokens(path, &Tokens{Codes: []int32{1, 2, 3, 4}, Labels: []int32{7}, N: 1, H: 2, W: 2}); err != nil {
		t.Fatal(err)
	}
	if err := SaveTokens(path, &Tokens{Codes: []int32{5, 6, 7, 8}, N: 1, H: 2, W: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadTokens(path)
	if err != nil || got.Labels != nil {
		t.Errorf("labels %v (%v): want none", got.Labels, err)
	}
}

// IDX pairs with a count mismatch and zero-size images are errors naming the
// file, not a panic or the first labels of a longer file.
func TestIDXShapes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	img := write("img", idxBytes([]uint32{2, 2, 2}, make([]byte, 8)))
	three := write("lab3", append(idxBytes([]uint32{3}, nil)[:8], 0, 1, 2)) // 3 labels for 2 images
	two := write("lab2", append(idxBytes([]uint32{2}, nil)[:8], 0, 1))
	if _, err := Open(img+","+three, Options{}); err == nil || !strings.Contains(err.Error(), "lab3") {
		t.Errorf("2 images with 3 labels: %v, want an error naming the labels file", err)
	}
	if d, err := Open(img+","+two, Options{}); err != nil || len(d.Labels) != 2 {
		t.Errorf("2 images with 2 labels: %v", err)
	}
	for _, dims := range [][]uint32{{5, 0, 0}, {5, 28, 0}, {0, 28, 28}} {
		p := write("zero", idxBytes(dims, nil))
		if _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "zero") {
			t.Errorf("IDX of %v: %v, want an error naming the file", dims, err)
		}
	}
}

// A token file and the labels file beside it, from outside: a pair that
// does not match is an error, never a panic or labels of other grids.
func FuzzLoadTokensWithLabels(f *testing.F) {
	var tok, lab bytes.Buffer
	WriteNPY(&tok, []int32{1, 2, 3, 4, 5, 6, 7, 8}, []int{2, 2, 2})
	WriteNPY(&lab, []int32{3, 4}, []int{2})
	f.Add(tok.Bytes(), lab.Bytes())
	f.Fuzz(func(t *testing.T, tokens, labels []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "t.npy")
		os.WriteFile(path, tokens, 0o644)
		os.WriteFile(LabelsPath(path), labels, 0o644)
		got, err := LoadTokens(path)
		if err != nil {
			return
		}
		if len(got.Codes) != got.N*got.H*got.W || (got.Labels != nil && len(got.Labels) != got.N) {
			t.Fatalf("%d codes and %d labels for %d grids of %dx%d", len(got.Codes), len(got.Labels), got.N, got.H, got.W)
		}
	})
}

// Image files from outside, at any size asked for and by every fit, give a
// data set of that size or an error naming the file, never a panic.
func FuzzOpenImageFile(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 5, 3)))
	f.Add(b.Bytes(), uint8(4), uint8(0))
	f.Add(b.Bytes(), uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, size, fit uint8) {
		path := filepath.Join(t.TempDir(), "x.png")
		os.WriteFile(path, data, 0o644)
		opt := Options{Size: int(size % 40), Fit: []Fit{FitCrop, FitPad, FitResize}[fit%3]}
		d, err := Open(path, opt)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if opt.Size > 0 && (d.W != opt.Size || d.H != opt.Size) || len(d.Pix) != d.N*d.C*d.H*d.W {
			t.Fatalf("asked for %d, got %d images of %dx%dx%d in %d values", opt.Size, d.N, d.C, d.H, d.W, len(d.Pix))
		}
	})
}
