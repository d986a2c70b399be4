package imageio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LlamaGen's layout of token grids (its extract_codes_c2i.py), under a root
// folder: for image i,
//
//	ROOT/{dataset}{size}_codes/{i}.npy   int64 (1, num_aug, H*W): augmentation 0 the image, 1 its flip
//	ROOT/{dataset}{size}_labels/{i}.npy  int64 (1,)
//
// LlamaGen's CustomDataset reads {i}.npy for i in range(count) and, when
// "flip" is in the folder's name, picks one augmentation at random.

// LlamaGenDirs names the codes and labels folders of a data set.
func LlamaGenDirs(root, dataset string, size int) (codes, labels string) {
	base := filepath.Join(root, dataset+strconv.Itoa(size))
	return base + "_codes", base + "_labels"
}

// WriteLlamaGen writes grid i (augs: one grid of h*w tokens per
// augmentation) and its label (label < 0: none) in LlamaGen's layout.
func WriteLlamaGen(codesDir, labelsDir string, i int, augs [][]int32, label int32) error {
	n := len(augs[0])
	flat := make([]int64, 0, len(augs)*n)
	for _, a := range augs {
		if len(a) != n {
			return fmt.Errorf("imageio: augmentations of %d and %d tokens", n, len(a))
		}
		for _, v := range a {
			flat = append(flat, int64(v))
		}
	}
	name := strconv.Itoa(i) + ".npy"
	if err := WriteFile(filepath.Join(codesDir, name), func(w io.Writer) error {
		return writeNPYInt64(w, flat, []int{1, len(augs), n})
	}); err != nil {
		return err
	}
	if label < 0 {
		return nil
	}
	return WriteFile(filepath.Join(labelsDir, name), func(w io.Writer) error {
		return writeNPYInt64(w, []int64{int64(label)}, []int{1})
	})
}

// A LlamaGenWriter writes images as token grids in LlamaGen's layout.
type LlamaGenWriter struct {
	Root, Dataset string // the folders ROOT/{Dataset}{Size}_codes and _labels
	Size          int    // image size in the folder names
	Flip          bool   // augmentation 1 is each image mirrored left to right
	Grid          int    // tokens per grid
	// Encode writes the grids of n channel-major images into dst.
	Encode func(dst []int32, images []float32, n int) error
}

// Write writes images i = first, first+step, ... of d as {i}.npy, with
// their labels when d has them; progress, if not nil, hears the images
// written so far and stops the writing with its error.
func (lw LlamaGenWriter) Write(d *Dataset, first, step int, progress func(done int) error) error {
	codes, labels := LlamaGenDirs(lw.Root, lw.Dataset, lw.Size)
	for _, dir := range []string{codes, labels} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	g, per := lw.Grid, d.ImageSize()
	both := make([]float32, 2*per)
	tok := make([]int32, 2*g)
	done := 0
	for i := first; i < d.N; i += step {
		img, augs := d.Image(i), 1
		if lw.Flip {
			copy(both, img)
			flipTo(both[per:], img, d.C, d.H, d.W)
			img, augs = both, 2
		}
		if err := lw.Encode(tok[:augs*g], img, augs); err != nil {
			return err
		}
		grids := [][]int32{tok[:g], tok[g : 2*g]}[:augs]
		label := int32(-1)
		if d.Labels != nil {
			label = d.Labels[i]
		}
		if err := WriteLlamaGen(codes, labels, i, grids, label); err != nil {
			return err
		}
		done++
		if progress != nil {
			if err := progress(done); err != nil {
				return err
			}
		}
	}
	return nil
}

// flipTo writes the horizontal mirror of a channel-major image into dst.
func flipTo(dst, src []float32, c, h, w int) {
	for p := range c * h {
		row, out := src[p*w:(p+1)*w], dst[p*w:(p+1)*w]
		for x := range w {
			out[x] = row[w-1-x]
		}
	}
}

func writeNPYInt64(w io.Writer, data []int64, shape []int) error {
	return writeNPY(w, "<i8", len(data), shape, func(buf []byte, i int) {
		v := uint64(data[i])
		for b := range 8 {
			buf[b] = byte(v >> (8 * b))
		}
	})
}

// IsLlamaGen reports whether dir holds one LlamaGen codes folder.
func IsLlamaGen(dir string) bool {
	_, _, err := llamaGenFolders(dir)
	return err == nil
}

func llamaGenFolders(dir string) (codes, labels string, err error) {
	found, err := filepath.Glob(filepath.Join(dir, "*_codes"))
	if err != nil {
		return "", "", err
	}
	if len(found) != 1 {
		return "", "", fmt.Errorf("imageio: %s: %d folders named *_codes: want one (LlamaGen's layout)", dir, len(found))
	}
	codes = found[0]
	return codes, strings.TrimSuffix(codes, "_codes") + "_labels", nil
}

// LoadLlamaGen reads grids 0, 1, ... of a LlamaGen layout under dir
// (augmentation 0 of each, the image itself) as square grids, with labels
// when the labels folder holds one for every grid.
func LoadLlamaGen(dir string) (*Tokens, error) {
	codes, labels, err := llamaGenFolders(dir)
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(codes, "*.npy"))
	if err != nil {
		return nil, err
	}
	count := len(names)
	if count == 0 {
		return nil, fmt.Errorf("imageio: %s: no grids", codes)
	}
	t := &Tokens{N: count}
	haveLabels := true
	if _, err := os.Stat(labels); err != nil {
		haveLabels = false
	}
	for i := range count {
		path := filepath.Join(codes, strconv.Itoa(i)+".npy")
		v, shape, err := readNPYFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("imageio: %s: %d grids but no %d.npy: want files 0 to %d", codes, count, i, count-1)
		}
		if err != nil {
			return nil, err
		}
		if len(shape) != 3 || shape[0] != 1 || shape[1] < 1 {
			return nil, fmt.Errorf("imageio: %s: shape %v: want (1, augmentations, tokens)", path, shape)
		}
		l := shape[2]
		side := int(math.Sqrt(float64(l)))
		if side*side != l || l == 0 || (t.H != 0 && side != t.H) {
			return nil, fmt.Errorf("imageio: %s: %d tokens: want a square grid like the others", path, l)
		}
		t.H, t.W = side, side
		if t.Codes == nil { // grown as files are read: the count of names is not the count of grids
			t.Codes = make([]int32, 0, min(count*l, 1<<20))
		}
		t.Codes = append(t.Codes, v[:l]...)
		if !haveLabels {
			continue
		}
		lp := filepath.Join(labels, strconv.Itoa(i)+".npy")
		lab, lshape, err := readNPYFile(lp)
		if err != nil {
			return nil, err
		}
		if len(lshape) != 1 || lshape[0] != 1 {
			return nil, fmt.Errorf("imageio: %s: shape %v: want (1,)", lp, lshape)
		}
		t.Labels = append(t.Labels, lab[0])
	}
	if err := t.CheckLabels(nil, labels); err != nil {
		return nil, err
	}
	return t, nil
}
