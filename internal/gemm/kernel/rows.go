package kernel

// DotRows sets out[j] = scale * (q . k[j*stride : j*stride+len(q)]) for j < n:
// attention scores of one query against n cached keys. It reports false,
// doing nothing, when the kernels are off or len(q) is not a multiple of 16.
func DotRows(out, q, k []float32, stride, n int, scale float32) bool {
	dh := len(q)
	if !enabled || dh%16 != 0 || dh == 0 {
		return false
	}
	if n == 0 {
		return true
	}
	_ = out[n-1]
	_ = k[(n-1)*stride+dh-1]
	dotRows(&q[0], &k[0], stride, n, dh, scale, &out[0])
	return true
}

// AxpyRows sets out = sum_j p[j] * v[j*stride : j*stride+len(out)] for
// j < len(p): attention's weighted sum of cached values. It reports false,
// doing nothing, when the kernels are off or len(out) is not a multiple of 16.
func AxpyRows(out, p, v []float32, stride int) bool {
	dh, n := len(out), len(p)
	if !enabled || dh%16 != 0 || dh == 0 {
		return false
	}
	if n == 0 {
		clear(out)
		return true
	}
	_ = v[(n-1)*stride+dh-1]
	axpyRows(&p[0], &v[0], stride, n, dh, &out[0])
	return true
}

var iota16 = [16]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// Argmin returns the index of the smallest element of x (the first on ties;
// NaNs are never chosen over numbers) and its value; x must not be empty.
func Argmin(x []float32) (int, float32) {
	if !enabled || len(x)%16 != 0 || len(x) == 0 {
		best, bestV := 0, x[0]
		for i, v := range x {
			if v < bestV || bestV != bestV {
				best, bestV = i, v
			}
		}
		return best, bestV
	}
	var vals [16]float32
	var idx [16]int32
	argmin16(&x[0], len(x), &iota16, &vals, &idx)
	best, bestV := int(idx[0]), vals[0]
	for l := 1; l < 16; l++ {
		v, i := vals[l], int(idx[l])
		if v < bestV || v == bestV && i < best || bestV != bestV {
			best, bestV = i, v
		}
	}
	return best, bestV
}

// ReLU sets dst[i] = max(src[i], 0) for i < len(src); dst may be src.
func ReLU(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if enabled {
		n = len(src) &^ 15
		if n > 0 {
			reluCopy(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] = max(src[i], 0)
	}
}

// Add sets dst[i] = a[i] + b[i] for i < len(a); dst may be a or b.
func Add(dst, a, b []float32) {
	n := len(a)
	dst, b = dst[:n], b[:n]
	done := 0
	if enabled {
		done = n &^ 15
		if done > 0 {
			addVec(&dst[0], &a[0], &b[0], done)
		}
	}
	for i := done; i < n; i++ {
		dst[i] = a[i] + b[i]
	}
}

// MaskPositive sets dst[i] = src[i] where ref[i] > 0 and 0 elsewhere, for
// i < len(src): a ReLU's gradient. dst may be src.
func MaskPositive(dst, src, ref []float32) {
	dst, ref = dst[:len(src)], ref[:len(src)]
	n := 0
	if enabled {
		n = len(src) &^ 15
		if n > 0 {
			maskPositive(&dst[0], &src[0], &ref[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		if ref[i] > 0 {
			dst[i] = src[i]
		} else {
			dst[i] = 0
		}
	}
}
