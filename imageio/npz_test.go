package imageio

import (
	"archive/zip"
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// OpenNPZ reads back what WriteImages writes: grey images written as RGB
// come back grey (at Channels 0 or 1), the labels from arr_1, Limit the
// first ones.
func TestOpenNPZReadsWriteImages(t *testing.T) {
	dir := t.TempDir()
	const n, h, w = 5, 4, 3
	pix := make([]float32, n*h*w)
	for i := range pix {
		pix[i] = float32(i%256)/127.5 - 1 // exact bytes
	}
	labels := []int32{0, 3, 1, 3, 2}
	path := filepath.Join(dir, "s.npz")
	if err := WriteImages(path, pix, n, 1, h, w, labels); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opt  Options
		n, c int
	}{{Options{Channels: 1}, 5, 1}, {Options{}, 5, 1}, {Options{Channels: 3}, 5, 3}, {Options{Channels: 1, Limit: 2}, 2, 1}} {
		d, err := OpenNPZ(path, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != tc.n || d.C != tc.c || d.H != h || d.W != w {
			t.Fatalf("%+v: %d images of %dx%dx%d, want %d of %dx%dx%d", tc.opt, d.N, d.C, d.H, d.W, tc.n, tc.c, h, w)
		}
		if !slices.Equal(d.Labels, labels[:tc.n]) || len(d.Classes) != 4 {
			t.Errorf("%+v: labels %v classes %v, want %v and 4 classes", tc.opt, d.Labels, d.Classes, labels[:tc.n])
		}
		for i := range tc.n {
			for ch := range tc.c {
				got := d.Image(i)[ch*h*w : (ch+1)*h*w]
				if want := pix[i*h*w : (i+1)*h*w]; !slices.Equal(got, want) {
					t.Errorf("%+v: image %d channel %d = %v, want %v", tc.opt, i, ch, got, want)
				}
			}
		}
	}
	if d, err := OpenNPZ(path, Options{Channels: 1, Size: 8}); err != nil || d.H != 8 || d.W != 8 {
		t.Errorf("Size 8: %v", err)
	}
}

// Archives that are not images say what they hold and what was wanted.
func TestOpenNPZRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, arrays map[string]func(*bytes.Buffer)) string {
		var b bytes.Buffer
		z := zip.NewWriter(&b)
		for _, k := range slices.Sorted(maps.Keys(arrays)) {
			f, _ := z.Create(k)
			var a bytes.Buffer
			arrays[k](&a)
			f.Write(a.Bytes())
		}
		z.Close()
		p := filepath.Join(dir, name)
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	ints := func(shape ...int) func(*bytes.Buffer) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return func(b *bytes.Buffer) { WriteNPY(b, make([]int32, n), shape) }
	}
	bytesOf := func(shape ...int) func(*bytes.Buffer) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return func(b *bytes.Buffer) { writeNPY(b, "|u1", n, shape, func(buf []byte, i int) { buf[0] = 0 }) }
	}
	for _, tc := range []struct {
		path, want string
	}{
		{write("none.npz", map[string]func(*bytes.Buffer){"x.npy": bytesOf(2, 2, 2)}), "no arr_0.npy"},
		{write("int.npz", map[string]func(*bytes.Buffer){"arr_0.npy": ints(2, 2, 2, 3)}), "dtype i4: want uint8"},
		{write("shape.npz", map[string]func(*bytes.Buffer){"arr_0.npy": bytesOf(2, 2, 2, 4)}), "shape [2 2 2 4]"},
		{write("labels.npz", map[string]func(*bytes.Buffer){"arr_0.npy": bytesOf(2, 2, 2, 3), "arr_1.npy": ints(3)}), "want [2] labels"},
		{filepath.Join(dir, "missing.npz"), "want an .npz archive"},
	} {
		if _, err := OpenNPZ(tc.path, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}

func FuzzOpenNPZ(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.npz")
	if err := WriteImages(seed, make([]float32, 2*3*3), 2, 1, 3, 3, []int32{1, 0}); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(seed)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.npz")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := OpenNPZ(p, Options{MaxBytes: 1 << 20})
		if err == nil && len(d.Pix) != d.N*d.C*d.H*d.W {
			t.Errorf("%d values for %d images of %dx%dx%d", len(d.Pix), d.N, d.C, d.H, d.W)
		}
	})
}
