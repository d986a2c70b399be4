package nn

import (
	"math"

	"gorgonia.org/tensor"
)

// L2Normalize scales each vector along the last axis to unit length:
// y = x / max(||x||, 1e-12).
type L2Normalize struct{}

var _ Kernel = L2Normalize{}

func (L2Normalize) Name() string { return "l2normalize" }

func (l L2Normalize) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 || in[0].Dims() < 1 {
		return nil, shapeError(l, "inputs %v: want one tensor", in)
	}
	return in[0].Clone(), nil
}

func (L2Normalize) Forward(out []float32, in []*tensor.Dense) {
	x := in[0].Float32s()
	d := in[0].Shape()[in[0].Dims()-1]
	for i := 0; i < len(x); i += d {
		inv := 1 / norm(x[i:i+d])
		for j, v := range x[i : i+d] {
			out[i+j] = v * inv
		}
	}
}

// Backward: dx = (g - y (y.g)) / ||x||.
func (L2Normalize) Backward(_ int, dst []float32, in []*tensor.Dense, out, dOut []float32) {
	x := in[0].Float32s()
	d := in[0].Shape()[in[0].Dims()-1]
	for i := 0; i < len(x); i += d {
		inv := 1 / norm(x[i:i+d])
		var yg float32
		for j := range d {
			yg += out[i+j] * dOut[i+j]
		}
		for j := range d {
			dst[i+j] = (dOut[i+j] - out[i+j]*yg) * inv
		}
	}
}

func (L2Normalize) Differentiable(int) []bool { return []bool{true} }

func norm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return float32(math.Max(math.Sqrt(s), 1e-12))
}
