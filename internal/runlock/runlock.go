// Package runlock keeps two runs out of one folder: an operating-system lock
// on a file in it (github.com/gofrs/flock: flock(2) on Unix, LockFileEx on
// Windows). The system releases the lock when the holder's process ends, however
// it ends, so a lock is never stale and no process id is ever tested for
// life (ids are reused). The file also holds the writer's process id, to
// name it; release removes the file.
package runlock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// File is the lock's name inside the folder.
const File = ".vqtool.lock"

// ErrBusy reports a folder another live process is writing.
var ErrBusy = errors.New("in use")

// pidAt is where the process id starts in the file. On Windows flock locks
// byte 0, which no other handle may then read or write; the id lies after
// it so that a second run can name the holder.
const pidAt = 1

// pidWidth is the room the id takes (padded with spaces), enough for any
// process id, so that rewriting it never needs a truncation.
const pidWidth = 20

// Acquire locks dir (creating it) for this process. It returns the function
// that releases the lock, and stale, the id of a process that held the lock
// and ended without releasing it (0 when there was none): its file was left
// behind and is taken over.
func Acquire(dir string) (release func(), stale int, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	path := filepath.Join(dir, File)
	for range 3 {
		fl := flock.New(path, flock.SetPermissions(0o644))
		ok, err := fl.TryLock()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: lock %s: %w", dir, path, err)
		}
		if !ok {
			if pid := readPID(path); pid > 0 {
				return nil, 0, fmt.Errorf("%s: %w by process %d (lock %s): wait for that run, or stop it", dir, ErrBusy, pid, path)
			}
			return nil, 0, fmt.Errorf("%s: %w by another process (lock %s): wait for that run, or stop it", dir, ErrBusy, path)
		}
		// A holder that released meanwhile removed the file this lock is
		// on; the next run creates a new one, so this lock guards nothing.
		held, serr := fl.Stat()
		now, perr := os.Stat(path)
		if serr != nil || perr != nil || !os.SameFile(held, now) {
			fl.Unlock()
			continue
		}
		stale = readPID(path)
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			unlock(fl, nil, path)
			return nil, 0, err
		}
		if err := writePID(w, os.Getpid()); err != nil {
			unlock(fl, w, path)
			return nil, 0, err
		}
		return func() {
			writePID(w, 0) // a file left behind names no one
			unlock(fl, w, path)
		}, stale, nil
	}
	return nil, 0, fmt.Errorf("%s: %w: could not take the lock %s", dir, ErrBusy, path)
}

// unlock removes the lock file and releases the lock. Unix removes the
// file while the lock is held, so that no run takes a lock on it once it is
// gone. Windows removes no file that is open: there it goes once the
// handles are closed, and stays if another run has opened it meanwhile.
func unlock(fl *flock.Flock, w *os.File, path string) {
	rerr := os.Remove(path)
	fl.Unlock()
	if w != nil {
		w.Close()
	}
	if rerr != nil {
		os.Remove(path)
	}
}

// writePID writes pid (0: none) at pidAt, padded to pidWidth. Byte 0 gets
// a newline where it can be written (on Windows it is locked): it covers
// the first digit of a lock file that an older vqtool left, which held the
// id from byte 0.
func writePID(w *os.File, pid int) error {
	s := ""
	if pid > 0 {
		s = strconv.Itoa(pid)
	}
	w.WriteAt([]byte{'\n'}, 0)
	_, err := w.WriteAt(fmt.Appendf(nil, "%-*s\n", pidWidth, s), pidAt)
	return err
}

// readPID returns the process id the lock file at path holds, or 0 when it
// holds none or cannot be read. Where byte 0 is locked (Windows) the file
// is read from pidAt; there byte 0 of a new file is a NUL.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		f, ferr := os.Open(path)
		if ferr != nil {
			return 0
		}
		defer f.Close()
		b = make([]byte, pidWidth+1)
		n, rerr := f.ReadAt(b, pidAt)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return 0
		}
		b = b[:n]
	}
	pid, err := strconv.Atoi(strings.Trim(string(b), "\x00 \t\r\n"))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
