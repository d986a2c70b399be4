package imageio

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/internal/memory"
)

// pngHeader is the start of a PNG file that declares w x h pixels of the
// color type (0 gray, 2 RGB) and holds none: what image.DecodeConfig reads.
func pngHeader(w, h uint32, colorType byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, colorType, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// wantRefused runs open and checks that it fails with an error saying
// each of parts, having allocated less than memory.TestBound.
func wantRefused(t *testing.T, what string, open func() error, parts ...string) {
	t.Helper()
	var err error
	n := memory.Allocated(func() { err = open() })
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not say %q", what, err, p)
		}
	}
	if n > memory.TestBound {
		t.Errorf("%s: %d bytes allocated before the error", what, n)
	}
}

// Data sets whose headers declare far more than their files hold are
// refused, or read only as far as --limit asks, before the declared sizes
// are allocated; every error names the file.
func TestDataBombs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// 2,000,000 images of 28 x 28 declared; 20 of them present.
	idx := idxBytes([]uint32{2_000_000, 28, 28}, bytes.Repeat([]byte{255}, 20*28*28))
	bomb := write("bomb.idx.gz", gzipped(idx))
	var d *Dataset
	n := memory.Allocated(func() {
		var err error
		if d, err = Open(bomb, Options{Limit: 10}); err != nil {
			t.Errorf("--limit 10 of a gzip declaring 2,000,000 images: %v", err)
		}
	})
	if d != nil && (d.N != 10 || len(d.Pix) != 10*28*28 || d.Pix[0] != 1) {
		t.Errorf("--limit 10: %d images in %d values", d.N, len(d.Pix))
	}
	if n > memory.TestBound {
		t.Errorf("--limit 10 of a gzip declaring 2,000,000 images: %d bytes allocated", n)
	}
	wantRefused(t, "all of a gzip declaring 2,000,000 images", func() error {
		_, err := Open(bomb, Options{})
		if !errors.Is(err, memory.ErrBudget) {
			t.Errorf("error %v, want memory.ErrBudget", err)
		}
		return err
	}, bomb, "2000000 images of 1x28x28: 5.8 GiB", "over the memory budget of 2 GiB")
	huge := write("huge.idx.gz", gzipped(idxBytes([]uint32{1, 40000, 40000}, make([]byte, 1000))))
	wantRefused(t, "a gzip declaring one 40000 x 40000 image", func() error { _, err := Open(huge, Options{}); return err },
		huge, "an image of 1x40000x40000: 6.0 GiB")
	raw := write("raw.idx", idxBytes([]uint32{2_000_000, 28, 28}, make([]byte, 100)))
	wantRefused(t, "a raw IDX declaring 2,000,000 images in 100 bytes", func() error { _, err := Open(raw, Options{Limit: 10}); return err },
		raw, "declare 1568000000 bytes of data: the file holds 100")

	// Eight PNG headers of 8000 x 8000 RGB pixels (no pixels): 6 GiB as
	// float32, refused before the first is decoded.
	pngs := filepath.Join(dir, "pngs")
	os.Mkdir(pngs, 0o755)
	for i := range 8 {
		os.WriteFile(filepath.Join(pngs, strconv.Itoa(i)+".png"), pngHeader(8000, 8000, 2), 0o644)
	}
	wantRefused(t, "a folder of eight 8000 x 8000 RGB images", func() error { _, err := Open(pngs, Options{Channels: 3}); return err },
		pngs, "8 images of 3x8000x8000: 5.7 GiB")
	absurd := write("absurd.png", pngHeader(100000, 100000, 0))
	wantRefused(t, "a PNG declaring 100000 x 100000", func() error { _, err := Open(absurd, Options{Size: 28}); return err },
		absurd, "image of 100000x100000 pixels: want 1 to 64 megapixels")
}

// Token files whose headers declare more than they hold, labels that name
// a million classes, and a LlamaGen folder of one real grid and many empty
// files are refused with an error naming the file, having allocated next
// to nothing.
func TestTokenBombs(t *testing.T) {
	dir := t.TempDir()
	declared, err := npyHeaderBytes("<i8", []int{1000000, 32, 32})
	if err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.npy")
	os.WriteFile(short, declared, 0o644)
	wantRefused(t, "a token file declaring 10^6 grids of 32 x 32 in its header alone", func() error { _, err := LoadTokens(short); return err },
		short, "declares 8192000000 bytes of data: the file holds 0")
	if _, _, _, err := LoadMatrix(short); err == nil || !strings.Contains(err.Error(), "declares 8192000000 bytes") {
		t.Errorf("LoadMatrix of the same file: %v", err)
	}

	tokens := filepath.Join(dir, "t.npy")
	if err := SaveTokens(tokens, &Tokens{Codes: make([]int32, 8), N: 2, H: 2, W: 2, Labels: []int32{3, 1048575}}); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "a label of 1048575", func() error { _, err := LoadTokens(tokens); return err },
		LabelsPath(tokens), "label 1048575 of grid 1: want a class in [0, 65536)")
	tk := &Tokens{Labels: []int32{0, 9, 10}}
	if err := tk.CheckLabels(FashionMNISTClasses, "l.npy"); err == nil || !strings.Contains(err.Error(), "l.npy: label 10 of grid 2: the tokenizer names 10 classes, 0 to 9") {
		t.Errorf("label 10 of 10 class names: %v", err)
	}
	if err := tk.CheckLabels(nil, "l.npy"); err != nil {
		t.Errorf("labels up to 10 without names: %v", err)
	}

	// One real grid of 512 x 512 int8 tokens (256 KB), then 499 empty
	// files: 512 MB of grids declared by the count of names.
	codes, _ := LlamaGenDirs(filepath.Join(dir, "llamagen"), "x", 8)
	os.MkdirAll(codes, 0o755)
	var g bytes.Buffer
	writeNPY(&g, "|i1", 1<<18, []int{1, 1, 1 << 18}, func(buf []byte, i int) { buf[0] = 1 })
	os.WriteFile(filepath.Join(codes, "0.npy"), g.Bytes(), 0o644)
	for i := 1; i < 500; i++ {
		os.WriteFile(filepath.Join(codes, strconv.Itoa(i)+".npy"), nil, 0o644)
	}
	wantRefused(t, "a LlamaGen folder of one grid and 499 empty files", func() error {
		_, err := LoadTokens(filepath.Dir(codes))
		return err
	}, filepath.Join(codes, "1.npy"), "npy magic")
}

// GridSize is the size of the sheet Grid draws.
func TestGridSize(t *testing.T) {
	cells := ToImages(make([]float32, 7*3*5*4), 7, 3, 5, 4)
	for _, opt := range []GridOptions{
		{Cols: 3, Scale: 2, Pad: 2},
		{Cols: 0, Scale: 1},
		{Cols: 4, Scale: 3, Pad: 1, RowCaptions: []string{"a", "bbbb"}, ColCaptions: []string{"a long caption"}},
	} {
		b := Grid(cells, opt).Bounds()
		if w, h := GridSize(7, 4, 5, opt); w != b.Dx() || h != b.Dy() {
			t.Errorf("%+v: GridSize %dx%d, Grid %dx%d", opt, w, h, b.Dx(), b.Dy())
		}
	}
}
