package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Fault makes Write fail as a full disk or a kill would, for tests of
// outputs of several files: the nth file written from now on (1-based; 0:
// none) fails before its first byte, after kill, if not nil, has run (a
// test copies the output as it stands then: what a kill there would leave);
// and every file fails with ENOSPC once limit bytes have been written in all
// (limit < 0: no limit). restore puts Write back.
func Fault(nth int, limit int64, kill func()) (restore func()) {
	files, written := 0, int64(0)
	Hook = func(path string, w io.Writer) io.Writer {
		files++
		if files == nth {
			if kill != nil {
				kill()
			}
			return &fullDisk{w: w, left: new(int64)}
		}
		if limit < 0 {
			return w
		}
		return &fullDisk{w: w, left: &written, limit: limit}
	}
	return func() { Hook = nil }
}

// fullDisk fails a write that would take *left beyond limit.
type fullDisk struct {
	w     io.Writer
	left  *int64 // bytes written so far, shared by the files of one Fault
	limit int64
}

func (d *fullDisk) Write(p []byte) (int, error) {
	room := d.limit - *d.left
	if int64(len(p)) <= room {
		*d.left += int64(len(p))
		return d.w.Write(p)
	}
	n, _ := d.w.Write(p[:max(room, 0)])
	*d.left += int64(n)
	return n, &os.PathError{Op: "write", Path: "(fault)", Err: syscall.ENOSPC}
}

// CopyTree copies the folder src, files and folders, to dst: what a test
// keeps of an output at the moment of a simulated kill.
func CopyTree(dst, src string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}
