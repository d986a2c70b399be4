package nn

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/regfile"
)

// Tensor is a named array in a checkpoint.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Checkpoint is what a safetensors file holds: float32 tensors and string
// metadata.
type Checkpoint struct {
	Tensors map[string]Tensor
	Meta    map[string]string
}

// NewCheckpoint returns an empty checkpoint.
func NewCheckpoint() *Checkpoint {
	return &Checkpoint{Tensors: map[string]Tensor{}, Meta: map[string]string{}}
}

// Put stores a copy of data under name.
func (c *Checkpoint) Put(name string, data []float32, shape ...int) {
	c.Tensors[name] = Tensor{Shape: shape, Data: slices.Clone(data)}
}

// PutParams stores the parameters' values under their names.
func (c *Checkpoint) PutParams(params []*Param) {
	for _, p := range params {
		c.Put(p.Name, p.Data(), p.Value.Shape()...)
	}
}

// Get returns the tensor name, checking that it has the wanted shape and
// only finite values.
func (c *Checkpoint) Get(name string, shape ...int) ([]float32, error) {
	t, ok := c.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("nn: no tensor %q", name)
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("nn: tensor %q has shape %v: want %v", name, t.Shape, shape)
	}
	for i, v := range t.Data {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("nn: tensor %q holds %v at element %d: want finite weights", name, v, i)
		}
	}
	return t.Data, nil
}

// RestoreParams copies tensors into the parameters, by name, checking shapes.
func (c *Checkpoint) RestoreParams(params []*Param) error {
	for _, p := range params {
		d, err := c.Get(p.Name, p.Value.Shape()...)
		if err != nil {
			return err
		}
		copy(p.Data(), d)
	}
	return nil
}

// PutAdam stores the optimiser's moments and step.
func (c *Checkpoint) PutAdam(a *Adam, params []*Param) {
	c.Meta["adam.step"] = strconv.Itoa(a.Step)
	for _, p := range params {
		if m, ok := a.M[p.Name]; ok {
			c.Put("adam.m/"+p.Name, m, len(m))
			c.Put("adam.v/"+p.Name, a.V[p.Name], len(m))
		}
	}
}

// RestoreAdam reads what PutAdam stored.
func (c *Checkpoint) RestoreAdam(a *Adam, params []*Param) error {
	step, err := strconv.Atoi(c.Meta["adam.step"])
	if err != nil {
		return fmt.Errorf("nn: adam.step %q: want an integer", c.Meta["adam.step"])
	}
	a.Step = step
	for _, p := range params {
		n := len(p.Data())
		if _, ok := c.Tensors["adam.m/"+p.Name]; !ok && step == 0 {
			continue
		}
		m, err := c.Get("adam.m/"+p.Name, n)
		if err != nil {
			return err
		}
		v, err := c.Get("adam.v/"+p.Name, n)
		if err != nil {
			return err
		}
		a.M[p.Name], a.V[p.Name] = slices.Clone(m), slices.Clone(v)
	}
	return nil
}

// Save writes the checkpoint to path as safetensors, atomically.
func (c *Checkpoint) Save(path string) error {
	views := make(map[string]safetensors.TensorView, len(c.Tensors))
	for name, t := range c.Tensors {
		shape := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = uint64(d)
		}
		data := make([]byte, 4*len(t.Data))
		for i, v := range t.Data {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
		view, err := safetensors.NewTensorView(safetensors.F32, shape, data)
		if err != nil {
			return fmt.Errorf("nn: tensor %q: %w", name, err)
		}
		views[name] = view
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		return safetensors.SerializeToWriter(views, c.Meta, w)
	})
	if err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// LoadCheckpoint reads a safetensors file of float32 tensors. The file must
// be a regular file whose size is what its header describes, so that
// memory follows the bytes that exist: a sparse file, a device or a header
// that announces more than the file holds is an error before any tensor is
// allocated.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := decode(f, size)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", path, err)
	}
	return c, nil
}

// ReadShapes reads the header of the safetensors file path, checked as
// LoadCheckpoint checks it, and returns the shape of every tensor by name,
// without reading the tensors.
func ReadShapes(path string) (map[string][]int, error) {
	h, err := headerOf(path)
	if err != nil {
		return nil, err
	}
	shapes := make(map[string][]int, len(h.tensors))
	for _, t := range h.tensors {
		shapes[t.name] = t.shape
	}
	return shapes, nil
}

// ReadMeta reads the metadata in the header of the safetensors file path,
// checked as LoadCheckpoint checks it, without reading the tensors.
func ReadMeta(path string) (map[string]string, error) {
	h, err := headerOf(path)
	return h.meta, err
}

// headerOf reads and checks the header of the safetensors file path.
func headerOf(path string) (header, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return header{}, err
	}
	defer f.Close()
	h, err := readHeader(bufio.NewReader(f), size)
	if err != nil {
		return header{}, fmt.Errorf("nn: %s: %w", path, err)
	}
	return h, nil
}

// openRegular opens path, which must be a regular file (see regfile.Open),
// and returns its size.
func openRegular(path string) (*os.File, int64, error) {
	f, size, err := regfile.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("nn: %w", err)
	}
	return f, size, nil
}

// errParserPanic marks a panic while parsing turned into an error: the
// fuzz target fails on it, so that such panics are seen and fixed.
var errParserPanic = errors.New("the safetensors parser panicked")

// DecodeCheckpoint parses safetensors bytes.
func DecodeCheckpoint(buf []byte) (*Checkpoint, error) {
	return decode(bytes.NewReader(buf), int64(len(buf)))
}

// maxHeaderBytes bounds the JSON header of a safetensors file, as the
// format's reference implementation does.
const maxHeaderBytes = 100 << 20

// tensorEntry is what a safetensors header says of one tensor.
type tensorEntry struct {
	name       string
	shape      []int
	begin, end int64 // byte offsets in the data that follows the header
}

// header is a parsed safetensors header: the tensors in the order of
// their data, which they tile from offset 0 to dataBytes.
type header struct {
	meta      map[string]string
	tensors   []tensorEntry
	dataBytes int64
}

// readHeader reads and checks a safetensors header: an 8-byte little-endian
// length, then that many bytes of JSON. size is the whole file's length:
// the header and its tensors must account for every byte of it.
func readHeader(r io.Reader, size int64) (h header, err error) {
	defer func() {
		if p := recover(); p != nil { // never let a file take the process down
			err = fmt.Errorf("not a safetensors file: %w: %v", errParserPanic, p)
		}
	}()
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, fmt.Errorf("not a safetensors file: want an 8-byte header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n < 2 || n > maxHeaderBytes || int64(n) > size-8 {
		return h, fmt.Errorf("not a safetensors file: header of %d bytes: want 2 to %d, in a file of %d bytes", n, min(maxHeaderBytes, max(size-8, 0)), size)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return h, fmt.Errorf("not a safetensors file: header of %d bytes: %v", n, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf, &raw); err != nil {
		return h, fmt.Errorf("not a safetensors file: header: %v", err)
	}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &h.meta); err != nil {
				return h, fmt.Errorf("not a safetensors file: metadata: want string values: %v", err)
			}
			continue
		}
		var e struct {
			DType   string   `json:"dtype"`
			Shape   []uint64 `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return h, fmt.Errorf("not a safetensors file: tensor %q: %v", name, err)
		}
		if e.DType != "F32" {
			return h, fmt.Errorf("tensor %q is %s: want F32", name, e.DType)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] > e.Offsets[1] || e.Offsets[1] > uint64(size) {
			return h, fmt.Errorf("not a safetensors file: tensor %q: data offsets %v: want [begin, end] within the file", name, e.Offsets)
		}
		t := tensorEntry{name: name, shape: make([]int, len(e.Shape)), begin: int64(e.Offsets[0]), end: int64(e.Offsets[1])}
		elems := uint64(1)
		for i, d := range e.Shape {
			if d > 0 && elems > uint64(size)/d {
				return h, fmt.Errorf("tensor %q of shape %v: more values than a file of %d bytes holds", name, e.Shape, size)
			}
			elems *= d
			t.shape[i] = int(d)
		}
		if 4*elems != e.Offsets[1]-e.Offsets[0] {
			return h, fmt.Errorf("tensor %q of shape %v: %d bytes of data: want %d", name, e.Shape, e.Offsets[1]-e.Offsets[0], 4*elems)
		}
		h.tensors = append(h.tensors, t)
	}
	slices.SortFunc(h.tensors, func(a, b tensorEntry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	for _, t := range h.tensors {
		if t.begin != h.dataBytes {
			return h, fmt.Errorf("not a safetensors file: tensor %q starts at byte %d of the data: want %d (tensors tile the data)", t.name, t.begin, h.dataBytes)
		}
		h.dataBytes = t.end
	}
	if want := 8 + int64(n) + h.dataBytes; want != size {
		return h, fmt.Errorf("file of %d bytes: its header describes %d (8 + a header of %d + %d of tensors)", size, want, n, h.dataBytes)
	}
	return h, nil
}

// decode reads a safetensors stream of size bytes: the header, checked by
// readHeader before anything else is allocated, then each tensor.
func decode(r io.Reader, size int64) (*Checkpoint, error) {
	br := bufio.NewReader(r)
	h, err := readHeader(br, size)
	if err != nil {
		return nil, err
	}
	c := NewCheckpoint()
	maps.Copy(c.Meta, h.meta)
	var buf [4 << 10]byte
	for _, t := range h.tensors {
		data := make([]float32, (t.end-t.begin)/4)
		for lo := 0; lo < len(data); {
			k := min(len(data)-lo, len(buf)/4)
			if _, err := io.ReadFull(br, buf[:4*k]); err != nil {
				return nil, fmt.Errorf("tensor %q: data truncated: %v", t.name, err)
			}
			for i := range k {
				data[lo+i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			}
			lo += k
		}
		c.Tensors[t.name] = Tensor{Shape: t.shape, Data: data}
	}
	return c, nil
}

// CheckShapes compares the tensors of a checkpoint file (from ReadShapes)
// with those a model's config implies: a tensor the config implies must be
// there with its shape, and, when all is set, the file may hold no others.
func CheckShapes(have, want map[string][]int, all bool) error {
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, ok := have[name]
		if !ok {
			return fmt.Errorf("no tensor %q (of shape %v)", name, want[name])
		}
		if !slices.Equal(got, want[name]) {
			return fmt.Errorf("tensor %q has shape %v: want %v", name, got, want[name])
		}
	}
	if all {
		for _, name := range slices.Sorted(maps.Keys(have)) {
			if _, ok := want[name]; !ok {
				return fmt.Errorf("tensor %q (of shape %v) is not a weight of the model", name, have[name])
			}
		}
	}
	return nil
}
