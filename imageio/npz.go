package imageio

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// OpenNPZ reads images from an .npz archive as WriteImages writes it and
// the standard evaluators read it (guided-diffusion's, LlamaGen's FID
// scripts): arr_0, uint8 [N, H, W, C] with C 1 or 3, or [N, H, W] grey;
// and arr_1, integer labels [N], when present (class names are then the
// label numbers). Stored or deflated entries (numpy.savez or
// savez_compressed) alike. opt's Limit, Size, Channels, Fit and MaxBytes
// apply; its Split does not. Channels 0 keeps the source's, as for a
// folder: grey when every pixel of RGB images has equal channels (grey
// images written as RGB, as WriteImages writes them).
func OpenNPZ(path string, opt Options) (*Dataset, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("imageio: %s: want an .npz archive (numpy.savez): %w", path, err)
	}
	defer z.Close()
	entries := map[string]*zip.File{}
	for _, f := range z.File {
		entries[f.Name] = f
	}
	img := entries["arr_0.npy"]
	if img == nil {
		return nil, fmt.Errorf("imageio: %s holds no arr_0.npy: want the images as its first array (numpy.savez(path, images, labels))", path)
	}
	d, total, err := readNPZImages(img, path, opt)
	if err != nil {
		return nil, err
	}
	if lf := entries["arr_1.npy"]; lf != nil {
		if err := readNPZLabels(d, total, lf, path); err != nil {
			return nil, err
		}
	}
	if opt.Channels == 0 && d.C == 3 && isGrayPix(d) {
		d = firstChannel(d)
	}
	return shape(d, opt)
}

// isGrayPix reports whether every pixel of d has equal channels.
func isGrayPix(d *Dataset) bool {
	hw := d.H * d.W
	for i := range d.N {
		img := d.Image(i)
		for p := range hw {
			if v := img[p]; img[hw+p] != v || img[2*hw+p] != v {
				return false
			}
		}
	}
	return true
}

// firstChannel returns d with its first channel only.
func firstChannel(d *Dataset) *Dataset {
	out := *d
	hw := d.H * d.W
	out.C, out.Pix = 1, make([]float32, d.N*hw)
	for i := range d.N {
		copy(out.Pix[i*hw:(i+1)*hw], d.Image(i)[:hw])
	}
	return &out
}

// readNPZImages reads arr_0 of the archive path, the first opt.Limit
// images, and returns the number it holds.
func readNPZImages(f *zip.File, path string, opt Options) (*Dataset, int, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, 0, fmt.Errorf("imageio: %s: arr_0: %w", path, err)
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	h, err := readNPYHeader(br)
	if err == nil {
		err = h.checkSize(int64(f.UncompressedSize64))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("imageio: %s: arr_0: %w", path, err)
	}
	if h.kind != "u" || h.size != 1 {
		return nil, 0, fmt.Errorf("imageio: %s: arr_0 of dtype %s%d: want uint8 images (numpy's |u1)", path, h.kind, h.size)
	}
	if h.fortran {
		return nil, 0, fmt.Errorf("imageio: %s: arr_0 in Fortran order: want C order (numpy.ascontiguousarray)", path)
	}
	s := h.shape
	if len(s) == 3 {
		s = append(s, 1)
	}
	if len(s) != 4 || (s[3] != 1 && s[3] != 3) || s[0] < 1 || s[1] < 1 || s[2] < 1 {
		return nil, 0, fmt.Errorf("imageio: %s: arr_0 of shape %v: want images [N, H, W, C] with C 1 or 3, or [N, H, W]", path, h.shape)
	}
	n, ht, w, c := s[0], s[1], s[2], s[3]
	if opt.Limit > 0 {
		n = min(n, opt.Limit)
	}
	if err := opt.check(path, n, c, ht, w); err != nil {
		return nil, 0, err
	}
	d := &Dataset{Name: path, N: n, C: c, H: ht, W: w, Pix: make([]float32, n*c*ht*w)}
	buf := make([]byte, ht*w*c)
	for i := range n {
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, 0, fmt.Errorf("imageio: %s: arr_0: image %d of %d: %w", path, i, n, err)
		}
		dst := d.Image(i)
		for p := range ht * w {
			for ch := range c {
				dst[ch*ht*w+p] = float32(buf[p*c+ch])/127.5 - 1
			}
		}
	}
	return d, s[0], nil
}

// readNPZLabels reads arr_1, one label for each of the total images of
// arr_0, and keeps the first d.N as d's labels.
func readNPZLabels(d *Dataset, total int, f *zip.File, path string) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("imageio: %s: arr_1: %w", path, err)
	}
	defer rc.Close()
	labels, shape, err := readNPY(rc, int64(f.UncompressedSize64))
	if err != nil {
		return fmt.Errorf("imageio: %s: arr_1: %w", path, err)
	}
	if len(shape) != 1 || shape[0] != total {
		return fmt.Errorf("imageio: %s: arr_1 of shape %v: want [%d] labels, one an image of arr_0", path, shape, total)
	}
	d.Labels = labels[:d.N]
	most := int32(-1)
	for i, l := range d.Labels {
		if l < 0 || l >= MaxClasses {
			return fmt.Errorf("imageio: %s: arr_1[%d] = %d: want a class in [0, %d)", path, i, l, MaxClasses)
		}
		most = max(most, l)
	}
	for c := range most + 1 {
		d.Classes = append(d.Classes, strconv.Itoa(int(c)))
	}
	return nil
}
