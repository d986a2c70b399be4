package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is a named tensor of weights. Its Value is shared by every graph that
// uses it, so an optimiser that updates Value in place updates them all.
type Param struct {
	Name      string
	Value     *tensor.Dense
	Trainable bool // false for weights that no gradient moves (an EMA codebook)
}

// Data returns the parameter's values.
func (p *Param) Data() []float32 { return p.Value.Float32s() }

// NewParam returns a zero parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	return &Param{Name: name, Trainable: true,
		Value: tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))}
}

// CountParams counts the weights of params.
func CountParams(params []*Param) int {
	n := 0
	for _, p := range params {
		n += len(p.Data())
	}
	return n
}

// Uniform fills p with U(-bound, bound) draws from r.
func (p *Param) Uniform(r *rand.Rand, bound float64) *Param {
	for i := range p.Data() {
		p.Data()[i] = float32((2*r.Float64() - 1) * bound)
	}
	return p
}

// Builder builds one gorgonia graph over a set of parameters. Its methods keep
// the first error and turn later calls into no-ops (as bufio.Scanner), so a
// model is written as a straight line of calls and checks Err once.
type Builder struct {
	G      *gorgonia.ExprGraph
	err    error
	nodes  map[*Param]*gorgonia.Node
	params []*Param
}

// NewBuilder returns a builder of a new graph.
func NewBuilder() *Builder {
	return &Builder{G: gorgonia.NewGraph(), nodes: map[*Param]*gorgonia.Node{}}
}

// Err returns the first error met while building.
func (b *Builder) Err() error { return b.err }

// Fail records err unless an error is already recorded.
func (b *Builder) Fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Input adds a float32 input of the given shape, bound to a tensor the caller
// fills before each run.
func (b *Builder) Input(name string, shape ...int) (*gorgonia.Node, *tensor.Dense) {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	return gorgonia.NodeFromAny(b.G, t, gorgonia.WithName(name)), t
}

// Use returns the graph's node for p, bound to p.Value.
func (b *Builder) Use(p *Param) *gorgonia.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	n := gorgonia.NodeFromAny(b.G, p.Value, gorgonia.WithName(p.Name))
	b.nodes[p] = n
	b.params = append(b.params, p)
	return n
}

// Apply adds kernel k on inputs, or does nothing after an error.
func (b *Builder) Apply(k Kernel, inputs ...*gorgonia.Node) *gorgonia.Node {
	if b.err != nil {
		return nil
	}
	for _, in := range inputs {
		if in == nil {
			b.Fail(fmt.Errorf("nn: %s: missing input", k.Name()))
			return nil
		}
	}
	n, err := Apply(k, inputs...)
	if err != nil {
		b.Fail(err)
		return nil
	}
	return n
}

// Program is a built graph ready to run: a tape machine, the trainable
// parameters it uses, and their gradient nodes when it was built for training.
type Program struct {
	Params []*Param
	Grads  []*gorgonia.Node // Grads[i] is dLoss/dParams[i]; nil without training
	Loss   *gorgonia.Node
	vm     gorgonia.VM
}

// Compile finishes the graph. With loss set, it adds the gradient of loss with
// respect to every trainable parameter used.
func (b *Builder) Compile(loss *gorgonia.Node) (*Program, error) {
	if b.err != nil {
		return nil, b.err
	}
	p := &Program{Loss: loss}
	if loss != nil {
		var wrt gorgonia.Nodes
		for _, prm := range b.params {
			if prm.Trainable {
				p.Params = append(p.Params, prm)
				wrt = append(wrt, b.nodes[prm])
			}
		}
		grads, err := gorgonia.Grad(loss, wrt...)
		if err != nil {
			return nil, fmt.Errorf("nn: gradient: %w", err)
		}
		p.Grads = grads
	}
	p.vm = gorgonia.NewTapeMachine(b.G, gorgonia.WithEngine(addEngine{}))
	// gorgonia sets a finalizer on the machine that does nothing without
	// CUDA, yet keeps the whole graph and its buffers alive for one more
	// collection after the program is dropped: clear it.
	runtime.SetFinalizer(p.vm, nil)
	return p, nil
}

// Run executes the graph once.
func (p *Program) Run() error {
	defer p.vm.Reset()
	return p.vm.RunAll()
}

// LossValue returns the scalar loss of the last run.
func (p *Program) LossValue() float32 { return floats(p.Loss.Value())[0] }

// Grad returns the gradient of parameter i from the last run.
func (p *Program) Grad(i int) []float32 { return floats(p.Grads[i].Value()) }

// Close releases the machine.
func (p *Program) Close() error { return p.vm.Close() }

// Conv is a convolution layer: weights [K*K*Cin, Cout] and bias [Cout].
type Conv struct {
	Geometry
	W, B *Param
}

// NewConv returns a convolution layer initialised as PyTorch does:
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = K*K*Cin.
func NewConv(name string, cin, cout int, g Geometry, r *rand.Rand) *Conv {
	bound := 1 / math.Sqrt(float64(g.K*g.K*cin))
	return &Conv{Geometry: g,
		W: NewParam(name+".weight", g.K*g.K*cin, cout).Uniform(r, bound),
		B: NewParam(name+".bias", cout).Uniform(r, bound)}
}

// ConvShapes adds to dst the shapes of the parameters NewConv makes, by name.
func ConvShapes(dst map[string][]int, name string, cin, cout int, g Geometry) {
	dst[name+".weight"], dst[name+".bias"] = []int{g.K * g.K * cin, cout}, []int{cout}
}

// Forward applies the layer to x [B, H, W, Cin]; inputGrad says whether x
// needs a gradient.
func (c *Conv) Forward(b *Builder, x *gorgonia.Node, inputGrad bool) *gorgonia.Node {
	return b.Apply(&Conv2D{Geometry: c.Geometry, InputGrad: inputGrad}, x, b.Use(c.W), b.Use(c.B))
}

// ForwardReLU is relu(Forward(x)), fused into the convolution.
func (c *Conv) ForwardReLU(b *Builder, x *gorgonia.Node, inputGrad bool) *gorgonia.Node {
	return b.Apply(&Conv2D{Geometry: c.Geometry, InputGrad: inputGrad, ReLU: true}, x, b.Use(c.W), b.Use(c.B))
}

// ForwardReLUs is relu(Forward(relu(x))), both fused into the convolution.
func (c *Conv) ForwardReLUs(b *Builder, x *gorgonia.Node, inputGrad bool) *gorgonia.Node {
	return b.Apply(&Conv2D{Geometry: c.Geometry, InputGrad: inputGrad, InputReLU: true, ReLU: true}, x, b.Use(c.W), b.Use(c.B))
}

// Params lists the layer's parameters.
func (c *Conv) Params() []*Param { return []*Param{c.W, c.B} }

// ConvT is a transposed convolution layer: weights [Cin, K*K*Cout], bias [Cout].
type ConvT struct {
	Geometry
	W, B *Param
}

// NewConvT returns a transposed convolution initialised as PyTorch does
// (fan_in = Cout*K*K, from its weight layout).
func NewConvT(name string, cin, cout int, g Geometry, r *rand.Rand) *ConvT {
	bound := 1 / math.Sqrt(float64(g.K*g.K*cout))
	return &ConvT{Geometry: g,
		W: NewParam(name+".weight", cin, g.K*g.K*cout).Uniform(r, bound),
		B: NewParam(name+".bias", cout).Uniform(r, bound)}
}

// ConvTShapes adds to dst the shapes of the parameters NewConvT makes, by
// name.
func ConvTShapes(dst map[string][]int, name string, cin, cout int, g Geometry) {
	dst[name+".weight"], dst[name+".bias"] = []int{cin, g.K * g.K * cout}, []int{cout}
}

// Forward applies the layer to x [B, H, W, Cin].
func (c *ConvT) Forward(b *Builder, x *gorgonia.Node, inputGrad bool) *gorgonia.Node {
	return b.Apply(&ConvTranspose2D{Geometry: c.Geometry, InputGrad: inputGrad}, x, b.Use(c.W), b.Use(c.B))
}

// ForwardReLU is relu(Forward(x)), fused into the transposed convolution.
func (c *ConvT) ForwardReLU(b *Builder, x *gorgonia.Node, inputGrad bool) *gorgonia.Node {
	return b.Apply(&ConvTranspose2D{Geometry: c.Geometry, InputGrad: inputGrad, ReLU: true}, x, b.Use(c.W), b.Use(c.B))
}

// Params lists the layer's parameters.
func (c *ConvT) Params() []*Param { return []*Param{c.W, c.B} }

// ReLU applies max(x, 0).
func (b *Builder) ReLU(x *gorgonia.Node) *gorgonia.Node { return b.Apply(ReLU{}, x) }

// Add adds two tensors of one shape.
func (b *Builder) Add(x, y *gorgonia.Node) *gorgonia.Node { return b.Apply(Add{}, x, y) }

// Sum adds scalars.
func (b *Builder) Sum(xs ...*gorgonia.Node) *gorgonia.Node {
	if b.err != nil {
		return nil
	}
	s := xs[0]
	for _, x := range xs[1:] {
		var err error
		if s, err = gorgonia.Add(s, x); err != nil {
			b.Fail(fmt.Errorf("nn: add: %w", err))
			return nil
		}
	}
	return s
}
