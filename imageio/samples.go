package imageio

import (
	"archive/zip"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// toBytesHWC converts n channel-major images in [-1, 1] to uint8 [n, h, w, c].
func toBytesHWC(pix []float32, n, c, h, w int) []byte {
	out := make([]byte, n*h*w*c)
	for i := range n {
		for ch := range c {
			for p := range h * w {
				out[(i*h*w+p)*c+ch] = toByte(pix[(i*c+ch)*h*w+p])
			}
		}
	}
	return out
}

// rgb repeats the one channel of n channel-major images three times; other
// images it returns as they are.
func rgb(pix []float32, n, c, h, w int) ([]float32, int) {
	if c != 1 {
		return pix, c
	}
	out := make([]float32, 3*len(pix))
	for i := range n {
		src := pix[i*h*w : (i+1)*h*w]
		for ch := range 3 {
			copy(out[(3*i+ch)*h*w:], src)
		}
	}
	return out, 3
}

// WriteImages writes n decoded images (channel-major in [-1, 1]) for the
// standard evaluators, grey images repeated to RGB as those evaluators want:
// a path ending in .npz gives arr_0, uint8 [n, h, w, 3], and arr_1, the
// labels as int64 [n] when labels is not nil (the layout of guided-diffusion's
// class-conditional sampler and evaluator, which LlamaGen's FID scripts
// read); a path ending in "/" gives a folder of RGB PNGs, one an image,
// NNNNNN.png (what clean-fid, torch-fidelity and LlamaGen's
// create_npz_from_sample_folder read).
func WriteImages(path string, pix []float32, n, c, h, w int, labels []int32) error {
	if len(pix) != n*c*h*w {
		return fmt.Errorf("imageio: %d values for %d images of %dx%dx%d", len(pix), n, c, h, w)
	}
	if labels != nil && len(labels) != n {
		return fmt.Errorf("imageio: %d labels for %d images", len(labels), n)
	}
	pix, c = rgb(pix, n, c, h, w)
	switch {
	case strings.HasSuffix(path, "/"):
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
		for i := range n {
			var img image.Image = ToImage(pix[i*c*h*w:(i+1)*c*h*w], c, h, w)
			if err := WritePNG(filepath.Join(path, fmt.Sprintf("%06d.png", i)), img); err != nil {
				return err
			}
		}
		return nil
	case strings.HasSuffix(path, ".npz"):
		data := toBytesHWC(pix, n, c, h, w)
		return WriteFile(path, func(wr io.Writer) error {
			z := zip.NewWriter(wr)
			f, err := z.CreateHeader(&zip.FileHeader{Name: "arr_0.npy", Method: zip.Store})
			if err != nil {
				return err
			}
			shape := []int{n, h, w, c}
			if err := writeNPY(f, "|u1", len(data), shape, func(buf []byte, i int) { buf[0] = data[i] }); err != nil {
				return err
			}
			if labels != nil {
				if f, err = z.CreateHeader(&zip.FileHeader{Name: "arr_1.npy", Method: zip.Store}); err != nil {
					return err
				}
				if err := WriteNPYInt64(f, labels, []int{n}); err != nil {
					return err
				}
			}
			return z.Close()
		})
	}
	return fmt.Errorf("imageio: images %q: want a FILE.npz or a folder DIR/", path)
}
