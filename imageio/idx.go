package imageio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
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

// idxStream is an IDX array whose header has been read and whose data is
// still to come.
type idxStream struct {
	Dims []int
	Size int  // bytes of data the dimensions declare
	Head int  // bytes of the header
	Gzip bool // the data is inflated as it is read
	data *bufio.Reader
	zr   *gzip.Reader
}

// openIDX reads the header of an IDX array, gzipped or raw. Only
// unsigned-byte data (type code 0x08) is supported, the type every
// MNIST-like set uses.
func openIDX(r io.Reader) (*idxStream, error) {
	s := &idxStream{data: bufio.NewReader(r)}
	if magic, err := s.data.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(s.data)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header: %v", ErrFormat, err)
		}
		s.zr, s.Gzip, s.data = zr, true, bufio.NewReader(zr)
	}
	var head [4]byte
	if _, err := io.ReadFull(s.data, head[:]); err != nil {
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
	s.Dims, s.Size, s.Head = make([]int, nd), 1, 4+4*nd
	for i := range s.Dims {
		var d uint32
		if err := binary.Read(s.data, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%w: IDX header: want %d dimensions, read %d: %v", ErrFormat, nd, i, err)
		}
		s.Dims[i] = int(d)
		if d > 0 && s.Size > maxIDXBytes/int(d) {
			return nil, fmt.Errorf("%w: IDX dimensions %v: more than %d bytes", ErrFormat, s.Dims[:i+1], maxIDXBytes)
		}
		s.Size *= int(d)
	}
	return s, nil
}

// checkSize compares the data the dimensions declare with the bytes a raw
// file of fileSize bytes holds after its header; a gzipped file's data is
// only known as it is inflated, and fileSize < 0 is unknown.
func (s *idxStream) checkSize(fileSize int64) error {
	if s.Gzip || fileSize < 0 {
		return nil
	}
	if have := fileSize - int64(s.Head); int64(s.Size) > have {
		return fmt.Errorf("%w: IDX dimensions %v declare %d bytes of data: the file holds %d after its header",
			ErrFormat, s.Dims, s.Size, max(have, 0))
	}
	return nil
}

// readTo reads the first n bytes of data, calling put with each piece as
// it arrives, so that what is kept grows with the bytes read, not with the
// bytes declared; a gzipped stream is inflated no further than n.
func (s *idxStream) readTo(ctx context.Context, n int, put func(b []byte)) error {
	var buf [64 << 10]byte
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped after %d of %d bytes: %w", done, n, err)
		}
		k, err := io.ReadFull(s.data, buf[:min(len(buf), n-done)])
		put(buf[:k])
		done += k
		if err != nil {
			return fmt.Errorf("%w: IDX truncated: dimensions %v want %d bytes of data, found %d: %v",
				ErrFormat, s.Dims, s.Size, done, err)
		}
	}
	return nil
}

func (s *idxStream) close() {
	if s.zr != nil {
		s.zr.Close()
	}
}

// ReadIDX reads an IDX array, gzipped or raw. Only unsigned-byte data (type
// code 0x08) is supported, the type every MNIST-like set uses.
func ReadIDX(r io.Reader) (*IDX, error) {
	s, err := openIDX(r)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var buf bytes.Buffer
	buf.Grow(min(s.Size, 64<<20))
	if err := s.readTo(context.Background(), s.Size, func(b []byte) { buf.Write(b) }); err != nil {
		return nil, err
	}
	return &IDX{Dims: s.Dims, Data: buf.Bytes()}, nil
}
