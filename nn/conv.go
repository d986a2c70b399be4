package nn

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// Geometry describes a square convolution window over NHWC images.
type Geometry struct {
	K, Stride, Pad int
}

// Conv2D is a convolution of NHWC images as one GEMM over im2row patches:
//
//	out[b, oy, ox, co] = bias[co] + sum_{ky, kx, ci} x[b, oy*S-P+ky, ox*S-P+kx, ci] * w[(ky*K+kx)*Cin+ci, co]
//
// Inputs: x [B, H, W, Cin], w [K*K*Cin, Cout], bias [Cout].
type Conv2D struct {
	Geometry
	InputGrad bool // compute dLoss/dx (false for a layer that reads the data)
	ReLU      bool // apply max(0, .) to the output, fused

	col  []float32 // im2row patches of the last forward: [B*Ho*Wo, K*K*Cin]
	dcol []float32
	act  activation
}

// activation masks output gradients by a fused ReLU, once per backward pass.
type activation struct {
	masked    []float32 // dOut * (out > 0)
	gen, dgen int       // forward passes seen, and the pass masked belongs to
}

// grad returns dOut itself, or dOut masked by out > 0 when relu is set.
func (a *activation) grad(relu bool, out, dOut []float32) []float32 {
	if !relu {
		return dOut
	}
	if a.dgen == a.gen && len(a.masked) == len(dOut) {
		return a.masked
	}
	a.masked = grow(a.masked, len(dOut))
	par.For(len(dOut), grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if out[i] > 0 {
				a.masked[i] = dOut[i]
			} else {
				a.masked[i] = 0
			}
		}
	})
	a.dgen = a.gen
	return a.masked
}

func relu(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

var _ Kernel = (*Conv2D)(nil)

func (c *Conv2D) Name() string {
	if c.ReLU {
		return fmt.Sprintf("conv%dx%d/s%d+relu", c.K, c.K, c.Stride)
	}
	return fmt.Sprintf("conv%dx%d/s%d", c.K, c.K, c.Stride)
}

func (c *Conv2D) outHW(h, w int) (int, int) {
	return (h+2*c.Pad-c.K)/c.Stride + 1, (w+2*c.Pad-c.K)/c.Stride + 1
}

func (c *Conv2D) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || in[0].Dims() != 4 || in[1].Dims() != 2 || in[2].Dims() != 1 {
		return nil, fmt.Errorf("inputs %v: want x [B H W Cin], w [K*K*Cin Cout], bias [Cout]", in)
	}
	x, w := in[0], in[1]
	if w[0] != c.K*c.K*x[3] || in[2][0] != w[1] {
		return nil, fmt.Errorf("w %v, bias %v for %d input channels: want w [%d Cout], bias [Cout]", w, in[2], x[3], c.K*c.K*x[3])
	}
	ho, wo := c.outHW(x[1], x[2])
	if ho < 1 || wo < 1 {
		return nil, fmt.Errorf("input %v is smaller than the %dx%d window", x, c.K, c.K)
	}
	return tensor.Shape{x[0], ho, wo, w[1]}, nil
}

// pointwise reports whether the convolution is a 1x1 one whose patches are
// the input itself.
func (c *Conv2D) pointwise() bool { return c.K == 1 && c.Stride == 1 && c.Pad == 0 }

func (c *Conv2D) Forward(out []float32, in []*tensor.Dense) {
	x, w, bias := in[0], in[1].Float32s(), in[2].Float32s()
	s := x.Shape()
	b, h, wd, cin := s[0], s[1], s[2], s[3]
	ho, wo := c.outHW(h, wd)
	cout := len(bias)
	kk := c.K * c.K * cin
	rows := b * ho * wo
	xs := x.Float32s()
	col := xs
	if !c.pointwise() {
		c.col = grow(c.col, rows*kk)
		col = c.col
	}
	par.For(rows, 32, func(lo, hi int) {
		if !c.pointwise() {
			im2row(col[lo*kk:hi*kk], xs, lo, hi, h, wd, cin, ho, wo, c.Geometry)
		}
		gemm.Serial(false, false, hi-lo, cout, kk, 1, col[lo*kk:], kk, w, cout, 0, out[lo*cout:], cout)
		addBias(out[lo*cout:hi*cout], bias)
		if c.ReLU {
			relu(out[lo*cout : hi*cout])
		}
	})
	c.act.gen++
}

func (c *Conv2D) Backward(i int, dst []float32, in []*tensor.Dense, out, dOut []float32) {
	dOut = c.act.grad(c.ReLU, out, dOut)
	x, w := in[0], in[1].Float32s()
	s := x.Shape()
	b, h, wd, cin := s[0], s[1], s[2], s[3]
	ho, wo := c.outHW(h, wd)
	cout := in[2].Shape()[0]
	kk := c.K * c.K * cin
	rows := b * ho * wo
	switch i {
	case 0: // dx = col2im(dOut w^T), image by image so that pieces never share pixels
		if c.pointwise() {
			gemm.Sgemm(false, true, rows, kk, cout, 1, dOut, cout, w, cout, 0, dst, kk)
			return
		}
		c.dcol = grow(c.dcol, rows*kk)
		per := ho * wo
		par.For(b, 1, func(lo, hi int) {
			r0, r1 := lo*per, hi*per
			gemm.Serial(false, true, r1-r0, kk, cout, 1, dOut[r0*cout:], cout, w, cout, 0, c.dcol[r0*kk:], kk)
			img := h * wd * cin
			clear(dst[lo*img : hi*img])
			row2im(dst, c.dcol[r0*kk:r1*kk], r0, r1, h, wd, cin, ho, wo, c.Geometry)
		})
	case 1: // dw = col^T dOut
		col := x.Float32s()
		if !c.pointwise() {
			col = c.col
		}
		gemm.Sgemm(true, false, kk, cout, rows, 1, col, kk, dOut, cout, 0, dst, cout)
	case 2:
		sumRows(dst, dOut, rows, cout)
	}
}

func (c *Conv2D) Differentiable(n int) []bool { return []bool{c.InputGrad, true, true} }

// ConvTranspose2D is the transpose (the gradient with respect to its input) of
// a Conv2D with the same geometry: it upsamples by Stride.
//
//	out[b, iy*S-P+ky, ix*S-P+kx, co] += x[b, iy, ix, ci] * w[ci, (ky*K+kx)*Cout+co], plus bias[co]
//
// Inputs: x [B, H, W, Cin], w [Cin, K*K*Cout], bias [Cout]; output
// [B, (H-1)*S-2P+K, (W-1)*S-2P+K, Cout].
type ConvTranspose2D struct {
	Geometry
	InputGrad bool
	ReLU      bool // apply max(0, .) to the output, fused
	act       activation

	cols      []float32 // x w: [B*H*W, K*K*Cout]
	dcols     []float32 // dOut gathered into the same layout, for both gradients
	gen, dgen int       // forward passes seen, and the pass dcols belongs to
}

var _ Kernel = (*ConvTranspose2D)(nil)

func (c *ConvTranspose2D) Name() string {
	if c.ReLU {
		return fmt.Sprintf("convT%dx%d/s%d+relu", c.K, c.K, c.Stride)
	}
	return fmt.Sprintf("convT%dx%d/s%d", c.K, c.K, c.Stride)
}

func (c *ConvTranspose2D) outHW(h, w int) (int, int) {
	return (h-1)*c.Stride - 2*c.Pad + c.K, (w-1)*c.Stride - 2*c.Pad + c.K
}

func (c *ConvTranspose2D) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || in[0].Dims() != 4 || in[1].Dims() != 2 || in[2].Dims() != 1 {
		return nil, fmt.Errorf("inputs %v: want x [B H W Cin], w [Cin K*K*Cout], bias [Cout]", in)
	}
	x, w := in[0], in[1]
	if w[0] != x[3] || w[1] != c.K*c.K*in[2][0] {
		return nil, fmt.Errorf("w %v, bias %v for %d input channels: want w [%d K*K*Cout], bias [Cout]", w, in[2], x[3], x[3])
	}
	ho, wo := c.outHW(x[1], x[2])
	if ho < 1 || wo < 1 {
		return nil, fmt.Errorf("input %v gives an empty output", x)
	}
	return tensor.Shape{x[0], ho, wo, in[2][0]}, nil
}

// dims returns the shape of the input and the output pixel sizes.
func (c *ConvTranspose2D) dims(in []*tensor.Dense) (b, h, w, cin, ho, wo, cout int) {
	s := in[0].Shape()
	b, h, w, cin = s[0], s[1], s[2], s[3]
	ho, wo = c.outHW(h, w)
	return b, h, w, cin, ho, wo, in[2].Shape()[0]
}

func (c *ConvTranspose2D) Forward(out []float32, in []*tensor.Dense) {
	b, h, w, cin, ho, wo, cout := c.dims(in)
	x, wt, bias := in[0].Float32s(), in[1].Float32s(), in[2].Float32s()
	kk := c.K * c.K * cout
	c.cols = grow(c.cols, b*h*w*kk)
	c.gen++
	per := h * w
	// A transposed convolution is the input-gradient of a convolution from
	// out to x: scatter the patches with row2im.
	g := Geometry{K: c.K, Stride: c.Stride, Pad: c.Pad}
	par.For(b, 1, func(lo, hi int) {
		r0, r1 := lo*per, hi*per
		gemm.Serial(false, false, r1-r0, kk, cin, 1, x[r0*cin:], cin, wt, kk, 0, c.cols[r0*kk:], kk)
		img := ho * wo * cout
		o := out[lo*img : hi*img]
		for i := 0; i < len(o); i += cout {
			copy(o[i:i+cout], bias)
		}
		row2im(out, c.cols[r0*kk:r1*kk], r0, r1, ho, wo, cout, h, w, g)
		if c.ReLU {
			relu(o)
		}
	})
	c.act.gen++
}

func (c *ConvTranspose2D) gather(in []*tensor.Dense, dOut []float32) {
	if c.dgen == c.gen {
		return
	}
	b, h, w, _, ho, wo, cout := c.dims(in)
	kk := c.K * c.K * cout
	c.dcols = grow(c.dcols, b*h*w*kk)
	g := Geometry{K: c.K, Stride: c.Stride, Pad: c.Pad}
	par.For(b*h*w, 32, func(lo, hi int) {
		im2row(c.dcols[lo*kk:hi*kk], dOut, lo, hi, ho, wo, cout, h, w, g)
	})
	c.dgen = c.gen
}

func (c *ConvTranspose2D) Backward(i int, dst []float32, in []*tensor.Dense, out, dOut []float32) {
	dOut = c.act.grad(c.ReLU, out, dOut)
	b, h, w, cin, ho, wo, cout := c.dims(in)
	kk := c.K * c.K * cout
	rows := b * h * w
	switch i {
	case 0: // dx = gather(dOut) w^T
		c.gather(in, dOut)
		gemm.Sgemm(false, true, rows, cin, kk, 1, c.dcols, kk, in[1].Float32s(), kk, 0, dst, cin)
	case 1: // dw = x^T gather(dOut)
		c.gather(in, dOut)
		gemm.Sgemm(true, false, cin, kk, rows, 1, in[0].Float32s(), cin, c.dcols, kk, 0, dst, kk)
	case 2:
		sumRows(dst, dOut, b*ho*wo, cout)
	}
}

func (c *ConvTranspose2D) Differentiable(n int) []bool { return []bool{c.InputGrad, true, true} }

// im2row writes the patches of output rows [lo, hi) of a convolution of
// x [B, H, W, C] into dst [(hi-lo), K*K*C]; out-of-image taps are zero.
func im2row(dst, x []float32, lo, hi, h, w, c, ho, wo int, g Geometry) {
	kk := g.K * g.K * c
	for r := lo; r < hi; r++ {
		ox := r % wo
		oy := (r / wo) % ho
		bi := r / (wo * ho)
		d := dst[(r-lo)*kk : (r-lo+1)*kk]
		for ky := range g.K {
			iy := oy*g.Stride - g.Pad + ky
			for kx := range g.K {
				ix := ox*g.Stride - g.Pad + kx
				seg := d[(ky*g.K+kx)*c : (ky*g.K+kx+1)*c]
				if iy < 0 || iy >= h || ix < 0 || ix >= w {
					clear(seg)
					continue
				}
				src := ((bi*h+iy)*w + ix) * c
				copy(seg, x[src:src+c])
			}
		}
	}
}

// row2im adds patch rows [lo, hi) (laid out as im2row writes them, starting
// at rows[0]) back into the image dst [B, H, W, C]: the transpose of im2row.
func row2im(dst, rows []float32, lo, hi, h, w, c, ho, wo int, g Geometry) {
	kk := g.K * g.K * c
	for r := lo; r < hi; r++ {
		ox := r % wo
		oy := (r / wo) % ho
		bi := r / (wo * ho)
		s := rows[(r-lo)*kk : (r-lo+1)*kk]
		for ky := range g.K {
			iy := oy*g.Stride - g.Pad + ky
			if iy < 0 || iy >= h {
				continue
			}
			for kx := range g.K {
				ix := ox*g.Stride - g.Pad + kx
				if ix < 0 || ix >= w {
					continue
				}
				d := dst[((bi*h+iy)*w+ix)*c : ((bi*h+iy)*w+ix+1)*c]
				seg := s[(ky*g.K+kx)*c : (ky*g.K+kx+1)*c]
				for j, v := range seg {
					d[j] += v
				}
			}
		}
	}
}

func addBias(out, bias []float32) {
	n := len(bias)
	for i := 0; i < len(out); i += n {
		o := out[i : i+n]
		for j, b := range bias {
			o[j] += b
		}
	}
}

// sumRows writes the column sums of m [rows, n] into dst [n].
func sumRows(dst, m []float32, rows, n int) {
	clear(dst)
	for r := range rows {
		for j, v := range m[r*n : (r+1)*n] {
			dst[j] += v
		}
	}
}

// grow returns buf resized to n, reusing its memory when it is large enough.
func grow(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float32, n)
}
