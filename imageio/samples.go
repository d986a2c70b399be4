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

// WriteImages writes n decoded images (channel-major in [-1, 1]) for the
// standard evaluators: path ending in .npz gives one array arr_0 of uint8
// [n, h, w, c] (the layout of guided-diffusion's evaluator, which LlamaGen's
// FID scripts read); a path ending in "/" gives a folder of PNGs, one an
// image, NNNNNN.png (what clean-fid and torch-fidelity read).
func WriteImages(path string, pix []float32, n, c, h, w int) error {
	if len(pix) != n*c*h*w {
		return fmt.Errorf("imageio: %d values for %d images of %dx%dx%d", len(pix), n, c, h, w)
	}
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
			return z.Close()
		})
	}
	return fmt.Errorf("imageio: images %q: want a FILE.npz or a folder DIR/", path)
}
