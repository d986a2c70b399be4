package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
)

// MLP against the layers it fuses, MatMul, GELU and MatMul, run one after
// another, forward and backward, on the vector kernels and off them: at
// sizes that fill whole tiles and blocks of columns, and at sizes that end
// in partial tiles on both paths of the split (more rows than hidden units,
// and fewer).
func TestMLPMatchesLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 1))
	for _, s := range [][3]int{{96, 64, 256}, {37, 20, 50}, {300, 48, 1040}, {5, 16, 200}} {
		n, d, h := s[0], s[1], s[2]
		in := []*tensor.Dense{randTensor(r, n, d), randTensor(r, d, h), randTensor(r, h), randTensor(r, h, d), randTensor(r, d)}
		dOut := randTensor(r, n, d).Float32s()
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%dx%dx%d/kernels=%v", n, d, h, on), func(t *testing.T) {
				defer gemm.SetKernelsForTest(on)()
				m := &MLP{}
				got := make([]float32, n*d)
				m.Forward(got, in)
				m.StartBackward(in, got, dOut)
				gotGrads := make([][]float32, len(in))
				for i := range in {
					gotGrads[i] = make([]float32, in[i].Shape().TotalSize())
					m.Backward(i, gotGrads[i], in, got, dOut)
				}

				l1, act, l2 := &MatMul{InputGrad: true}, &GELU{}, &MatMul{InputGrad: true}
				u, hid, want := make([]float32, n*h), make([]float32, n*h), make([]float32, n*d)
				l1.Forward(u, in[:3])
				act.Forward(hid, []*tensor.Dense{NewDense(u, n, h)})
				in2 := []*tensor.Dense{NewDense(hid, n, h), in[3], in[4]}
				l2.Forward(want, in2)
				wantGrads := make([][]float32, len(in))
				dHid, dU := make([]float32, n*h), make([]float32, n*h)
				l2.StartBackward(in2, want, dOut)
				l2.Backward(0, dHid, in2, want, dOut)
				wantGrads[3], wantGrads[4] = make([]float32, h*d), make([]float32, d)
				l2.Backward(1, wantGrads[3], in2, want, dOut)
				l2.Backward(2, wantGrads[4], in2, want, dOut)
				act.Backward(0, dU, []*tensor.Dense{NewDense(u, n, h)}, hid, dHid)
				l1.StartBackward(in[:3], u, dU)
				for i := range 3 {
					wantGrads[i] = make([]float32, in[i].Shape().TotalSize())
					l1.Backward(i, wantGrads[i], in[:3], u, dU)
				}

				near(t, "output", got, want)
				for i := range in {
					near(t, fmt.Sprintf("gradient of input %d", i), gotGrads[i], wantGrads[i])
				}
			})
		}
	}
}

// near fails t unless got and want agree to 1e-5 of the larger of 1 and
// the largest |want|.
func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	scale := 1.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if !(math.Abs(float64(got[i]-want[i])) <= 1e-5*scale) {
			t.Fatalf("%s [%d]: %v fused, %v by the layers", what, i, got[i], want[i])
		}
	}
}
