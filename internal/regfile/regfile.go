// Package regfile opens files for reading only when they are regular files:
// opening a named pipe waits for a writer that may never come, and a device
// such as /dev/zero never ends.
package regfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Check refuses a file that is not a regular one, naming path and what it
// is (and where a link leads); fi is what os.Stat says of path.
func Check(path string, fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch t := fi.Mode().Type(); {
	case t&fs.ModeDir != 0:
		what = "a folder"
	case t&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case t&fs.ModeSocket != 0:
		what = "a socket"
	case t&fs.ModeDevice != 0, t&fs.ModeCharDevice != 0:
		what = "a device"
	}
	if target, err := os.Readlink(path); err == nil {
		what += " (a link to " + target + ")"
	}
	return fmt.Errorf("%s is %s: want a regular file", path, what)
}

// Open opens path for reading when it is a regular file (a symbolic link
// to one is fine), checked before it is opened, and returns its size.
func Open(path string) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := Check(path, fi); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
