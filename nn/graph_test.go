package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// A small encoder-decoder through gorgonia, with a residual Add and an Add
// of a node to itself: the gradients the graph computes match finite
// differences of the loss the graph computes, and a second run gives the
// same numbers (buffers are reused, not stale).
func TestGraphGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	enc := NewConv("enc", 2, 4, Geometry{4, 2, 1}, r)
	mid := NewConv("mid", 4, 4, Geometry{3, 1, 1}, r)
	dec := NewConvT("dec", 4, 2, Geometry{4, 2, 1}, r)
	b := NewBuilder()
	x, xv := b.Input("x", 2, 8, 8, 2)
	target, tv := b.Input("target", 2, 8, 8, 2)
	hTarget, hv := b.Input("hTarget", 2, 4, 4, 4)
	for i := range xv.Float32s() {
		xv.Float32s()[i] = float32(r.NormFloat64())
		tv.Float32s()[i] = float32(r.NormFloat64())
	}
	for i := range hv.Float32s() {
		hv.Float32s()[i] = float32(r.NormFloat64())
	}
	h := b.ReLU(enc.Forward(b, x, false))
	h = b.Add(h, b.ReLU(mid.Forward(b, h, true))) // h feeds two paths: gradients add up
	y := dec.Forward(b, h, true)
	// Add hands its output's gradient to each term (passThrough), here twice
	// to the same node.
	loss := b.Sum(b.Apply(MSE{}, y, target), b.Apply(MSE{}, h, b.ReLU(h)), b.Apply(MSE{}, b.Add(h, h), hTarget))
	prog, err := b.Compile(loss)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	l0 := prog.LossValue()
	grads := make([][]float32, len(prog.Params))
	for i := range prog.Params {
		grads[i] = append([]float32(nil), prog.Grad(i)...)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	if l1 := prog.LossValue(); l1 != l0 {
		t.Fatalf("second run: loss %v, first %v", l1, l0)
	}
	if len(prog.Params) != 6 {
		t.Fatalf("%d trainable parameters, want 6", len(prog.Params))
	}
	for i, p := range prog.Params {
		if g := prog.Grad(i); g[0] != grads[i][0] {
			t.Errorf("%s: second run gradient %v, first %v", p.Name, g[0], grads[i][0])
		}
	}
	fd := func(data []float32, j int, eps float32) float64 {
		old := data[j]
		data[j] = old + eps
		prog.Run()
		up := float64(prog.LossValue())
		data[j] = old - eps
		prog.Run()
		down := float64(prog.LossValue())
		data[j] = old
		return (up - down) / float64(2*eps)
	}
	checked := 0
	for i, p := range prog.Params {
		data := p.Data()
		for trial := range 8 {
			j := r.IntN(len(data))
			if trial == 0 {
				j = 0
			}
			big, small := fd(data, j, 3e-3), fd(data, j, 1e-3)
			if math.Abs(big-small) > 1e-3*math.Max(0.05, math.Abs(small)) {
				continue // a ReLU kink lies within the step: no derivative to compare
			}
			checked++
			if math.Abs(small-float64(grads[i][j])) > 1e-2*math.Max(0.05, math.Abs(small)) {
				t.Errorf("%s[%d]: gradient %v, finite difference %v", p.Name, j, grads[i][j], small)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d of 48 entries were smooth enough to check", checked)
	}
}

// starterKernel is out = 2x, recording when nn starts its backward passes.
type starterKernel struct {
	events []string
	passes int
}

func (k *starterKernel) Name() string { return "starter" }
func (k *starterKernel) OutShape(in []Shape) (Shape, error) {
	return in[0].Clone(), nil
}
func (k *starterKernel) Forward(out []float32, in []*Dense) {
	k.events = append(k.events, "forward")
	for i, v := range in[0].Float32s() {
		out[i] = 2 * v
	}
}
func (k *starterKernel) StartBackward(_ []*Dense, _, _ []float32) {
	k.passes++
	k.events = append(k.events, "start")
}
func (k *starterKernel) Backward(i int, dst []float32, _ []*Dense, _, dOut []float32) {
	k.events = append(k.events, fmt.Sprintf("backward %d", i))
	for j, g := range dOut {
		dst[j] = 2 * g
	}
}
func (k *starterKernel) Differentiable(n int) []bool { return []bool{true, true} }

// StartBackward comes once per pass, after the forward pass and before the
// Backward calls of every input.
func TestBackwardStarterContract(t *testing.T) {
	k := &starterKernel{}
	b := NewBuilder()
	a, b2 := NewParam("a", 3), NewParam("b", 3)
	target, _ := b.Input("target", 3)
	y := b.Apply(k, b.Use(a), b.Use(b2))
	prog, err := b.Compile(b.Apply(MSE{}, y, target))
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	for range 2 {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
	}
	if k.passes != 2 || len(k.events) != 8 {
		t.Fatalf("events %v: want forward, start and two backward calls, twice", k.events)
	}
	for run := range 2 {
		ev := k.events[4*run : 4*run+4]
		if ev[0] != "forward" || ev[1] != "start" || !strings.HasPrefix(ev[2], "backward") || !strings.HasPrefix(ev[3], "backward") {
			t.Errorf("run %d: %v", run, ev)
		}
	}
}
