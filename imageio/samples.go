package imageio

import (
	"archive/zip"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
// a path ending in .npz gives the file WriteNPZ writes; a path ending in "/"
// gives a folder of RGB PNGs, one an image, NNNNNN.png (what clean-fid,
// torch-fidelity and LlamaGen's create_npz_from_sample_folder read),
// written whole into a hidden folder beside it and renamed into place, so
// that the folder holds the images of one write, all of them, or is not
// there: a folder that holds files other than NNNNNN.png is refused rather
// than replaced.
func WriteImages(path string, pix []float32, n, c, h, w int, labels []int32) error {
	if err := checkImages(pix, n, c, h, w, labels); err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(path, "/"):
		return writeImageFolder(filepath.Clean(path), pix, n, c, h, w)
	case strings.HasSuffix(path, ".npz"):
		return WriteFile(path, func(wr io.Writer) error { return WriteNPZ(wr, pix, n, c, h, w, labels) })
	}
	return fmt.Errorf("imageio: images %q: want a FILE.npz or a folder DIR/", path)
}

func checkImages(pix []float32, n, c, h, w int, labels []int32) error {
	if len(pix) != n*c*h*w {
		return fmt.Errorf("imageio: %d values for %d images of %dx%dx%d", len(pix), n, c, h, w)
	}
	if labels != nil && len(labels) != n {
		return fmt.Errorf("imageio: %d labels for %d images", len(labels), n)
	}
	return nil
}

// WriteNPZ writes n decoded images as an .npz to wr: arr_0, uint8 [n, h, w,
// 3] (grey repeated to RGB), and arr_1, the labels as int64 [n] when labels
// is not nil (the layout of guided-diffusion's class-conditional sampler
// and evaluator, which LlamaGen's FID scripts read).
func WriteNPZ(wr io.Writer, pix []float32, n, c, h, w int, labels []int32) error {
	if err := checkImages(pix, n, c, h, w, labels); err != nil {
		return err
	}
	pix, c = rgb(pix, n, c, h, w)
	data := toBytesHWC(pix, n, c, h, w)
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
}

// imageName matches the files of an image folder: NNNNNN.png.
var imageName = regexp.MustCompile(`^[0-9]{6,}\.png$`)

// writeImageFolder writes the images as dir/NNNNNN.png (see WriteImages).
func writeImageFolder(dir string, pix []float32, n, c, h, w int) (err error) {
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !imageName.MatchString(e.Name()) {
				return fmt.Errorf("imageio: images folder %s holds %s, which vqtool did not write: want a new folder or one of NNNNNN.png images, which are replaced", dir, e.Name())
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("imageio: images folder: %w", err)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("imageio: %w", err)
	}
	// Hidden folders of a killed write.
	stale, _ := filepath.Glob(filepath.Join(parent, "."+base+".tmp*"))
	for _, s := range stale {
		os.RemoveAll(s)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp")
	if err != nil {
		return fmt.Errorf("imageio: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	pix, c = rgb(pix, n, c, h, w)
	for i := range n {
		var img image.Image = ToImage(pix[i*c*h*w:(i+1)*c*h*w], c, h, w)
		if err := WritePNG(filepath.Join(tmp, fmt.Sprintf("%06d.png", i)), img); err != nil {
			return err
		}
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("imageio: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return fmt.Errorf("imageio: %w", err)
	}
	return os.RemoveAll(old)
}
