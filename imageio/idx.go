package imageio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// IDX is an array read from an IDX file (the MNIST format): unsigned bytes
// with up to four dimensions, row-major.
type IDX struct {
	Dims []int
	Data []byte
}

// maxIDXBytes bounds the data an IDX header may announce (4 GiB).
const maxIDXBytes = 1 << 32

// ErrFormat reports data that is not in the expected format.
var ErrFormat = errors.New("imageio: unexpected format")

// ReadIDX reads an IDX array, gzipped or raw. Only unsigned-byte data (type
// code 0x08) is supported, the type every MNIST-like set uses.
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header: %v", ErrFormat, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var head [4]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return nil, fmt.Errorf("%w: IDX magic: want 4 bytes: %v", ErrFormat, err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("%w: IDX magic % x: want 00 00 08 <dims>", ErrFormat, head)
	}
	if head[2] != 0x08 {
		return nil, fmt.Errorf("%w: IDX type code 0x%02x: want 0x08 (unsigned byte)", ErrFormat, head[2])
	}
	nd := int(head[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("%w: IDX with %d dimensions: want 1 to 4", ErrFormat, nd)
	}
	dims := make([]int, nd)
	size := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%w: IDX header: want %d dimensions, read %d: %v", ErrFormat, nd, i, err)
		}
		dims[i] = int(d)
		if d > 0 && size > maxIDXBytes/int(d) {
			return nil, fmt.Errorf("%w: IDX dimensions %v: more than %d bytes", ErrFormat, dims[:i+1], maxIDXBytes)
		}
		size *= int(d)
	}
	var buf bytes.Buffer
	buf.Grow(min(size, 64<<20))
	n, err := io.CopyN(&buf, br, int64(size))
	if err != nil {
		return nil, fmt.Errorf("%w: IDX truncated: dimensions %v want %d bytes of data, found %d: %v",
			ErrFormat, dims, size, n, err)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}
