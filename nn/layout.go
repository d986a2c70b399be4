package nn

// ToNHWC writes n channel-major (C x H x W) images into dst in the models'
// layout, H x W x C.
func ToNHWC(dst, src []float32, n, c, h, w int) {
	if c == 1 {
		copy(dst, src[:n*h*w])
		return
	}
	for i := range n {
		for ch := range c {
			for p := range h * w {
				dst[(i*h*w+p)*c+ch] = src[(i*c+ch)*h*w+p]
			}
		}
	}
}

// ToNCHW is the inverse of ToNHWC.
func ToNCHW(dst, src []float32, n, c, h, w int) {
	if c == 1 {
		copy(dst, src[:n*h*w])
		return
	}
	for i := range n {
		for ch := range c {
			for p := range h * w {
				dst[(i*c+ch)*h*w+p] = src[(i*h*w+p)*c+ch]
			}
		}
	}
}
