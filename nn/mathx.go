package nn

import "math"

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// exp32 returns e^x with a relative error under 2e-7 for x in [-87, 88]:
// x = n ln2 + r, |r| <= ln2/2, and e^r by its Taylor series to r^7.
func exp32(x float32) float32 {
	if x < -87 {
		return 0
	}
	if x > 88 {
		x = 88
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
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
