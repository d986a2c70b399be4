package kernel

import "math"

// The element-wise passes of a training step that are not matrix products:
// GELU and its gradient, layer norm by rows, column sums (bias and scale
// gradients), the sum of squares of a gradient and the AdamW update. Each
// exported function runs its kernel on the multiple-of-16 part when the
// kernels are on, and the plain loop beside it on the rest (or on all of
// it): that loop is the fallback and the tests' reference.

const (
	geluC = 0.7978845608028654 // sqrt(2/pi)
	geluA = 0.044715
)

// geluConsts are the constants of the GELU kernels, in the order they load
// them.
var geluConsts = [14]float32{geluC, geluA, 0.5, 1, 135135, 17325, 378, 62370, 3150, 28, 4.97, -4.97, -1, 3 * geluA * geluC}

// Tanh returns tanh(x) by its [7/6] Pade approximant (the continued
// fraction of Lambert), clamped to +-1 where |x| > 4.97; the absolute error
// is under 1e-4 everywhere (at most 5e-5 |x| in GELU, itself an
// approximation of x Phi(x)). One division and no exp: the hot loop of GELU.
func Tanh(x float32) float32 {
	if x > 4.97 {
		return 1
	}
	if x < -4.97 {
		return -1
	}
	x2 := x * x
	p := x * (135135 + x2*(17325+x2*(378+x2)))
	q := 135135 + x2*(62370+x2*(3150+x2*28))
	return p / q
}

// GELU sets dst[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) for
// x = src[i], i < len(src): the tanh approximation of Hendrycks and Gimpel.
// dst may be src.
func GELU(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if enabled {
		n = len(src) &^ 15
		if n > 0 {
			geluForward(&dst[0], &src[0], n, &geluConsts)
		}
	}
	for i := n; i < len(src); i++ {
		v := src[i]
		th := Tanh(geluC * (v + geluA*v*v*v))
		dst[i] = 0.5 * v * (1 + th)
	}
}

// GELUGrad sets dst[i] = dy[i] * GELU'(x[i]) for i < len(x), computing the
// tanh again rather than keeping it from the forward pass: a pass over
// memory costs more than the arithmetic. dst may be dy.
func GELUGrad(dst, dy, x []float32) {
	dst, dy = dst[:len(x)], dy[:len(x)]
	n := 0
	if enabled {
		n = len(x) &^ 15
		if n > 0 {
			geluBackward(&dst[0], &dy[0], &x[0], n, &geluConsts)
		}
	}
	for i := n; i < len(x); i++ {
		v := x[i]
		th := Tanh(geluC * (v + geluA*v*v*v))
		du := geluC * (1 + 3*geluA*v*v)
		dst[i] = dy[i] * (0.5*(1+th) + 0.5*v*(1-th*th)*du)
	}
}

// LayerNormRow normalises one row x to zero mean and unit variance, keeps
// the result in xhat and writes out = xhat * g + b; it returns
// 1/sqrt(var + eps). All slices have len(x) elements.
func LayerNormRow(out, xhat, x, g, b []float32, eps float32) (rstd float32) {
	d := len(x)
	out, xhat, g, b = out[:d], xhat[:d], g[:d], b[:d]
	if enabled && d%16 == 0 && d > 0 {
		return layerNormRow(&out[0], &xhat[0], &x[0], &g[0], &b[0], d, eps)
	}
	var mean float32
	for _, v := range x {
		mean += v
	}
	mean /= float32(d)
	var vr float32
	for _, v := range x {
		vr += (v - mean) * (v - mean)
	}
	rstd = 1 / float32(math.Sqrt(float64(vr/float32(d)+eps)))
	for j, v := range x {
		xhat[j] = (v - mean) * rstd
		out[j] = xhat[j]*g[j] + b[j]
	}
	return rstd
}

// LayerNormGradRow sets dx, for one row, to the gradient of layer norm's
// input given the output's gradient dy, the normalised row xhat, the scale
// g and rstd = 1/sqrt(var + eps):
//
//	dx = rstd * (dy g - mean(dy g) - xhat mean(dy g xhat))
func LayerNormGradRow(dx, dy, xhat, g []float32, rstd float32) {
	d := len(dy)
	dx, xhat, g = dx[:d], xhat[:d], g[:d]
	if enabled && d%16 == 0 && d > 0 {
		layerNormGradRow(&dx[0], &dy[0], &xhat[0], &g[0], d, rstd)
		return
	}
	var m1, m2 float32
	for j := range d {
		t := dy[j] * g[j]
		m1 += t
		m2 += t * xhat[j]
	}
	m1 /= float32(d)
	m2 /= float32(d)
	for j := range d {
		dx[j] = rstd * (dy[j]*g[j] - m1 - xhat[j]*m2)
	}
}

// ColSums sets dst[j] = sum over r < rows of m[r*ld+j], for j < len(dst):
// the gradient of a bias added to every row.
func ColSums(dst, m []float32, rows, ld int) {
	colReduce(dst, m, nil, rows, ld)
}

// ColDots sets dst[j] = sum over r < rows of a[r*ld+j] * b[r*ld+j], for
// j < len(dst): the gradient of a scale applied to every row.
func ColDots(dst, a, b []float32, rows, ld int) {
	colReduce(dst, a, b, rows, ld)
}

func colReduce(dst, a, b []float32, rows, ld int) {
	clear(dst)
	colAdd(dst, a, b, rows, ld)
}

// colAdd adds to dst[j] a[r*ld+j], times b[r*ld+j] unless b is nil, for
// r < rows in order and j < len(dst): ColSums and ColDots from a dst
// cleared, and a running sum over blocks of rows from one that is not.
func colAdd(dst, a, b []float32, rows, ld int) {
	n := len(dst)
	if rows == 0 || n == 0 {
		return
	}
	_ = a[(rows-1)*ld+n-1]
	if b != nil {
		_ = b[(rows-1)*ld+n-1]
	}
	done := 0
	if enabled {
		done = n &^ 15
		if done > 0 {
			var bp *float32
			if b != nil {
				bp = &b[0]
			}
			colSums(&dst[0], &a[0], bp, rows, done, ld)
		}
	}
	for j := done; j < n; j++ {
		s := dst[j]
		if b == nil {
			for r := range rows {
				s += a[r*ld+j]
			}
		} else {
			for r := range rows {
				s += a[r*ld+j] * b[r*ld+j]
			}
		}
		dst[j] = s
	}
}

// SumSquares returns the sum of x[i]^2 in float64: NaN or +Inf when x holds
// a NaN or an infinity (a float32's square cannot overflow a float64).
func SumSquares(x []float32) float64 {
	n := 0
	var s float64
	if enabled {
		n = len(x) &^ 15
		if n > 0 {
			s = sumSquares(&x[0], n)
		}
	}
	for _, v := range x[n:] {
		s += float64(v) * float64(v)
	}
	return s
}

// AdamConsts are the per-tensor constants of one AdamW step; see AdamStep.
type AdamConsts struct {
	GradScale      float32 // the gradient's multiplier (clipping)
	B1, OneMinusB1 float32
	B2, OneMinusB2 float32
	Decay          float32 // 1 - lr * weight decay, or 1
	Step           float32 // lr / (1 - b1^t)
	RBC2           float32 // 1 / sqrt(1 - b2^t)
	Eps            float32
}

// AdamStep applies one AdamW update to the weights w with gradient
// g * c.GradScale and moments m and v, all of one length:
//
//	m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//	w = w decay - step m / (sqrt(v) rbc2 + eps)
func AdamStep(w, g, m, v []float32, c *AdamConsts) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	n := 0
	if enabled {
		n = len(w) &^ 15
		if n > 0 {
			adamStep(&w[0], &g[0], &m[0], &v[0], n, c)
		}
	}
	for j := n; j < len(w); j++ {
		gj := g[j] * c.GradScale
		mj := c.B1*m[j] + c.OneMinusB1*gj
		vj := c.B2*v[j] + c.OneMinusB2*gj*gj
		m[j], v[j] = mj, vj
		w[j] = w[j]*c.Decay - c.Step*(mj/(float32(math.Sqrt(float64(vj)))*c.RBC2+c.Eps))
	}
}

// expConsts are the constants of softmaxRow, in the order it loads them.
var expConsts = [11]float32{log2e, ln2hi, ln2lo, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1, -110}

const (
	log2e = 1.44269504088896341
	ln2hi = 0.693359375
	ln2lo = -2.12194440e-4
)

// Exp returns e^x with a relative error under 2e-7 for x in [-87, 88]:
// x = n ln2 + r, |r| <= ln2/2, and e^r by its Taylor series to r^7.
func Exp(x float32) float32 {
	if x < -87 {
		return 0
	}
	if x > 88 {
		x = 88
	}
	t := x * log2e
	var n float32
	if t < 0 {
		n = float32(int32(t - 0.5))
	} else {
		n = float32(int32(t + 0.5))
	}
	r := x - n*ln2hi - n*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// SoftmaxPrefix replaces row[:n] by the softmax of scale * row[:n] and
// zeroes the rest of row; 1 <= n <= len(row), scale > 0.
func SoftmaxPrefix(row []float32, n int, scale float32) {
	if enabled {
		width := (n + 15) &^ 15
		if width <= len(row) {
			inf := float32(math.Inf(-1))
			for j := n; j < width; j++ {
				row[j] = inf
			}
			softmaxRow(&row[0], width, scale, &expConsts)
			clear(row[width:])
			return
		}
	}
	m := row[0]
	for _, v := range row[1:n] {
		m = max(m, v)
	}
	var s float32
	for j := range n {
		e := Exp((row[j] - m) * scale)
		row[j] = e
		s += e
	}
	inv := 1 / s
	for j := range n {
		row[j] *= inv
	}
	clear(row[n:])
}

// SoftmaxRows is SoftmaxPrefix on rows r < rows of p (rows ld apart), row
// r over its first n0 + r entries: the weights of a head of causal
// attention, n0 >= 1. Every row's masked tail is written before the first
// row's softmax, so that the kernel's vector loads never wait on scalar
// stores just made to the same bytes, which cannot be forwarded to them.
func SoftmaxRows(p []float32, ld, rows, n0 int, scale float32) {
	if !enabled || (n0+rows-1+15)&^15 > ld {
		for r := range rows {
			SoftmaxPrefix(p[r*ld:(r+1)*ld], n0+r, scale)
		}
		return
	}
	inf := float32(math.Inf(-1))
	for r := range rows {
		row := p[r*ld : (r+1)*ld]
		width := (n0 + r + 15) &^ 15
		for j := n0 + r; j < width; j++ {
			row[j] = inf
		}
		clear(row[width:])
	}
	for r := range rows {
		softmaxRow(&p[r*ld], (n0+r+15)&^15, scale, &expConsts)
	}
}

// SoftmaxGradRows is SoftmaxGrad on rows r < rows of p and ds (rows ld
// apart), row r over its first n0 + r entries, n0 >= 1. As in SoftmaxRows,
// every row's tail is cleared before the first row's kernel runs.
func SoftmaxGradRows(p, ds []float32, ld, rows, n0 int, scale float32) {
	if !enabled || (n0+rows-1+15)&^15 > ld {
		for r := range rows {
			SoftmaxGrad(p[r*ld:(r+1)*ld], ds[r*ld:(r+1)*ld], n0+r, scale)
		}
		return
	}
	for r := range rows {
		clear(ds[r*ld+n0+r : (r+1)*ld])
	}
	for r := range rows {
		softmaxGradRow(&p[r*ld], &ds[r*ld], (n0+r+15)&^15, scale)
	}
}

// SoftmaxGrad turns the gradient ds of a softmax's output p into the
// gradient of its input: ds[j] = p[j] (ds[j] - sum_k p[k] ds[k]) scale over
// k, j < n, for rows whose weights past n are 0 (SoftmaxPrefix's); ds past
// n becomes 0, whatever it held. Both have one length.
func SoftmaxGrad(p, ds []float32, n int, scale float32) {
	ds = ds[:len(p)]
	if width := (n + 15) &^ 15; enabled && n > 0 && width <= len(p) {
		// ds past n may hold anything (a NaN from an earlier pass over
		// the same scratch, say): it must not reach the sum.
		clear(ds[n:width])
		softmaxGradRow(&p[0], &ds[0], width, scale)
		clear(ds[width:])
		return
	}
	var s float32
	for j, v := range p[:n] {
		s += v * ds[j]
	}
	for j, v := range p[:n] {
		ds[j] = v * (ds[j] - s) * scale
	}
	clear(ds[n:])
}
