package nn

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The types of nn's API. Models and kernels outside nn name these, never
// gorgonia's or tensor's: gorgonia is nn's tape, and where it stops being one
// these names stay.
type (
	// Node is a value of a graph: an input, a weight or a result.
	Node = gorgonia.Node
	// Dense is a float32 array with a shape: what kernels read.
	Dense = tensor.Dense
	// Shape is the shape of a Dense.
	Shape = tensor.Shape
)

// NewDense wraps data, not copied, as a Dense of the given shape.
func NewDense(data []float32, shape ...int) *Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// ScalarShape is the shape of a scalar.
func ScalarShape() Shape { return tensor.ScalarShape() }
