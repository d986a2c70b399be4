package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Kernel is a differentiable computation on float32 tensors. Apply wraps it
// as a gorgonia op whose gradient ops call Backward, so that a hot path is one
// hand-written loop or GEMM instead of a chain of generic ops.
//
// A kernel may keep what Forward computed (an im2col buffer, the chosen codes)
// for Backward: gorgonia runs a graph's forward ops before its gradient ops.
type Kernel interface {
	// Name names the kernel in graphs and errors.
	Name() string
	// OutShape returns the output shape for the input shapes, or an error
	// that names the package and the kernel and says what was expected
	// (shapeError's, in nn).
	OutShape(in []tensor.Shape) (tensor.Shape, error)
	// Forward writes the output, whose shape OutShape gave, into out.
	Forward(out []float32, in []*tensor.Dense)
	// Backward overwrites dst with dLoss/d in[i], given dOut = dLoss/d out.
	Backward(i int, dst []float32, in []*tensor.Dense, out, dOut []float32)
	// Differentiable reports, for n inputs, which ones get a gradient.
	Differentiable(n int) []bool
}

// A BackwardStarter is a kernel whose Backward calls share work (a gradient
// masked by a fused activation, gathered patches). nn calls StartBackward
// once per backward pass, after the pass's Forward and before its first
// Backward call, with the same inputs, output and output gradient; the
// Backward calls of that pass may then use what it computed. What Forward
// keeps for Backward lives in fields that say so and is valid until the
// next Forward.
type BackwardStarter interface {
	StartBackward(in []*tensor.Dense, out, dOut []float32)
}

// A passThrough is a kernel whose gradient with respect to input i, when
// PassesGradient(i) reports true, is its output's gradient unchanged (a
// sum's, for each term): the graph hands on the output's gradient itself,
// with no Backward call and no copy. Its Backward must still compute that
// gradient for callers outside a graph.
type passThrough interface {
	PassesGradient(i int) bool
}

var opCount atomic.Uint64

// OpTimes, when not nil, accumulates the time spent in each kernel's forward
// ("name") and backward ("dname/dxI") calls: a profile by layer for benchmarks.
var OpTimes map[string]time.Duration

// shapeError is the error of k's OutShape: "nn: ", k's name, and the
// message, which says what was expected.
func shapeError(k Kernel, format string, args ...any) error {
	return fmt.Errorf("nn: %s: %s", k.Name(), fmt.Sprintf(format, args...))
}

// Apply adds a node computing k on inputs to their graph.
func Apply(k Kernel, inputs ...*gorgonia.Node) (*gorgonia.Node, error) {
	shapes := make([]tensor.Shape, len(inputs))
	for i, n := range inputs {
		shapes[i] = n.Shape().Clone()
	}
	outShape, err := k.OutShape(shapes)
	if err != nil {
		return nil, err
	}
	op := &kernelOp{k: k, id: opCount.Add(1), in: shapes, shape: outShape}
	return gorgonia.ApplyOp(op, inputs...)
}

// kernelOp is the forward op of a kernel. It owns its output buffer, reused
// at every run.
type kernelOp struct {
	k     Kernel
	id    uint64 // makes every op distinct, so that gorgonia never merges two
	in    []tensor.Shape
	shape tensor.Shape
	out   *tensor.Dense
	typ   hm.Type         // the op's type, built once
	ins   []*tensor.Dense // the inputs of the last Do, reused
	// started is whether the backward pass since the last Do has begun.
	started bool
}

var (
	_ gorgonia.Op   = (*kernelOp)(nil)
	_ gorgonia.SDOp = (*kernelOp)(nil)
	_ gorgonia.Op   = (*gradOp)(nil)
)

func tensorType(s tensor.Shape) hm.Type {
	if s.IsScalar() {
		return tensor.Float32
	}
	return gorgonia.TensorType{Dims: s.Dims(), Of: tensor.Float32}
}

func (op *kernelOp) Arity() int { return len(op.in) }

func (op *kernelOp) Type() hm.Type {
	if op.typ == nil {
		ts := make([]hm.Type, 0, len(op.in)+1)
		for _, s := range op.in {
			ts = append(ts, tensorType(s))
		}
		op.typ = hm.NewFnType(append(ts, tensorType(op.shape))...)
	}
	return op.typ
}

func (op *kernelOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *kernelOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if OpTimes != nil {
		defer func(t time.Time) { OpTimes[op.k.Name()] += time.Since(t) }(time.Now())
	}
	ins, err := denseInputs(op.k, vals, op.ins)
	op.ins = ins
	if err != nil {
		return nil, err
	}
	op.started = false
	if op.shape.IsScalar() {
		var v [1]float32
		op.k.Forward(v[:], ins)
		return gorgonia.NewF32(v[0]), nil
	}
	if op.out == nil {
		op.out = tensor.New(tensor.WithShape(op.shape...), tensor.Of(tensor.Float32))
	}
	op.k.Forward(op.out.Float32s(), ins)
	return op.out, nil
}

func (op *kernelOp) ReturnsPtr() bool      { return false }
func (op *kernelOp) CallsExtern() bool     { return false }
func (op *kernelOp) OverwritesInput() int  { return -1 }
func (op *kernelOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", op.k.Name(), op.id) }
func (op *kernelOp) Hashcode() uint32      { return hashOf(op) }
func (op *kernelOp) String() string        { return fmt.Sprintf("%s#%d", op.k.Name(), op.id) }

func (op *kernelOp) DiffWRT(n int) []bool { return op.k.Differentiable(n) }

func (op *kernelOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	diff := op.k.Differentiable(len(inputs))
	ret := make(gorgonia.Nodes, len(inputs))
	args := append(append(gorgonia.Nodes{}, inputs...), output, grad)
	pt, _ := op.k.(passThrough)
	for i, d := range diff {
		if !d {
			continue
		}
		if pt != nil && pt.PassesGradient(i) {
			ret[i] = grad
			continue
		}
		n, err := gorgonia.ApplyOp(&gradOp{fwd: op, i: i, id: opCount.Add(1)}, args...)
		if err != nil {
			return nil, err
		}
		ret[i] = n
	}
	return ret, nil
}

// gradOp computes the gradient of a kernelOp with respect to input i, from
// the inputs, the output and the output's gradient.
type gradOp struct {
	fwd *kernelOp
	i   int
	id  uint64
	out *tensor.Dense
	typ hm.Type         // built once
	ins []*tensor.Dense // reused
}

func (op *gradOp) Arity() int { return len(op.fwd.in) + 2 }

func (op *gradOp) Type() hm.Type {
	if op.typ == nil {
		ts := make([]hm.Type, 0, len(op.fwd.in)+3)
		for _, s := range op.fwd.in {
			ts = append(ts, tensorType(s))
		}
		ts = append(ts, tensorType(op.fwd.shape), tensorType(op.fwd.shape), tensorType(op.fwd.in[op.i]))
		op.typ = hm.NewFnType(ts...)
	}
	return op.typ
}

func (op *gradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.fwd.in[op.i].Clone(), nil
}

func (op *gradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if OpTimes != nil {
		defer func(t time.Time) { OpTimes[fmt.Sprintf("d%s/dx%d", op.fwd.k.Name(), op.i)] += time.Since(t) }(time.Now())
	}
	n := len(op.fwd.in)
	ins, err := denseInputs(op.fwd.k, vals[:n], op.ins)
	op.ins = ins
	if err != nil {
		return nil, err
	}
	out, dOut := floats(vals[n]), floats(vals[n+1])
	if !op.fwd.started {
		if bs, ok := op.fwd.k.(BackwardStarter); ok {
			bs.StartBackward(ins, out, dOut)
		}
		op.fwd.started = true
	}
	s := op.fwd.in[op.i]
	if s.IsScalar() {
		var v [1]float32
		op.fwd.k.Backward(op.i, v[:], ins, out, dOut)
		return gorgonia.NewF32(v[0]), nil
	}
	if op.out == nil {
		op.out = tensor.New(tensor.WithShape(s...), tensor.Of(tensor.Float32))
	}
	op.fwd.k.Backward(op.i, op.out.Float32s(), ins, out, dOut)
	return op.out, nil
}

func (op *gradOp) ReturnsPtr() bool     { return false }
func (op *gradOp) CallsExtern() bool    { return false }
func (op *gradOp) OverwritesInput() int { return -1 }
func (op *gradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "d%s#%d/d%d#%d", op.fwd.k.Name(), op.fwd.id, op.i, op.id)
}
func (op *gradOp) Hashcode() uint32 { return hashOf(op) }
func (op *gradOp) String() string {
	return fmt.Sprintf("d%s#%d/dx%d", op.fwd.k.Name(), op.fwd.id, op.i)
}

func hashOf(op gorgonia.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func denseInputs(k Kernel, vals []gorgonia.Value, buf []*tensor.Dense) ([]*tensor.Dense, error) {
	ins := buf[:0]
	for i, v := range vals {
		ins = append(ins, nil)
		switch t := v.(type) {
		case *tensor.Dense:
			if t.Dtype() != tensor.Float32 {
				return nil, fmt.Errorf("nn: %s: input %d is %v: want float32", k.Name(), i, t.Dtype())
			}
			ins[i] = t
		case *gorgonia.F32:
			ins[i] = tensor.New(tensor.FromScalar(float32(*t)))
		default:
			return nil, fmt.Errorf("nn: %s: input %d is %T: want a float32 tensor", k.Name(), i, v)
		}
	}
	return ins, nil
}

// floats returns the data of a float32 tensor or scalar value.
func floats(v gorgonia.Value) []float32 {
	switch t := v.(type) {
	case *tensor.Dense:
		if t.IsScalar() {
			return []float32{t.ScalarValue().(float32)}
		}
		return t.Float32s()
	case *gorgonia.F32:
		return []float32{float32(*t)}
	}
	panic(fmt.Sprintf("nn: value of type %T where a float32 tensor was expected", v))
}
