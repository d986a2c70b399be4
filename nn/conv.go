package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/par"
)

// Geometry describes a square convolution window over NHWC images.
type Geometry struct {
	K, Stride, Pad int
}

// convBlock is how many output rows (pixels) a convolution builds patches
// for and multiplies at a time: their patches (up to 96 x 1152 floats) stay
// in L2 between im2row and the GEMM.
const convBlock = 96

// Conv2D is a convolution of NHWC images:
//
//	out[b, oy, ox, co] = bias[co] + sum_{ky, kx, ci} x[b, oy*S-P+ky, ox*S-P+kx, ci] * w[(ky*K+kx)*Cin+ci, co]
//
// Inputs: x [B, H, W, Cin], w [K*K*Cin, Cout], bias [Cout].
//
// The forward pass takes the first of these that applies: a 1x1 convolution
// is one GEMM on x itself; a 3x3 stride-1 one runs as Winograd's F(4x4, 3x3)
// (winograd.go); with the vector kernels and windows of at least 32 floats,
// the kernels multiply the window rows of the padded input in place;
// otherwise im2row patches, a block at a time, and a GEMM. The weight
// gradient gathers window rows (or uses the patches); the input gradient of
// a stride-1 convolution is the convolution of dOut with the flipped
// weights, and otherwise col2im of dOut w^T.
type Conv2D struct {
	Geometry
	InputGrad bool // compute dLoss/dx (false for a layer that reads the data)
	ReLU      bool // apply max(0, .) to the output, fused
	InputReLU bool // convolve max(0, x) instead of x, fused (not for 1x1 convolutions)

	col  []float32 // im2row patches of the last forward: [B*Ho*Wo, K*K*Cin]
	dcol []float32
	pad  []float32   // the input with a zero border
	dpad []float32   // the input gradient with a zero border
	pw   gemm.Packed // the weights, packed once per forward for every block

	wflip  []float32   // the weights flipped for the input gradient
	pwflip gemm.Packed // and packed
	pdOut  gemm.Packed // the output gradient, packed for the weight gradient
	act    activation

	// What the forward pass keeps for the backward calls, valid until the
	// next Forward: col holds its patches when colKept, pad its padded
	// input when padKept.
	colKept, padKept bool
	ptrs             []*float32 // window rows of pad, for the weight gradient

	wg, wgflip winograd // F(4x4, 3x3) state of the forward pass and of the input gradient
}

// activation masks output gradients by a fused ReLU, once per backward pass
// (in StartBackward) for all of its Backward calls.
type activation struct {
	masked []float32 // dOut * (out > 0) of this backward pass
}

// start masks this pass's dOut when relu is set.
func (a *activation) start(relu bool, out, dOut []float32) {
	if relu {
		a.masked = grow(a.masked, len(dOut))
		par.For(len(dOut), grain, func(lo, hi int) { gemm.MaskPositive(a.masked[lo:hi], dOut[lo:hi], out[lo:hi]) })
	}
}

// grad returns dOut itself, or, when relu is set, dOut masked by start.
func (a *activation) grad(relu bool, dOut []float32) []float32 {
	if !relu {
		return dOut
	}
	if len(a.masked) != len(dOut) {
		panic("nn: a fused-ReLU kernel's Backward ran without StartBackward")
	}
	return a.masked
}

func relu(x []float32) { gemm.ReLU(x, x) }

var (
	_ Kernel          = (*Conv2D)(nil)
	_ BackwardStarter = (*Conv2D)(nil)
)

func (c *Conv2D) Name() string {
	name := fmt.Sprintf("conv%dx%d/s%d", c.K, c.K, c.Stride)
	if c.InputReLU {
		name = "relu+" + name
	}
	if c.ReLU {
		name += "+relu"
	}
	return name
}

func (c *Conv2D) outHW(h, w int) (int, int) {
	return (h+2*c.Pad-c.K)/c.Stride + 1, (w+2*c.Pad-c.K)/c.Stride + 1
}

func (c *Conv2D) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || in[0].Dims() != 4 || in[1].Dims() != 2 || in[2].Dims() != 1 {
		return nil, shapeError(c, "inputs %v: want x [B H W Cin], w [K*K*Cin Cout], bias [Cout]", in)
	}
	x, w := in[0], in[1]
	if w[0] != c.K*c.K*x[3] || in[2][0] != w[1] {
		return nil, shapeError(c, "w %v, bias %v for %d input channels: want w [%d Cout], bias [Cout]", w, in[2], x[3], c.K*c.K*x[3])
	}
	ho, wo := c.outHW(x[1], x[2])
	if ho < 1 || wo < 1 {
		return nil, shapeError(c, "input %v is smaller than the %dx%d window", x, c.K, c.K)
	}
	if c.InputReLU && c.pointwise() {
		return nil, shapeError(c, "a fused input ReLU needs a window larger than 1x1")
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
	c.colKept, c.padKept = false, false
	if c.pointwise() {
		c.pw.Pack(w, cout, kk, cout)
		gemm.ForRows(rows, 32, func(lo, hi int) {
			c.pw.SerialBias(hi-lo, xs[lo*kk:], kk, bias, c.ReLU, out[lo*cout:], cout)
		})
		return
	}
	if c.winogradFits() {
		c.wg.forward(out, xs, w, bias, b, h, wd, cin, cout, c.InputReLU, c.ReLU)
		return
	}
	c.padInput(xs, b, h, wd, cin)
	hp, wp := h+2*c.Pad, wd+2*c.Pad
	if c.K*cin >= 32 && c.pw.PackWide(w, cout, kk, cout) {
		// Multiply the window rows of the padded image in place: no
		// patches are copied. A gradient for w gathers them later.
		indirectConv(out, c.pad, &c.pw, rows, hp, wp, cin, ho, wo, c.Geometry, bias, c.ReLU)
		return
	}
	c.col = grow(c.col, rows*kk)
	c.pw.Pack(w, cout, kk, cout)
	gemm.For(rows, 32, func(lo, hi int) {
		// Block by block, so that the GEMM reads patches still in cache.
		for b0 := lo; b0 < hi; b0 += convBlock {
			b1 := min(b0+convBlock, hi)
			im2row(c.col[b0*kk:b1*kk], c.pad, b0, b1, hp, wp, cin, ho, wo, c.Geometry)
			c.pw.SerialBias(b1-b0, c.col[b0*kk:], kk, bias, c.ReLU, out[b0*cout:], cout)
		}
	})
	c.colKept = true
}

// StartBackward implements BackwardStarter: it masks dOut by a fused ReLU
// once for the pass.
func (c *Conv2D) StartBackward(_ []*tensor.Dense, out, dOut []float32) {
	c.act.start(c.ReLU, out, dOut)
}

func (c *Conv2D) Backward(i int, dst []float32, in []*tensor.Dense, out, dOut []float32) {
	dOut = c.act.grad(c.ReLU, dOut)
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
		if c.Stride == 1 && c.K*cout >= 32 && gemm.Kernels() {
			c.flippedInputGrad(dst, dOut, x.Float32s(), w, b, h, wd, cin, ho, wo, cout)
			return
		}
		c.dcol = grow(c.dcol, rows*kk)
		per := ho * wo
		hp, wp := h+2*c.Pad, wd+2*c.Pad
		c.dpad = grow(c.dpad, b*hp*wp*cin)
		gemm.For(b, 1, func(lo, hi int) {
			r0, r1 := lo*per, hi*per
			gemm.Serial(false, true, r1-r0, kk, cout, 1, dOut[r0*cout:], cout, w, cout, 0, c.dcol[r0*kk:], kk)
			clear(c.dpad[lo*hp*wp*cin : hi*hp*wp*cin])
			row2im(c.dpad, c.dcol[r0*kk:r1*kk], r0, r1, hp, wp, cin, ho, wo, c.Geometry)
			cropImages(dst, c.dpad, lo, hi, h, wd, cin, c.Pad)
			if c.InputReLU {
				img := h * wd * cin
				gemm.MaskPositive(dst[lo*img:hi*img], dst[lo*img:hi*img], x.Float32s()[lo*img:hi*img])
			}
		})
	case 1: // dw = col^T dOut
		col := x.Float32s()
		if !c.pointwise() {
			c.padInput(x.Float32s(), b, h, wd, cin)
		}
		if !c.pointwise() && !c.colKept && gemm.Kernels() {
			c.gatherWeightGrad(dst, dOut, b, h, wd, cin, ho, wo, cout)
			return
		}
		if !c.pointwise() {
			if !c.colKept { // the forward pass multiplied in place
				c.col = grow(c.col, rows*kk)
				hp, wp := h+2*c.Pad, wd+2*c.Pad
				par.For(rows, 32, func(lo, hi int) {
					im2row(c.col[lo*kk:hi*kk], c.pad, lo, hi, hp, wp, cin, ho, wo, c.Geometry)
				})
				c.colKept = true
			}
			col = c.col
		}
		gemm.Sgemm(true, false, kk, cout, rows, 1, col, kk, dOut, cout, 0, dst, cout)
	case 2:
		gemm.ColSums(dst, dOut, rows, cout)
	}
}

// flippedInputGrad writes dx for a stride-1 convolution as the convolution
// of dOut, padded by K-1-P, with the weights flipped in both directions and
// their channels swapped: no patches and no scatter.
func (c *Conv2D) flippedInputGrad(dst, dOut, xs, w []float32, b, h, wd, cin, ho, wo, cout int) {
	k := c.K
	c.wflip = grow(c.wflip, k*k*cout*cin)
	for ky := range k {
		for kx := range k {
			for ci := range cin {
				src := w[((ky*k+kx)*cin+ci)*cout:]
				for co, v := range src[:cout] {
					c.wflip[(((k-1-ky)*k+(k-1-kx))*cout+co)*cin+ci] = v
				}
			}
		}
	}
	if c.winogradFits() {
		c.wgflip.forward(dst, dOut, c.wflip, nil, b, h, wd, cout, cin, false, false)
	} else {
		c.flippedIndirect(dst, dOut, b, h, wd, cin, ho, wo, cout)
	}
	if c.InputReLU {
		par.For(len(dst), grain, func(lo, hi int) { gemm.MaskPositive(dst[lo:hi], dst[lo:hi], xs[lo:hi]) })
	}
}

// flippedIndirect is the flipped-weight convolution of flippedInputGrad on
// the indirect kernel.
func (c *Conv2D) flippedIndirect(dst, dOut []float32, b, h, wd, cin, ho, wo, cout int) {
	k := c.K
	c.pwflip.PackWide(c.wflip, cin, k*k*cout, cin)
	p := k - 1 - c.Pad
	hp, wp := ho+2*p, wo+2*p
	c.dpad = grow(c.dpad, b*hp*wp*cout)
	par.For(b, 1, func(lo, hi int) { padImages(c.dpad, dOut, lo, hi, ho, wo, cout, p, false) })
	indirectConv(dst, c.dpad, &c.pwflip, b*h*wd, hp, wp, cout, h, wd, Geometry{K: k, Stride: 1, Pad: p}, nil, false)
}

// winogradFits reports whether the convolution runs as Winograd's F(4x4, 3x3).
// Its transforms run on the vector kernels; without them the direct paths are faster.
func (c *Conv2D) winogradFits() bool {
	return c.K == 3 && c.Stride == 1 && c.Pad == 1 && gemm.Kernels()
}

// padInput writes the input of this forward pass, with its border (and
// max(0, x) when InputReLU), into pad, once per pass.
func (c *Conv2D) padInput(xs []float32, b, h, wd, cin int) {
	if c.padKept {
		return
	}
	hp, wp := h+2*c.Pad, wd+2*c.Pad
	// The slack past the images lets gatherWeightGrad's last panel read
	// past the last window row.
	c.pad = grow(c.pad, b*hp*wp*cin+gemm.GatherPanel)
	par.For(b, 1, func(lo, hi int) { padImages(c.pad, xs, lo, hi, h, wd, cin, c.Pad, c.InputReLU) })
	c.padKept = true
}

// gatherWeightGrad writes dw = col^T dOut without building col: window row
// ky of every output pixel is a column of A for the rows ky*K*Cin ..
// (ky+1)*K*Cin of dw.
func (c *Conv2D) gatherWeightGrad(dst, dOut []float32, b, h, wd, cin, ho, wo, cout int) {
	rows := b * ho * wo
	span := c.K * cin
	hp, wp := h+2*c.Pad, wd+2*c.Pad
	c.ptrs = slices.Grow(c.ptrs[:0], rows*c.K)[:rows*c.K]
	par.For(rows, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ox, oy, bi := r%wo, (r/wo)%ho, r/(wo*ho)
			for ky := range c.K {
				c.ptrs[ky*rows+r] = &c.pad[((bi*hp+oy*c.Stride+ky)*wp+ox*c.Stride)*cin]
			}
		}
	})
	c.pdOut.Pack(dOut, cout, rows, cout)
	panels := (span + gemm.GatherPanel - 1) / gemm.GatherPanel
	for ky := range c.K {
		cols := c.ptrs[ky*rows : (ky+1)*rows]
		par.For(panels, 1, func(lo, hi int) {
			c.pdOut.Gather(lo*gemm.GatherPanel, min(hi*gemm.GatherPanel, span), cols, dst[ky*span*cout:], cout)
		})
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

	cols  []float32 // x w: [B*H*W, K*K*Cout]
	dcols []float32 // dOut gathered into the same layout, for both gradients
	pad   []float32 // the output, or its gradient, with a zero border
}

var (
	_ Kernel          = (*ConvTranspose2D)(nil)
	_ BackwardStarter = (*ConvTranspose2D)(nil)
)

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
		return nil, shapeError(c, "inputs %v: want x [B H W Cin], w [Cin K*K*Cout], bias [Cout]", in)
	}
	x, w := in[0], in[1]
	if w[0] != x[3] || w[1] != c.K*c.K*in[2][0] {
		return nil, shapeError(c, "w %v, bias %v for %d input channels: want w [%d K*K*Cout], bias [Cout]", w, in[2], x[3], x[3])
	}
	ho, wo := c.outHW(x[1], x[2])
	if ho < 1 || wo < 1 {
		return nil, shapeError(c, "input %v gives an empty output", x)
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
	per := h * w
	// A transposed convolution is the input-gradient of a convolution from
	// out to x: scatter the patches with row2im.
	g := Geometry{K: c.K, Stride: c.Stride, Pad: c.Pad}
	hp, wp := ho+2*c.Pad, wo+2*c.Pad
	c.pad = grow(c.pad, b*hp*wp*cout)
	gemm.For(b, 1, func(lo, hi int) {
		r0, r1 := lo*per, hi*per
		gemm.Serial(false, false, r1-r0, kk, cin, 1, x[r0*cin:], cin, wt, kk, 0, c.cols[r0*kk:], kk)
		clear(c.pad[lo*hp*wp*cout : hi*hp*wp*cout])
		row2im(c.pad, c.cols[r0*kk:r1*kk], r0, r1, hp, wp, cout, h, w, g)
		cropImages(out, c.pad, lo, hi, ho, wo, cout, c.Pad)
		img := ho * wo * cout
		o := out[lo*img : hi*img]
		addBias(o, bias)
		if c.ReLU {
			relu(o)
		}
	})
}

// StartBackward implements BackwardStarter: it masks dOut by a fused ReLU
// and gathers it into dcols, once for the pass's input and weight gradients.
func (c *ConvTranspose2D) StartBackward(in []*tensor.Dense, out, dOut []float32) {
	c.act.start(c.ReLU, out, dOut)
	dOut = c.act.grad(c.ReLU, dOut)
	b, h, w, _, ho, wo, cout := c.dims(in)
	kk := c.K * c.K * cout
	c.dcols = grow(c.dcols, b*h*w*kk)
	g := Geometry{K: c.K, Stride: c.Stride, Pad: c.Pad}
	hp, wp := ho+2*c.Pad, wo+2*c.Pad
	c.pad = grow(c.pad, b*hp*wp*cout)
	par.For(b, 1, func(lo, hi int) { padImages(c.pad, dOut, lo, hi, ho, wo, cout, c.Pad, false) })
	par.For(b*h*w, 32, func(lo, hi int) {
		im2row(c.dcols[lo*kk:hi*kk], c.pad, lo, hi, hp, wp, cout, h, w, g)
	})
}

func (c *ConvTranspose2D) Backward(i int, dst []float32, in []*tensor.Dense, out, dOut []float32) {
	dOut = c.act.grad(c.ReLU, dOut)
	b, h, w, cin, ho, wo, cout := c.dims(in)
	kk := c.K * c.K * cout
	rows := b * h * w
	switch i {
	case 0: // dx = gather(dOut) w^T
		gemm.Sgemm(false, true, rows, cin, kk, 1, c.dcols, kk, in[1].Float32s(), kk, 0, dst, cin)
	case 1: // dw = x^T gather(dOut)
		gemm.Sgemm(true, false, cin, kk, rows, 1, in[0].Float32s(), cin, c.dcols, kk, 0, dst, kk)
	case 2:
		gemm.ColSums(dst, dOut, b*ho*wo, cout)
	}
}

func (c *ConvTranspose2D) Differentiable(n int) []bool { return []bool{c.InputGrad, true, true} }

// padImages copies images [lo, hi) of x [B, H, W, C] into dst
// [B, H+2P, W+2P, C], with a zero border P pixels wide, taking max(0, x)
// when relu is set.
func padImages(dst, x []float32, lo, hi, h, w, c, p int, relu bool) {
	hp, wp := h+2*p, w+2*p
	for bi := lo; bi < hi; bi++ {
		img := dst[bi*hp*wp*c : (bi+1)*hp*wp*c]
		clear(img[:p*wp*c])
		clear(img[(p+h)*wp*c:])
		for y := range h {
			row := img[(p+y)*wp*c : (p+y+1)*wp*c]
			clear(row[:p*c])
			src := x[((bi*h+y)*w)*c : ((bi*h+y+1)*w)*c]
			if relu {
				gemm.ReLU(row[p*c:(p+w)*c], src)
			} else {
				copy(row[p*c:(p+w)*c], src)
			}
			clear(row[(p+w)*c:])
		}
	}
}

// cropImages copies the inside of padded images [lo, hi) of src
// [B, H+2P, W+2P, C] into dst [B, H, W, C]: the inverse of padImages.
func cropImages(dst, src []float32, lo, hi, h, w, c, p int) {
	hp, wp := h+2*p, w+2*p
	for bi := lo; bi < hi; bi++ {
		for y := range h {
			s := src[((bi*hp+p+y)*wp+p)*c:]
			copy(dst[((bi*h+y)*w)*c:((bi*h+y+1)*w)*c], s[:w*c])
		}
	}
}

// im2row writes the patches of output rows [lo, hi) of a convolution of the
// padded images xp [B, Hp, Wp, C] (padImages' output, so that every tap
// falls inside) into dst [(hi-lo), K*K*C]. A window row of K taps is K*C
// contiguous floats.
func im2row(dst, xp []float32, lo, hi, hp, wp, c, ho, wo int, g Geometry) {
	kk := g.K * g.K * c
	span := g.K * c
	for r := lo; r < hi; r++ {
		at := windowAt(r, hp, wp, c, ho, wo, g)
		d := dst[(r-lo)*kk : (r-lo+1)*kk]
		for ky := range g.K {
			src := xp[at+ky*wp*c:]
			src = src[:span]
			seg := d[ky*span : (ky+1)*span]
			if span < 16 { // a call to copy costs more than a few moves
				for j, v := range src {
					seg[j] = v
				}
				continue
			}
			copy(seg, src)
		}
	}
}

// indirectConv writes the convolution of the padded images xp
// [B, Hp, Wp, C] (rows output pixels, Ho x Wo each) with the weights in pw
// (packed by PackWide, [K*K*C, Cout]) into out [rows, Cout], adding bias
// (nil for none) and taking max(., 0) if relu is set. Each block of output
// pixels multiplies its window rows in place.
func indirectConv(out, xp []float32, pw *gemm.Packed, rows, hp, wp, c, ho, wo int, g Geometry, bias []float32, relu bool) {
	cout := pw.N()
	par.For(rows, 32, func(lo, hi int) {
		ptrs := make([]*float32, convBlock*g.K)
		for b0 := lo; b0 < hi; b0 += convBlock {
			b1 := min(b0+convBlock, hi)
			windowRows(ptrs, xp, b0, b1, hp, wp, c, ho, wo, g)
			pw.Indirect(b1-b0, ptrs[:(b1-b0)*g.K], g.K, g.K*c, bias, relu, out[b0*cout:], cout)
		}
	})
}

// windowRows points ptrs[(r-lo)*K+ky] at window row ky of output row r,
// for r in [lo, hi), in the padded images xp [B, Hp, Wp, C]: the K*C
// contiguous floats im2row would copy.
func windowRows(ptrs []*float32, xp []float32, lo, hi, hp, wp, c, ho, wo int, g Geometry) {
	for r := lo; r < hi; r++ {
		at := windowAt(r, hp, wp, c, ho, wo, g)
		for ky := range g.K {
			ptrs[(r-lo)*g.K+ky] = &xp[at+ky*wp*c]
		}
	}
}

// windowAt is the offset in padded images [B, Hp, Wp, C] of the first tap
// of output row r's window (output pixels Ho x Wo an image); window row ky
// starts ky*Wp*C after it.
func windowAt(r, hp, wp, c, ho, wo int, g Geometry) int {
	ox := r % wo
	oy := (r / wo) % ho
	bi := r / (wo * ho)
	return ((bi*hp+oy*g.Stride)*wp + ox*g.Stride) * c
}

// row2im adds patch rows [lo, hi) (laid out as im2row writes them, starting
// at rows[0]) into the padded images dp [B, Hp, Wp, C]: the transpose of
// im2row.
func row2im(dp, rows []float32, lo, hi, hp, wp, c, ho, wo int, g Geometry) {
	kk := g.K * g.K * c
	span := g.K * c
	for r := lo; r < hi; r++ {
		at := windowAt(r, hp, wp, c, ho, wo, g)
		s := rows[(r-lo)*kk : (r-lo+1)*kk]
		for ky := range g.K {
			d := dp[at+ky*wp*c:]
			d = d[:span]
			for j, v := range s[ky*span : (ky+1)*span] {
				d[j] += v
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

// grow returns buf resized to n, reusing its memory when it is large enough.
func grow(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float32, n)
}
