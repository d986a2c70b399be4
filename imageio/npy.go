package imageio

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// WriteNPY writes an int32 array of the given shape in NumPy's .npy format
// (version 1.0, little-endian '<i4', C order), readable by numpy.load.
func WriteNPY(w io.Writer, data []int32, shape []int) error {
	return writeNPY(w, "<i4", len(data), shape, func(buf []byte, i int) { binary.LittleEndian.PutUint32(buf, uint32(data[i])) })
}

// WriteNPYInt64 writes int32 values widened to int64 ('<i8') as WriteNPY
// does.
func WriteNPYInt64(w io.Writer, data []int32, shape []int) error {
	return writeNPY(w, "<i8", len(data), shape, func(buf []byte, i int) { binary.LittleEndian.PutUint64(buf, uint64(int64(data[i]))) })
}

// WriteNPYFloat32 writes a float32 array ('<f4') as WriteNPY does.
func WriteNPYFloat32(w io.Writer, data []float32, shape []int) error {
	return writeNPY(w, "<f4", len(data), shape, func(buf []byte, i int) { binary.LittleEndian.PutUint32(buf, math.Float32bits(data[i])) })
}

// npyHeaderBytes returns the magic, version and header of a version 1.0
// .npy file of dtype descr and shape.
func npyHeaderBytes(descr string, shape []int) ([]byte, error) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	// Magic (6) + version (2) + length (2) + header + '\n', padded to 64 bytes.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(header) > math.MaxUint16 {
		return nil, fmt.Errorf("imageio: npy header of %d bytes: too many dimensions", len(header))
	}
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	return append(b, header...), nil
}

// writeNPY writes the header for descr and shape, then n 4-byte values that
// put encodes.
func writeNPY(w io.Writer, descr string, count int, shape []int, put func(buf []byte, i int)) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != count {
		panic("imageio: WriteNPY: shape does not match data")
	}
	head, err := npyHeaderBytes(descr, shape)
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	size := int(descr[len(descr)-1] - '0') // bytes a value: '<i4' 4, '<i8' 8
	buf := make([]byte, size*min(count, 1<<16))
	for done := 0; done < count; {
		k := min(count-done, len(buf)/size)
		for i := range k {
			put(buf[size*i:], done+i)
		}
		if _, err := w.Write(buf[:size*k]); err != nil {
			return err
		}
		done += k
	}
	return nil
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=])([iuf])([1248])'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// maxNPYElems bounds the elements a .npy header may announce (1<<31).
const maxNPYElems = 1 << 31

// npyHeader is what a .npy header says of its array.
type npyHeader struct {
	kind    string // i, u or f
	size    int    // bytes a value
	bo      binary.ByteOrder
	shape   []int
	n       int  // values
	fortran bool // data in column-major order (numpy.save of a transposed array)
	head    int  // bytes of the magic, version and header
}

// checkSize compares the data the header declares with the bytes a file of
// fileSize bytes holds after it (fileSize < 0: unknown).
func (h npyHeader) checkSize(fileSize int64) error {
	if fileSize < 0 {
		return nil
	}
	if need, have := int64(h.n)*int64(h.size), fileSize-int64(h.head); need > have {
		return fmt.Errorf("%w: npy shape %v declares %d bytes of data: the file holds %d after its header", ErrFormat, h.shape, need, max(have, 0))
	}
	return nil
}

// fromFortran returns column-major data of shape in row-major (C) order.
func fromFortran[T any](data []T, shape []int) []T {
	if len(shape) < 2 {
		return data
	}
	stride := make([]int, len(shape)) // C strides
	stride[len(shape)-1] = 1
	for k := len(shape) - 2; k >= 0; k-- {
		stride[k] = stride[k+1] * shape[k+1]
	}
	out := make([]T, len(data))
	idx := make([]int, len(shape))
	for _, v := range data { // the first axis varies fastest
		c := 0
		for k, i := range idx {
			c += i * stride[k]
		}
		out[c] = v
		for k := range idx {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// readNPYHeader reads the magic and header of a .npy stream.
func readNPYHeader(br *bufio.Reader) (npyHeader, error) {
	h := npyHeader{n: 1}
	var pre [8]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return h, fmt.Errorf("%w: npy magic: want 8 bytes: %v", ErrFormat, err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return h, fmt.Errorf("%w: npy magic %q: want \"\\x93NUMPY\"", ErrFormat, pre[:6])
	}
	var hlen int
	switch pre[6] {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return h, fmt.Errorf("%w: npy header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(l[:]))
		h.head = 10 + hlen
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return h, fmt.Errorf("%w: npy header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint32(l[:]))
		if hlen > 1<<20 {
			return h, fmt.Errorf("%w: npy header of %d bytes: want at most 1 MiB", ErrFormat, hlen)
		}
		h.head = 12 + hlen
	default:
		return h, fmt.Errorf("%w: npy version %d.%d: want 1.0, 2.0 or 3.0", ErrFormat, pre[6], pre[7])
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(br, hb); err != nil {
		return h, fmt.Errorf("%w: npy header: want %d bytes: %v", ErrFormat, hlen, err)
	}
	header := string(hb)
	m := npyDescr.FindStringSubmatch(header)
	if m == nil {
		return h, fmt.Errorf("%w: npy dtype in %q: want a number type such as '<i4', '<i8' or '<f4'", ErrFormat, strings.TrimSpace(header))
	}
	h.kind, h.size, h.bo = m[2], int(m[3][0]-'0'), binary.LittleEndian
	if m[1] == ">" {
		h.bo = binary.BigEndian
	}
	f := npyFortran.FindStringSubmatch(header)
	if f == nil {
		return h, fmt.Errorf("%w: npy header %q: no fortran_order", ErrFormat, strings.TrimSpace(header))
	}
	h.fortran = f[1] == "True"
	sm := npyShape.FindStringSubmatch(header)
	if sm == nil {
		return h, fmt.Errorf("%w: npy header %q: no shape", ErrFormat, strings.TrimSpace(header))
	}
	for _, f := range strings.Split(sm[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return h, fmt.Errorf("%w: npy shape (%s): want non-negative integers", ErrFormat, sm[1])
		}
		h.shape = append(h.shape, d)
		if d > 0 && h.n > maxNPYElems/d {
			return h, fmt.Errorf("%w: npy shape (%s): more than %d elements", ErrFormat, sm[1], maxNPYElems)
		}
		h.n *= d
	}
	if h.kind == "f" && h.size < 2 {
		return h, fmt.Errorf("%w: npy dtype f%d: want f2, f4 or f8", ErrFormat, h.size)
	}
	return h, nil
}

// ReadNPY reads an integer .npy array (int8 to int64, uint8 to uint64, either
// byte order, C or Fortran order) into int32 in C order, and returns its shape. A value outside the
// int32 range is an error.
func ReadNPY(r io.Reader) ([]int32, []int, error) { return readNPY(r, -1) }

// readNPY is ReadNPY of a file of fileSize bytes (< 0: unknown).
func readNPY(r io.Reader, fileSize int64) ([]int32, []int, error) {
	br := bufio.NewReader(r)
	h, err := readNPYHeader(br)
	if err == nil {
		err = h.checkSize(fileSize)
	}
	if err != nil {
		return nil, nil, err
	}
	if h.kind == "f" {
		return nil, nil, fmt.Errorf("%w: npy dtype f%d: want an integer type such as '<i4' or '<i8'", ErrFormat, h.size)
	}
	kind, size, bo, shape, n := h.kind, h.size, h.bo, h.shape, h.n
	out := make([]int32, 0, min(n, 1<<20))
	buf := make([]byte, size)
	for i := range n {
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, nil, fmt.Errorf("%w: npy data truncated: shape %v wants %d values of %d bytes, found %d",
				ErrFormat, shape, n, size, i)
		}
		var v int64
		switch {
		case size == 1 && kind == "i":
			v = int64(int8(buf[0]))
		case size == 1:
			v = int64(buf[0])
		case size == 2 && kind == "i":
			v = int64(int16(bo.Uint16(buf)))
		case size == 2:
			v = int64(bo.Uint16(buf))
		case size == 4 && kind == "i":
			v = int64(int32(bo.Uint32(buf)))
		case size == 4:
			v = int64(bo.Uint32(buf))
		case kind == "i":
			v = int64(bo.Uint64(buf))
		default:
			u := bo.Uint64(buf)
			if u > math.MaxInt32 {
				return nil, nil, fmt.Errorf("%w: npy value %d at index %d: outside int32", ErrFormat, u, i)
			}
			v = int64(u)
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, nil, fmt.Errorf("%w: npy value %d at index %d: outside int32", ErrFormat, v, i)
		}
		out = append(out, int32(v))
	}
	if h.fortran {
		out = fromFortran(out, shape)
	}
	return out, shape, nil
}

// Tokens is a set of token grids with optional labels.
type Tokens struct {
	// Codes holds N grids of H x W: token (y, x) of grid i is Codes[(i*H+y)*W+x].
	Codes   []int32
	N, H, W int
	Labels  []int32 // N labels, or nil
	// Classes names the labels' classes, nil when unknown; Tokenizer
	// fingerprints the tokenizer that made the grids, "" when unknown
	// (see Manifest).
	Classes   []string
	Tokenizer string
}

// NumClasses returns the number of classes the labels use (the largest
// plus one), at least len(names); 0 without labels.
func (t *Tokens) NumClasses(names []string) int {
	if t.Labels == nil {
		return 0
	}
	n := len(names)
	for _, l := range t.Labels {
		n = max(n, int(l)+1)
	}
	return n
}

// MaxClasses bounds the classes labels name (0 to MaxClasses-1): a model
// of more classes than this is a labels file's mistake, not a data set.
const MaxClasses = 1 << 16

// CheckLabels reports a label that names no class: one of len(names) or
// more when there are names, one over MaxClasses (or below -1, "no class")
// when there are none; file names the labels' file in the error.
func (t *Tokens) CheckLabels(names []string, file string) error {
	for i, l := range t.Labels {
		switch {
		case l < -1 || int(l) >= MaxClasses:
			return fmt.Errorf("imageio: %s: label %d of grid %d: want a class in [0, %d) (or -1, no class)", file, l, i, MaxClasses)
		case len(names) > 0 && int(l) >= len(names):
			return fmt.Errorf("imageio: %s: label %d of grid %d: the tokenizer names %d classes, 0 to %d", file, l, i, len(names), len(names)-1)
		}
	}
	return nil
}

// Grid returns grid i.
func (t *Tokens) Grid(i int) []int32 { return t.Codes[i*t.H*t.W : (i+1)*t.H*t.W] }

// Head returns the first n grids of t (all of them when n <= 0 or n >= N),
// sharing memory with t.
func (t *Tokens) Head(n int) *Tokens {
	if n <= 0 || n >= t.N {
		return t
	}
	h := *t
	h.Codes, h.N = t.Codes[:n*t.H*t.W], n
	if t.Labels != nil {
		h.Labels = t.Labels[:n]
	}
	return &h
}

// CheckCodes reports a token outside [0, k), naming where it is; file names
// the tokens' file in the error.
func (t *Tokens) CheckCodes(k int, file string) error {
	g := t.H * t.W
	for i, v := range t.Codes {
		if v < 0 || int(v) >= k {
			return fmt.Errorf("%s: token %d of grid %d is %d: the tokenizer has codes 0 to %d", file, i%g, i/g, v, k-1)
		}
	}
	return nil
}

// LabelsPath returns the file beside a token file that holds its labels:
// tokens.npy -> tokens.labels.npy.
func LabelsPath(path string) string {
	return strings.TrimSuffix(path, ".npy") + ".labels.npy"
}

// SaveTokens writes t.Codes as an [N, H, W] int64 .npy file (the index type
// of PyTorch: torch.from_numpy gives a LongTensor that cross_entropy and
// embedding lookups take as it is) and, when there are labels, an [N] int64
// file at LabelsPath(path); ManifestPath(path) commits the two as one (see
// Manifest), with t's class names and tokenizer. LoadTokens reads int32
// files too.
func SaveTokens(path string, t *Tokens) error {
	if path == "-" {
		return fmt.Errorf("imageio: tokens %q: a token file is written with its labels and a manifest beside it, not to standard output: want a path", path)
	}
	mp := ManifestPath(path)
	m := &Manifest{Grids: t.N, Grid: [2]int{t.H, t.W}, Labels: t.Labels != nil, Classes: t.Classes, Tokenizer: t.Tokenizer}
	if err := writeManifest(mp, m); err != nil {
		return err
	}
	m.Files = map[string]string{}
	sum, err := writeHashed(path, func(w io.Writer) error {
		return WriteNPYInt64(w, t.Codes, []int{t.N, t.H, t.W})
	})
	if err != nil {
		return err
	}
	m.Files[filepath.Base(path)] = sum
	lp := LabelsPath(path)
	if t.Labels == nil {
		// A labels file beside it would belong to other grids.
		if err := os.Remove(lp); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	} else {
		sum, err := writeHashed(lp, func(w io.Writer) error {
			return WriteNPYInt64(w, t.Labels, []int{t.N})
		})
		if err != nil {
			return err
		}
		m.Files[filepath.Base(lp)] = sum
	}
	m.Complete = true
	return writeManifest(mp, m)
}

// LoadTokens reads an [N, H, W] token file of any integer type (int64 as
// SaveTokens writes it, int32 as well) and its labels when present, or a
// folder in LlamaGen's layout (see LoadLlamaGen). A manifest beside the
// file must be complete and record these files (else the error is
// ErrIncomplete); a file without one is read as it is.
func LoadTokens(path string) (*Tokens, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return LoadLlamaGen(path)
	}
	mp := ManifestPath(path)
	m, err := readManifest(mp)
	if err != nil {
		return nil, err
	}
	if m != nil && !m.Complete {
		return nil, unfinished(path, mp)
	}
	codes, shape, sum, err := readNPYFileSum(path)
	if err != nil {
		return nil, err
	}
	if m != nil {
		if err := m.checkFile(mp, path, sum); err != nil {
			return nil, err
		}
	}
	if len(shape) != 3 {
		return nil, fmt.Errorf("imageio: %s: shape %v: want [N, H, W] token grids", path, shape)
	}
	t := &Tokens{Codes: codes, N: shape[0], H: shape[1], W: shape[2]}
	if m != nil {
		t.Classes, t.Tokenizer = m.Classes, m.Tokenizer
	}
	lp := LabelsPath(path)
	if _, err := os.Stat(lp); err != nil {
		if m != nil && m.Labels {
			return nil, fmt.Errorf("imageio: %s: %w: %s records labels in %s, which is missing", path, ErrIncomplete, mp, lp)
		}
		return t, nil
	}
	labels, lshape, sum, err := readNPYFileSum(lp)
	if err != nil {
		return nil, err
	}
	if m != nil {
		if err := m.checkFile(mp, lp, sum); err != nil {
			return nil, err
		}
	}
	if len(lshape) != 1 || lshape[0] != t.N {
		return nil, fmt.Errorf("imageio: %s: shape %v: want [%d] labels for %s", lp, lshape, t.N, path)
	}
	t.Labels = labels
	if err := t.CheckLabels(nil, lp); err != nil {
		return nil, err
	}
	return t, nil
}

// openFile opens path and returns its size when it is a regular file, -1
// otherwise.
func openFile(path string) (*os.File, int64, error) {
	f, err := openRegular(path) // a FIFO would block the read forever
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("imageio: %w", err)
	}
	return f, fi.Size(), nil
}

func readNPYFile(path string) ([]int32, []int, error) {
	data, shape, _, err := readNPYFileSum(path)
	return data, shape, err
}

// readNPYFileSum is readNPYFile that also returns the sha256 of the whole
// file.
func readNPYFileSum(path string) ([]int32, []int, string, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, nil, "", err
	}
	defer f.Close()
	h := sha256.New()
	r := io.TeeReader(f, h)
	data, shape, err := readNPY(r, size)
	if err == nil {
		_, err = io.Copy(io.Discard, r) // what follows the array counts too
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("imageio: %s: %w", path, err)
	}
	return data, shape, hexSum(h), nil
}

// Maker is what a tokenizer says of the tokens it makes: codebook size,
// grid side, the fingerprint of its weights ("" for none) and the names of
// the classes its labels count.
type Maker struct {
	CodebookSize, Grid int
	Weights            string
	Classes            []string
}

// MadeBy reports tokens (from file, "" for tokens encoded just now) that m
// could not have made: a code outside its codebook, grids of another side,
// a label beyond its classes, or the fingerprint of another tokenizer's
// weights (tokens of an older vqtool, which carry none, pass that check).
func (t *Tokens) MadeBy(m Maker, file string) error {
	name, labels := file, "the labels of the encoded data"
	if file == "" {
		name = "the encoded data"
	} else {
		labels = LabelsPath(file)
	}
	if err := t.CheckCodes(m.CodebookSize, name); err != nil {
		return err
	}
	if t.H != m.Grid || t.W != m.Grid {
		return fmt.Errorf("imageio: %s holds %dx%d grids: the tokenizer makes %dx%d", name, t.H, t.W, m.Grid, m.Grid)
	}
	if err := t.CheckLabels(m.Classes, labels); err != nil {
		return err
	}
	if t.Tokenizer != "" && m.Weights != "" && t.Tokenizer != m.Weights {
		return fmt.Errorf("imageio: %s: the tokens were made by a tokenizer with weights %s, not the one given (%s): give the tokenizer that encoded them",
			name, short(t.Tokenizer), short(m.Weights))
	}
	return nil
}

// short abbreviates a fingerprint: "sha256:" and 12 digits.
func short(sum string) string {
	if len(sum) > 19 {
		return sum[:19] + "..."
	}
	return sum
}
