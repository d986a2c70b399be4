// Package runlock keeps two runs out of one folder: a lock file that holds
// the writer's process id, taken with O_EXCL and removed on release. A lock
// left by a process that is gone is reported and taken over.
package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// File is the lock's name inside the folder.
const File = ".vqtool.lock"

// ErrBusy reports a folder another live process is writing.
var ErrBusy = errors.New("in use")

// Acquire locks dir (creating it) for this process. It returns the function
// that releases the lock, and stale, the id of a dead process whose lock it
// replaced (0 when there was none).
func Acquire(dir string) (release func(), stale int, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	path := filepath.Join(dir, File)
	for range 3 {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, 0, werr
			}
			return func() { os.Remove(path) }, stale, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, 0, err
		}
		b, rerr := os.ReadFile(path)
		if errors.Is(rerr, os.ErrNotExist) {
			continue // released meanwhile
		}
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if rerr != nil || perr != nil || pid <= 0 {
			return nil, 0, fmt.Errorf("%s: %w: its lock %s does not hold a process id (remove it if no run is writing there)", dir, ErrBusy, path)
		}
		if alive(pid) {
			return nil, 0, fmt.Errorf("%s: %w by process %d (lock %s): wait for that run, or stop it", dir, ErrBusy, pid, path)
		}
		os.Remove(path)
		stale = pid
	}
	return nil, 0, fmt.Errorf("%s: %w: could not take the lock %s", dir, ErrBusy, path)
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
