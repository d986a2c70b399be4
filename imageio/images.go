package imageio

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // register decoders
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/disintegration/imaging"

	"github.com/vqtool/vqtool/internal/regfile"
)

// Fit says how an image is brought to the target size.
type Fit string

const (
	FitResize Fit = "resize" // stretch to the target size
	FitCrop   Fit = "crop"   // scale to cover, then center-crop
	FitPad    Fit = "pad"    // scale to fit inside, then pad with white
)

// ParseFit checks a --fit value.
func ParseFit(s string) (Fit, error) {
	switch f := Fit(s); f {
	case FitResize, FitCrop, FitPad:
		return f, nil
	case "":
		return FitCrop, nil
	}
	return "", fmt.Errorf("imageio: fit %q: want resize, crop or pad", s)
}

// imageExts lists the file name extensions read as images.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif"}

// IsImageFile reports whether name has an image extension.
func IsImageFile(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// openRegular opens path for reading when it is a regular file (see
// regfile.Open).
func openRegular(path string) (*os.File, error) {
	f, _, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imageio: %w", err)
	}
	return f, nil
}

// DecodeFile reads one PNG, JPEG or GIF file, composited onto white where it
// has transparency.
func DecodeFile(path string) (image.Image, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("imageio: decode %s: %w", path, err)
	}
	return img, nil
}

// maxPixels bounds the pixels of an image file: 64 megapixels.
const maxPixels = 64 << 20

// DecodeConfigFile reads the header of an image file: its size and color
// model, checked against maxPixels, without decoding its pixels.
func DecodeConfigFile(path string) (image.Config, error) {
	f, err := openRegular(path)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	cfg, err := decodeConfig(bufio.NewReader(f))
	if err != nil {
		return cfg, fmt.Errorf("imageio: decode %s: %w", path, err)
	}
	return cfg, nil
}

// decodeConfig reads an image header and refuses a size that is absurd.
func decodeConfig(r io.Reader) (image.Config, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return cfg, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/cfg.Height {
		return cfg, fmt.Errorf("%w: image of %dx%d pixels: want 1 to 64 megapixels", ErrFormat, cfg.Width, cfg.Height)
	}
	return cfg, nil
}

// Decode reads a PNG, JPEG or GIF image, composited onto white where it has
// transparency. Images over 64 megapixels are refused by their header,
// before decoding.
func Decode(r io.Reader) (image.Image, error) {
	br := bufio.NewReaderSize(r, 1<<20) // room for JPEG headers with large metadata
	if _, err := decodeConfig(&peekReader{br: br}); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(br)
	if err != nil {
		return nil, err
	}
	return onWhite(img), nil
}

// peekReader reads from a bufio.Reader without consuming, so that
// DecodeConfig can look at a header that Decode then reads again.
type peekReader struct {
	br  *bufio.Reader
	off int
}

func (p *peekReader) Read(b []byte) (int, error) {
	want := p.off + len(b)
	buf, err := p.br.Peek(min(want, p.br.Size()))
	if len(buf) <= p.off {
		if err == nil || err == bufio.ErrBufferFull {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	n := copy(b, buf[p.off:])
	p.off += n
	return n, nil
}

// onWhite composites an image with an alpha channel onto a white background.
func onWhite(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	dst := image.NewNRGBA(b)
	draw.Draw(dst, b, image.White, image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}

// FitImage brings img to w x h pixels by fit.
func FitImage(img image.Image, w, h int, fit Fit) image.Image {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		return img
	}
	switch fit {
	case FitResize:
		return imaging.Resize(img, w, h, imaging.Lanczos)
	case FitPad:
		small := imaging.Fit(img, w, h, imaging.Lanczos)
		bg := imaging.New(w, h, color.White)
		return imaging.PasteCenter(bg, small)
	default:
		return imaging.Fill(img, w, h, imaging.Center, imaging.Lanczos)
	}
}

// isGray reports whether every pixel of img has equal red, green and blue.
func isGray(img image.Image) bool {
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r != g || g != bl {
				return false
			}
		}
	}
	return true
}

// PixelsTo writes img, which must be w x h, into dst as c channels
// (1 gray or 3 RGB) of float32 in [-1, 1], channel-major.
func PixelsTo(dst []float32, img image.Image, c int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if len(dst) != c*w*h {
		panic("imageio: PixelsTo: dst length mismatch")
	}
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			if c == 1 {
				// ITU-R 601 luma, as color.GrayModel.
				l := (19595*r + 38470*g + 7471*bl + 1<<15) >> 24
				dst[y*w+x] = float32(l)/127.5 - 1
				continue
			}
			dst[y*w+x] = float32(r>>8)/127.5 - 1
			dst[(h+y)*w+x] = float32(g>>8)/127.5 - 1
			dst[(2*h+y)*w+x] = float32(bl>>8)/127.5 - 1
		}
	}
}

// listImages returns the image files under root, sorted, and the name of the
// folder directly under root that holds each (empty for files at the top).
func listImages(root string) (paths, classes []string, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !IsImageFile(path) {
			return nil
		}
		if !d.Type().IsRegular() { // a link is read when it leads to a regular file
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			if err := regfile.Check(path, fi); err != nil {
				return err
			}
		}
		rel, _ := filepath.Rel(root, path)
		class := ""
		if i := strings.IndexRune(rel, filepath.Separator); i >= 0 {
			class = rel[:i]
		}
		paths = append(paths, path)
		classes = append(classes, class)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("imageio: read folder %s: %w", root, err)
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("imageio: folder %s holds no .png, .jpg or .gif files", root)
	}
	return paths, classes, nil // WalkDir visits in lexical order
}
