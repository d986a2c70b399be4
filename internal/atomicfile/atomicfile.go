// Package atomicfile writes files so that readers never see a partial one.
package atomicfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Hook, when not nil, wraps the writer of every file Write writes (path is
// the file's final name). Tests set it to simulate a full disk (a writer
// that fails) or a kill (one that copies the folder as it stands, then
// fails); nothing else sets it.
var Hook func(path string, w io.Writer) io.Writer

// Write writes a file through write, to a temporary name in the same folder
// that is renamed to path once complete: a failed or killed write leaves the
// previous file, if any, untouched.
func Write(path string, write func(w io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	if Hook != nil {
		w = Hook(path, bw)
	}
	if err = write(w); err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Clean removes the temporary files that interrupted writes left in dir
// (not in its subfolders) and returns how many it removed. Call it only while
// no write into dir is under way.
func Clean(dir string) (int, error) {
	names, err := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if err := os.Remove(name); err == nil {
			n++
		}
	}
	return n, nil
}

// Copy copies the file src to dst as Write writes it.
func Copy(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return Write(dst, func(w io.Writer) error { _, err := io.Copy(w, in); return err })
}

// WriteJSON writes v to path as indented JSON, atomically (see Write).
func WriteJSON(path string, v any) error {
	return Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
