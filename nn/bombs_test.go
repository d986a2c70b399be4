package nn

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/memory"
)

// safetensorsBytes is a file of one header and data bytes.
func safetensorsBytes(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

// A checkpoint file is read only as far as the bytes it has: a file larger
// than its header says (a sparse file), a device, or a header that
// announces more than the file holds is refused before its tensors are
// allocated, with an error naming the file.
func TestCheckpointBombs(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.safetensors")
	c := NewCheckpoint()
	c.Put("w", []float32{1, 2, 3, 4}, 2, 2)
	if err := c.Save(small); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.safetensors")
	b, _ := os.ReadFile(small)
	os.WriteFile(sparse, b, 0o644)
	if err := os.Truncate(sparse, 10<<30); err != nil { // 10 GB that take no disk
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.safetensors")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	huge := write("huge.safetensors", safetensorsBytes(`{"w":{"dtype":"F32","shape":[1000000000,8],"data_offsets":[0,32000000000]}}`, 16))
	wide := write("wide.safetensors", safetensorsBytes(`{"w":{"dtype":"F32","shape":[1000000000,8],"data_offsets":[0,16]}}`, 16))
	long := write("long.safetensors", binary.LittleEndian.AppendUint64(nil, 1<<40))
	gap := write("gap.safetensors", safetensorsBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, 16))
	for _, tc := range []struct{ name, path, want string }{
		{"a sparse 10 GB file", sparse, "its header describes"},
		{"a link to /dev/zero", zero, "is a device (a link to /dev/zero): want a regular file"},
		{"32 GB of data in 16 bytes", huge, "want [begin, end] within the file"},
		{"a 32 GB tensor in 16 bytes", wide, "more values than a file of"},
		{"a header of 1 TB", long, "header of 1099511627776 bytes"},
		{"a gap before a tensor", gap, "tensors tile the data"},
	} {
		var err error
		n := memory.Allocated(func() { _, err = LoadCheckpoint(tc.path) })
		if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
		if n > memory.TestBound {
			t.Errorf("%s: %d bytes allocated before the error", tc.name, n)
		}
		if _, err := ReadShapes(tc.path); err == nil {
			t.Errorf("%s: ReadShapes gave no error", tc.name)
		}
	}
	shapes, err := ReadShapes(small)
	if err != nil || !slices.Equal(shapes["w"], []int{2, 2}) || len(shapes) != 1 {
		t.Errorf("ReadShapes: %v %v, want w [2 2]", shapes, err)
	}
}

// A Format with Shapes compares the header of model.safetensors with what
// config.json implies before it builds the model: a config that asks for a
// model far larger than the weights beside it costs nothing.
func TestFormatChecksShapesBeforeBuilding(t *testing.T) {
	built := 0
	f := toyFormat
	f.Shapes = func(i *toyInfo) map[string][]int { return map[string][]int{"w": {i.Width, 2}, "buf": {i.Width}} }
	New := f.New
	f.New = func(i *toyInfo) (*toyModel, error) { built++; return New(i) }
	dir := t.TempDir()
	m, info := newToy(t, 3, 1)
	if err := f.Save(dir, m, info); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Load(dir); err != nil || built != 1 {
		t.Fatalf("load: %v, %d models built", err, built)
	}
	info.Width = 1 << 30 // 8 GB of w
	if err := atomicfile.WriteJSON(filepath.Join(dir, ConfigFile), info); err != nil {
		t.Fatal(err)
	}
	var err error
	n := memory.Allocated(func() { _, _, err = f.Load(dir) })
	if err == nil || !strings.Contains(err.Error(), ModelFile+" does not match "+ConfigFile) ||
		!strings.Contains(err.Error(), `"buf" has shape [3]: want [1073741824]`) || built != 1 || n > memory.TestBound {
		t.Errorf("width 2^30 beside weights of width 3: error %v, %d models built, %d bytes allocated; want an error naming both files and the tensor, before building",
			err, built, n)
	}
	for _, tc := range []struct {
		have, want map[string][]int
		all        bool
		msg        string
	}{
		{map[string][]int{"a": {2}}, map[string][]int{"a": {2}, "b": {1}}, false, `no tensor "b" (of shape [1])`},
		{map[string][]int{"a": {2}, "x": {1}}, map[string][]int{"a": {2}}, true, `tensor "x" (of shape [1]) is not a weight of the model`},
		{map[string][]int{"a": {2}, "adam.m/a": {2}}, map[string][]int{"a": {2}}, false, ""},
	} {
		err := CheckShapes(tc.have, tc.want, tc.all)
		if (err == nil) != (tc.msg == "") || err != nil && err.Error() != tc.msg {
			t.Errorf("CheckShapes(%v, %v, %v) = %v, want %q", tc.have, tc.want, tc.all, err, tc.msg)
		}
	}
}

// ConvShapes and ConvTShapes say what NewConv and NewConvT make.
func TestConvShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	g := Geometry{K: 4, Stride: 2, Pad: 1}
	want := map[string][]int{}
	ConvShapes(want, "c", 3, 5, g)
	ConvTShapes(want, "t", 3, 5, g)
	got := map[string][]int{}
	for _, p := range append(NewConv("c", 3, 5, g, r).Params(), NewConvT("t", 3, 5, g, r).Params()...) {
		got[p.Name] = p.Value.Shape()
	}
	for name, s := range want {
		if !slices.Equal(got[name], s) {
			t.Errorf("%s: made %v, shapes say %v", name, got[name], s)
		}
	}
	if len(got) != len(want) {
		t.Errorf("made %v, shapes say %v", got, want)
	}
}
