package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/nlpodyssey/safetensors"

	"github.com/vqtool/vqtool/internal/atomicfile"
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
		return nil, fmt.Errorf("no tensor %q", name)
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("tensor %q has shape %v: want %v", name, t.Shape, shape)
	}
	for i, v := range t.Data {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("tensor %q holds %v at element %d: want finite weights", name, v, i)
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
		return fmt.Errorf("adam.step %q: want an integer", c.Meta["adam.step"])
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

// LoadCheckpoint reads a safetensors file of float32 tensors.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	c, err := DecodeCheckpoint(buf)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", path, err)
	}
	return c, nil
}

// errParserPanic marks a panic of the safetensors parser turned into an
// error: the fuzz target fails on it, so that such panics are seen and fixed.
var errParserPanic = errors.New("the safetensors parser panicked")

// DecodeCheckpoint parses safetensors bytes.
func DecodeCheckpoint(buf []byte) (c *Checkpoint, err error) {
	defer func() {
		if r := recover(); r != nil { // the parser is not ours: never let it take the process down
			c, err = nil, fmt.Errorf("not a safetensors file: %w: %v", errParserPanic, r)
		}
	}()
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return nil, fmt.Errorf("not a safetensors file: %w", err)
	}
	_, meta, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return nil, fmt.Errorf("not a safetensors file: %w", err)
	}
	c = NewCheckpoint()
	for k, v := range meta.Metadata() {
		c.Meta[k] = v
	}
	for _, nt := range st.Tensors() {
		v := nt.TensorView
		if v.DType() != safetensors.F32 {
			return nil, fmt.Errorf("tensor %q is %v: want F32", nt.Name, v.DType())
		}
		shape := make([]int, len(v.Shape()))
		for i, d := range v.Shape() {
			shape[i] = int(d)
		}
		raw := v.Data()
		data := make([]float32, len(raw)/4)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		c.Tensors[nt.Name] = Tensor{Shape: shape, Data: data}
	}
	return c, nil
}
