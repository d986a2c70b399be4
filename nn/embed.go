package nn

import (
	"gorgonia.org/tensor"
)

// SeqEmbed is the input of a class-conditional token model: position 0 of
// each sequence holds the class embedding, position i > 0 the embedding of
// token Tokens[b*Len+i-1], and every position adds its position embedding.
// Inputs: token table [V, D], class table [C, D], positions [Len, D];
// output [B*Len, D]. Tokens ([B, Len-1] or longer rows of Stride) and
// Classes ([B]) are set by the caller before each run.
type SeqEmbed struct {
	Batch, Len int
	Tokens     []int32 // row b starts at b*Stride
	Stride     int
	Classes    []int32
}

var _ Kernel = (*SeqEmbed)(nil)

func (e *SeqEmbed) Name() string { return "embed" }

func (e *SeqEmbed) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || in[0].Dims() != 2 || in[1].Dims() != 2 || in[2].Dims() != 2 ||
		in[1][1] != in[0][1] || in[2][1] != in[0][1] || in[2][0] < e.Len {
		return nil, shapeError(e, "inputs %v: want tokens [V D], classes [C D], positions [>=%d D]", in, e.Len)
	}
	return tensor.Shape{e.Batch * e.Len, in[0][1]}, nil
}

func (e *SeqEmbed) row(b, i int) (table, index int) {
	if i == 0 {
		return 1, int(e.Classes[b])
	}
	return 0, int(e.Tokens[b*e.Stride+i-1])
}

func (e *SeqEmbed) Forward(out []float32, in []*tensor.Dense) {
	d := in[0].Shape()[1]
	pos := in[2].Float32s()
	for b := range e.Batch {
		for i := range e.Len {
			t, idx := e.row(b, i)
			src := in[t].Float32s()[idx*d : (idx+1)*d]
			o := out[(b*e.Len+i)*d : (b*e.Len+i+1)*d]
			p := pos[i*d : (i+1)*d]
			for j := range o {
				o[j] = src[j] + p[j]
			}
		}
	}
}

func (e *SeqEmbed) Backward(k int, dst []float32, in []*tensor.Dense, _, dOut []float32) {
	d := in[0].Shape()[1]
	clear(dst)
	for b := range e.Batch {
		for i := range e.Len {
			g := dOut[(b*e.Len+i)*d : (b*e.Len+i+1)*d]
			var into []float32
			if k == 2 {
				into = dst[i*d : (i+1)*d]
			} else if t, idx := e.row(b, i); t == k {
				into = dst[idx*d : (idx+1)*d]
			} else {
				continue
			}
			for j, v := range g {
				into[j] += v
			}
		}
	}
}

func (e *SeqEmbed) Differentiable(int) []bool { return []bool{true, true, true} }
