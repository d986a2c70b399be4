package imageio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
)

// ReadFloatNPY reads a .npy array of float16, float32 or float64 (either
// byte order, C or Fortran order) as float32 in C order, and returns its shape. (npyio, the
// maintained Go reader, panics on a truncated header; this one shares the
// fuzzed header parser of ReadNPY.)
func ReadFloatNPY(r io.Reader) ([]float32, []int, error) { return readFloatNPY(r, -1) }

// readFloatNPY is ReadFloatNPY of a file of size bytes (size < 0: unknown).
func readFloatNPY(r io.Reader, size int64) ([]float32, []int, error) {
	br := bufio.NewReader(r)
	h, err := readNPYHeader(br)
	if err == nil {
		err = h.checkSize(size)
	}
	if err != nil {
		return nil, nil, err
	}
	if h.kind != "f" {
		return nil, nil, fmt.Errorf("%w: npy dtype %s%d: want float16, float32 or float64", ErrFormat, h.kind, h.size)
	}
	out := make([]float32, 0, min(h.n, 1<<20))
	buf := make([]byte, h.size)
	for i := range h.n {
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, nil, fmt.Errorf("%w: npy data truncated: shape %v wants %d values of %d bytes, found %d",
				ErrFormat, h.shape, h.n, h.size, i)
		}
		switch h.size {
		case 2:
			out = append(out, halfToFloat32(h.bo.Uint16(buf)))
		case 4:
			out = append(out, math.Float32frombits(h.bo.Uint32(buf)))
		default:
			out = append(out, float32(math.Float64frombits(h.bo.Uint64(buf))))
		}
	}
	if h.fortran {
		out = fromFortran(out, h.shape)
	}
	return out, h.shape, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value (sign, 5-bit exponent
// biased by 15, 10-bit fraction) exactly.
func halfToFloat32(b uint16) float32 {
	sign := uint32(b>>15) << 31
	exp, frac := uint32(b>>10)&0x1f, uint32(b)&0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac * 2^-24
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// LoadMatrix reads a float .npy file of shape [rows, cols], such as a
// codebook [K, D].
func LoadMatrix(path string) (data []float32, rows, cols int, err error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if what := notNPY(magic[:n]); what != "" {
		return nil, 0, 0, fmt.Errorf("imageio: %s is %s, not a .npy array: save the array alone with numpy.save(%q, a), e.g. a = vq_model.quantize.embedding.weight.detach().cpu().numpy()",
			path, what, "codebook.npy")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, 0, fmt.Errorf("imageio: %w", err)
	}
	data, shape, err := readFloatNPY(f, size)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("imageio: %s: %w", path, err)
	}
	if len(shape) != 2 || shape[0] < 1 || shape[1] < 1 {
		return nil, 0, 0, fmt.Errorf("imageio: %s: shape %v: want a matrix [rows, cols]", path, shape)
	}
	return data, shape[0], shape[1], nil
}

// notNPY names the kind of file that starts with magic when it is one that
// users give for a .npy array by mistake, or returns "".
func notNPY(magic []byte) string {
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return "a zip archive (a numpy .npz, or a PyTorch .pt/.pth written by torch.save)"
	case len(magic) > 0 && magic[0] == 0x80:
		return "a Python pickle (a PyTorch .pt/.pth written by torch.save)"
	}
	return ""
}
