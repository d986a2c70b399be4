package imageio

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func idxBytes(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func TestReadIDX(t *testing.T) {
	raw := idxBytes([]uint32{2, 2, 3}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	for name, in := range map[string][]byte{"raw": raw, "gzip": gz.Bytes()} {
		a, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(a.Dims, []int{2, 2, 3}) || a.Data[11] != 12 {
			t.Errorf("%s: dims %v data %v", name, a.Dims, a.Data)
		}
	}
	bad := map[string]struct {
		in   []byte
		want string
	}{
		"truncated": {raw[:len(raw)-3], "want 12 bytes of data, found 9"},
		"magic":     {[]byte{1, 0, 8, 1, 0, 0, 0, 1, 0}, "IDX magic"},
		"type":      {[]byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0}, "type code 0x0d"},
		"dims":      {[]byte{0, 0, 8, 9}, "9 dimensions"},
		"header":    {[]byte{0, 0, 8, 3, 0, 0}, "want 3 dimensions"},
		"empty":     {nil, "IDX magic"},
		"huge":      {idxBytes([]uint32{1 << 20, 1 << 20}, nil), "more than"},
		"bad gzip":  {[]byte{0x1f, 0x8b, 0, 0}, "gzip"},
	}
	for name, tc := range bad {
		_, err := ReadIDX(bytes.NewReader(tc.in))
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrFormat mentioning %q", name, err, tc.want)
		}
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(idxBytes([]uint32{1, 1, 1}, []byte{0}))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Dims {
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("dims %v but %d bytes", a.Dims, len(a.Data))
		}
		dims := make([]uint32, len(a.Dims))
		for i, d := range a.Dims {
			dims[i] = uint32(d)
		}
		b, err := ReadIDX(bytes.NewReader(idxBytes(dims, a.Data)))
		if err != nil || !bytes.Equal(a.Data, b.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestNPYRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{5}, {2, 3, 4}, {0, 7, 7}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]int32, n)
		for i := range data {
			data[i] = int32(i*7919 - 1000)
		}
		var b bytes.Buffer
		if err := WriteNPY(&b, data, shape); err != nil {
			t.Fatal(err)
		}
		if (b.Len()-4*n)%64 != 0 {
			t.Errorf("shape %v: header of %d bytes: want a multiple of 64", shape, b.Len()-4*n)
		}
		got, gotShape, err := ReadNPY(&b)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, data) || !slices.Equal(gotShape, shape) {
			t.Errorf("shape %v: got %v %v", shape, gotShape, got)
		}
	}
}

// The files in testdata were written by numpy.save.
func TestReadNumpyFiles(t *testing.T) {
	got, shape, err := readNPYFile("testdata/numpy_int64.npy")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{2, 3, 4}) || got[0] != -5 || got[23] != 18 {
		t.Errorf("int64: shape %v data %v", shape, got)
	}
	got, shape, err = readNPYFile("testdata/numpy_uint16_be.npy")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{6}) || !slices.Equal(got, []int32{0, 1, 2, 3, 4, 5}) {
		t.Errorf("uint16 big-endian: shape %v data %v", shape, got)
	}
}

func TestReadNPYErrors(t *testing.T) {
	var good bytes.Buffer
	WriteNPY(&good, []int32{1, 2, 3, 4}, []int{4})
	float := strings.Replace(good.String(), "<i4", "<f4", 1)
	bad := map[string]struct {
		in   string
		want string
	}{
		"truncated": {good.String()[:good.Len()-2], "wants 4 values of 4 bytes, found 3"},
		"magic":     {"NUMPY\x01\x00", "npy magic"},
		"float":     {float, "want an integer type"},
		"version":   {"\x93NUMPY\x09\x00", "version 9.0"},
	}
	for name, tc := range bad {
		_, _, err := ReadNPY(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want mention of %q", name, err, tc.want)
		}
	}
}

func FuzzReadNPY(f *testing.F) {
	var b bytes.Buffer
	WriteNPY(&b, []int32{1, -2, 3, 4, 5, 6}, []int{2, 3})
	f.Add(b.Bytes())
	seed, _ := os.ReadFile("testdata/numpy_int64.npy")
	f.Add(seed)
	f.Fuzz(func(t *testing.T, in []byte) {
		data, shape, err := ReadNPY(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteNPY(&out, data, shape); err != nil {
			t.Fatal(err)
		}
		again, shape2, err := ReadNPY(&out)
		if err != nil || !slices.Equal(again, data) || !slices.Equal(shape, shape2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestTokensFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.npy")
	tok := &Tokens{Codes: []int32{1, 2, 3, 4, 5, 6, 7, 8}, N: 2, H: 2, W: 2, Labels: []int32{3, 9}}
	if err := SaveTokens(path, tok); err != nil {
		t.Fatal(err)
	}
	got, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Codes, tok.Codes) || !slices.Equal(got.Labels, tok.Labels) || got.H != 2 || got.N != 2 {
		t.Errorf("got %+v, want %+v", got, tok)
	}
	if !slices.Equal(got.Grid(1), []int32{5, 6, 7, 8}) {
		t.Errorf("Grid(1) = %v", got.Grid(1))
	}
	os.WriteFile(LabelsPath(path), []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<i4'"), 0o644)
	if _, err := LoadTokens(path); err == nil || !strings.Contains(err.Error(), "tokens.labels.npy") {
		t.Errorf("corrupt labels: error %v, want one naming the labels file", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestOpenEmbedded(t *testing.T) {
	for split, want := range map[string]int{"train": 2000, "test": 1000} {
		d, err := Open("embedded", Options{Split: split})
		if err != nil {
			t.Fatal(err)
		}
		if d.N != want || d.C != 1 || d.H != 28 || d.W != 28 || len(d.Labels) != want || len(d.Classes) != 10 {
			t.Errorf("%s: N %d C %d H %d W %d labels %d classes %d", split, d.N, d.C, d.H, d.W, len(d.Labels), len(d.Classes))
		}
		info := d.Describe()
		for c, n := range info.PerClass {
			if n < want/20 {
				t.Errorf("%s: class %d has %d images", split, c, n)
			}
		}
		if info.Mean < -1 || info.Mean > 0 || info.Std <= 0.3 {
			t.Errorf("%s: pixel mean %v std %v: not Fashion-MNIST-like", split, info.Mean, info.Std)
		}
	}
	d, err := Open("embedded", Options{Limit: 10, Size: 32, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 10 || d.C != 3 || d.H != 32 || len(d.Pix) != 10*3*32*32 {
		t.Errorf("limit/size/channels: N %d C %d H %d", d.N, d.C, d.H)
	}
	for _, opt := range []Options{{Split: "val"}, {Limit: -1}, {Channels: 2}, {Size: -3}} {
		if _, err := Open("embedded", opt); err == nil {
			t.Errorf("options %+v: no error", opt)
		}
	}
	if _, err := Open("no-such-set", Options{}); err == nil || !strings.Contains(err.Error(), "no-such-set") {
		t.Errorf("unknown set: %v", err)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	var b bytes.Buffer
	png.Encode(&b, img)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFolder(t *testing.T) {
	dir := t.TempDir()
	for i, class := range []string{"cat", "dog", "cat"} {
		img := image.NewNRGBA(image.Rect(0, 0, 20, 10))
		for p := range img.Pix {
			img.Pix[p] = uint8(40 * i)
		}
		img.Pix[3] = 255
		writePNG(t, filepath.Join(dir, class, string(rune('a'+i))+".png"), img)
	}
	d, err := Open(dir, Options{Size: 8, Fit: FitPad})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted: cat/a, cat/c, dog/b.
	if d.N != 3 || d.H != 8 || !slices.Equal(d.Labels, []int32{0, 0, 1}) || !slices.Equal(d.Classes, []string{"cat", "dog"}) {
		t.Errorf("N %d H %d labels %v classes %v", d.N, d.H, d.Labels, d.Classes)
	}
	// Pad fills with white: the top row of a 20x10 image fitted to 8x8 is padding.
	if d.Pix[0] != 1 {
		t.Errorf("pad: top-left pixel %v, want white (1)", d.Pix[0])
	}
	os.WriteFile(filepath.Join(dir, "cat", "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	if _, err := Open(dir, Options{Size: 8}); err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("corrupt image: error %v, want one naming broken.png", err)
	}
	goPNG := filepath.Join(runtime.GOROOT(), "src", "image", "testdata", "video-001.png")
	if _, err := os.Stat(goPNG); err == nil {
		d, err := Open(goPNG, Options{Size: 32})
		if err != nil {
			t.Fatal(err)
		}
		if d.C != 3 || d.H != 32 {
			t.Errorf("video-001.png: C %d H %d, want 3 x 32", d.C, d.H)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 3, 2))
	img.Pix[2] = 200
	png.Encode(&b, img)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		img, err := Decode(bytes.NewReader(in))
		if err != nil {
			return
		}
		bd := img.Bounds()
		pix := make([]float32, bd.Dx()*bd.Dy())
		PixelsTo(pix, img, 1)
		for _, v := range pix {
			if v < -1 || v > 1 {
				t.Fatalf("pixel %v outside [-1, 1]", v)
			}
		}
	})
}

func TestPixelRoundTrip(t *testing.T) {
	pix := []float32{-1, -0.5, 0, 0.5, 1, 1, -1, 0.2, 0.4, 0.6, 0.8, -0.8}
	img := ToImage(pix, 3, 2, 2)
	back := make([]float32, len(pix))
	PixelsTo(back, img, 3)
	for i := range pix {
		if d := back[i] - pix[i]; d > 1.0/127 || d < -1.0/127 {
			t.Errorf("pixel %d: %v -> %v", i, pix[i], back[i])
		}
	}
}

func TestGrid(t *testing.T) {
	cells := make([]image.Image, 6)
	for i := range cells {
		g := image.NewGray(image.Rect(0, 0, 4, 4))
		for p := range g.Pix {
			g.Pix[p] = uint8(i * 40)
		}
		cells[i] = g
	}
	sheet := Grid(cells, GridOptions{Cols: 3, Scale: 2, Pad: 1})
	if b := sheet.Bounds(); b.Dx() != 1+3*(8+1) || b.Dy() != 1+2*(8+1) {
		t.Errorf("sheet %v, want 28x19", b)
	}
	// Cell 4 (row 1, col 1) starts at (1+9, 1+9).
	if c := color.GrayModel.Convert(sheet.At(11, 11)).(color.Gray); c.Y != 160 {
		t.Errorf("cell 4 pixel %v, want 160", c.Y)
	}
	captioned := Grid(cells, GridOptions{Cols: 3, Pad: 1, RowCaptions: []string{"a", "b"}, ColCaptions: []string{"x", "y", "z"}})
	if captioned.Bounds().Dx() <= 1+3*5 || captioned.Bounds().Dy() <= 1+2*5 {
		t.Errorf("captions took no room: %v", captioned.Bounds())
	}
	path := filepath.Join(t.TempDir(), "g.png")
	if err := WritePNG(path, sheet); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestShardHeadCheckCodes(t *testing.T) {
	d := &Dataset{Pix: []float32{0, 1, 2, 3, 4}, Labels: []int32{10, 11, 12, 13, 14}, N: 5, C: 1, H: 1, W: 1}
	s := d.Shard(1, 2)
	if s.N != 2 || !slices.Equal(s.Pix, []float32{1, 3}) || !slices.Equal(s.Labels, []int32{11, 13}) {
		t.Errorf("shard 1 of 2: %+v", s)
	}
	tk := &Tokens{Codes: []int32{0, 1, 2, 3, 4, 5}, N: 3, H: 1, W: 2, Labels: []int32{7, 8, 9}}
	h := tk.Head(2)
	if h.N != 2 || !slices.Equal(h.Codes, []int32{0, 1, 2, 3}) || !slices.Equal(h.Labels, []int32{7, 8}) {
		t.Errorf("head 2: %+v", h)
	}
	if tk.Head(0) != tk || tk.Head(5) != tk {
		t.Error("head 0 or past the end is not the whole set")
	}
	if err := tk.CheckCodes(6, "t.npy"); err != nil {
		t.Errorf("codes 0 to 5 of 6: %v", err)
	}
	err := tk.CheckCodes(5, "t.npy")
	if err == nil || !strings.Contains(err.Error(), "t.npy: token 1 of grid 2 is 5") {
		t.Errorf("code 5 of 5: %v", err)
	}
}

// Every written image has its grid and, flipped, the grid of its mirror.
func TestLlamaGenWriter(t *testing.T) {
	d := &Dataset{Pix: []float32{1, 2, 3, 4, 5, 6}, Labels: []int32{0, 1, 2}, N: 3, C: 1, H: 1, W: 2}
	// A stand-in encoder: token j of a grid is 10 * pixel j.
	enc := func(dst []int32, img []float32, n int) error {
		for i, v := range img[:2*n] {
			dst[i] = int32(10 * v)
		}
		return nil
	}
	dir := t.TempDir()
	lw := LlamaGenWriter{Root: dir, Dataset: "toy", Size: 2, Flip: true, Grid: 2, Encode: enc}
	var seen []int
	if err := lw.Write(d, 0, 2, func(n int) error { seen = append(seen, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{1, 2}) {
		t.Errorf("progress %v, want [1 2]", seen)
	}
	codes, shape, err := readNPYFile(filepath.Join(dir, "toy2_codes", "2.npy"))
	if err != nil || !slices.Equal(shape, []int{1, 2, 2}) || !slices.Equal(codes, []int32{50, 60, 60, 50}) {
		t.Errorf("2.npy: %v %v %v, want [1 2 2] [50 60 60 50]", codes, shape, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "toy2_codes", "1.npy")); err == nil {
		t.Error("image 1 is not in the shard but was written")
	}
}

func TestClassName(t *testing.T) {
	names := []string{"T-shirt", "Trouser"}
	for c, want := range map[int]string{0: "T-shirt", 1: "Trouser", 2: "2", -1: "-1"} {
		if got := ClassName(names, c); got != want {
			t.Errorf("class %d: %q, want %q", c, got, want)
		}
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 3 {
		img := image.NewGray(image.Rect(0, 0, 6, 6))
		for p := range img.Pix {
			img.Pix[p] = uint8(100 * i)
		}
		f := filepath.Join(dir, string(rune('a'+i))+".png")
		writePNG(t, f, img)
		files = append(files, f)
	}
	d, err := OpenFiles(files, Options{Size: 4, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.H != 4 || d.Name != files[0] || d.Labels != nil || len(d.Pix) != 3*16 {
		t.Fatalf("N %d H %d name %q labels %v pixels %d", d.N, d.H, d.Name, d.Labels, len(d.Pix))
	}
	if d.Pix[0] >= d.Pix[16] || d.Pix[16] >= d.Pix[32] { // the files in order: darker first
		t.Errorf("first pixels %v %v %v: want the files in order", d.Pix[0], d.Pix[16], d.Pix[32])
	}
	if _, err := OpenFiles(nil, Options{}); err == nil {
		t.Error("no files: no error")
	}
	if _, err := OpenFiles([]string{files[0], filepath.Join(dir, "missing.png")}, Options{Size: 4}); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("a missing file: %v", err)
	}
	if !IsSet("fashion-mnist") || IsSet(dir) {
		t.Error("IsSet")
	}
}

func TestTokensNumClasses(t *testing.T) {
	tk := &Tokens{Labels: []int32{0, 3, 1}}
	if n := tk.NumClasses(nil); n != 4 {
		t.Errorf("labels up to 3: %d classes, want 4", n)
	}
	if n := tk.NumClasses(make([]string, 10)); n != 10 {
		t.Errorf("ten names: %d classes, want 10", n)
	}
	if n := (&Tokens{}).NumClasses(make([]string, 10)); n != 0 {
		t.Errorf("no labels: %d classes, want 0", n)
	}
}

// SaveTokens writes int64 (PyTorch's index type) codes and labels, and
// LoadTokens reads those and int32 files alike.
func TestTokensInt64AndInt32(t *testing.T) {
	dir := t.TempDir()
	tok := &Tokens{Codes: []int32{1, 2, 3, 4, 5, 6, 7, 8}, N: 2, H: 2, W: 2, Labels: []int32{3, 9}}
	path := filepath.Join(dir, "new.npy")
	if err := SaveTokens(path, tok); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, LabelsPath(path)} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("'descr': '<i8'")) {
			t.Errorf("%s: header %q, want '<i8'", p, b[10:40])
		}
	}
	old := filepath.Join(dir, "old.npy")
	if err := WriteFile(old, func(w io.Writer) error { return WriteNPY(w, tok.Codes, []int{2, 2, 2}) }); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(LabelsPath(old), func(w io.Writer) error { return WriteNPY(w, tok.Labels, []int{2}) }); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, old} {
		got, err := LoadTokens(p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Codes, tok.Codes) || !slices.Equal(got.Labels, tok.Labels) {
			t.Errorf("%s: codes %v labels %v, want %v %v", p, got.Codes, got.Labels, tok.Codes, tok.Labels)
		}
	}
}
