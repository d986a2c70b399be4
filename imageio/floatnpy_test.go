package imageio

import (
	"bytes"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Float arrays numpy wrote, in every float width, both byte orders and
// Fortran order (numpy.save of a transposed array), read back as the same
// float32 values; an int array, an .npz and a pickle (torch.save) are
// refused, the last two with a message that says to use numpy.save.
func TestReadFloatNPYFromNumpy(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("numpy is not installed (Debian: python3-numpy):", err)
	}
	dir := t.TempDir()
	script := `
import numpy as np, sys
a = np.array([[0.5, -1.25, 3.0], [1e-3, 2.5, -0.0]])
for name, dt in [("f2", "<f2"), ("f4", "<f4"), ("f8", "<f8"), ("f4be", ">f4"), ("f8be", ">f8")]:
    np.save(sys.argv[1] + "/" + name + ".npy", a.astype(dt))
np.save(sys.argv[1] + "/i4.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
np.save(sys.argv[1] + "/fortran.npy", np.asfortranarray(a.astype("<f4")))
np.save(sys.argv[1] + "/transposed.npy", np.ascontiguousarray(a.T.astype("<f2")).T)
np.save(sys.argv[1] + "/tokens.npy", np.asfortranarray(np.arange(24).reshape(2, 3, 4)))
np.savez(open(sys.argv[1] + "/npz.npy", "wb"), a)
import pickle
pickle.dump(a, open(sys.argv[1] + "/pt.npy", "wb"), protocol=4)
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	want := []float32{0.5, -1.25, 3, 1e-3, 2.5, 0}
	for _, name := range []string{"f2", "f4", "f8", "f4be", "f8be", "fortran", "transposed"} {
		data, rows, cols, err := LoadMatrix(filepath.Join(dir, name+".npy"))
		if err != nil || rows != 2 || cols != 3 {
			t.Errorf("%s: %dx%d, %v", name, rows, cols, err)
			continue
		}
		for i, w := range want {
			tol := float32(1e-7)
			if name == "f2" || name == "transposed" {
				tol = 1e-3 * max(1, w) // half precision
			}
			if d := data[i] - w; d > tol || d < -tol {
				t.Errorf("%s[%d] = %v, want %v", name, i, data[i], w)
			}
		}
	}
	for _, bad := range []string{"i4", "npz", "pt"} {
		_, _, _, err := LoadMatrix(filepath.Join(dir, bad+".npy"))
		if err == nil {
			t.Errorf("%s.npy was accepted as a float matrix", bad)
		} else if bad != "i4" && !strings.Contains(err.Error(), "numpy.save") {
			t.Errorf("%s.npy: %v: want a message naming numpy.save", bad, err)
		}
	}
	tok, err := LoadTokens(filepath.Join(dir, "tokens.npy"))
	if err != nil || tok.N != 2 || tok.H != 3 || tok.W != 4 {
		t.Fatalf("Fortran-order tokens: %+v, %v", tok, err)
	}
	for i, v := range tok.Codes {
		if int(v) != i {
			t.Fatalf("Fortran-order tokens: %v, want 0..23 in C order", tok.Codes)
		}
	}
}

func FuzzReadFloatNPY(f *testing.F) {
	var b bytes.Buffer
	WriteNPYFloat32(&b, []float32{1, 2, 3, 4}, []int{2, 2})
	f.Add(b.Bytes())
	f.Add([]byte("\x93NUMPY\x01\x00v\x00{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, shape, err := ReadFloatNPY(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(v) != n {
			t.Fatalf("%d values for shape %v", len(v), shape)
		}
	})
}

func TestHalfToFloat32(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.33325195}, {0x0001, 5.9604645e-8}, {0x7bff, 65504}, {0x0000, 0}} {
		if got := halfToFloat32(c.bits); got != c.want {
			t.Errorf("half %#04x = %v, want %v", c.bits, got, c.want)
		}
	}
	if v := halfToFloat32(0x7c00); !math.IsInf(float64(v), 1) {
		t.Errorf("half inf = %v", v)
	}
}
