// Package rundir manages the folder of a training run: whether it can take
// a new run, the lock that keeps a second writer out, the temporary files
// of interrupted writes, and metrics.jsonl, cut back to the step a resumed
// run starts from; and Loop, which steps a run, saves it when interrupted
// and says what the folder keeps when a write fails. A checkpoint's commit
// point is its config.json (ConfigFile), written last.
package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/runlock"
)

// The files of a run folder that this package reads: the checkpoint's
// description, its commit point, written last (package nn writes it); the
// state a run resumes from; and the run's log, one JSON object a line, most
// with a "step".
const (
	ConfigFile  = "config.json"
	ResumeFile  = "resume.safetensors"
	MetricsFile = "metrics.jsonl"
)

var (
	// ErrRunning reports a folder that holds a run to resume.
	ErrRunning = errors.New("already holds a training run")
	// ErrModel reports a folder that holds a finished model.
	ErrModel = errors.New("already holds a model")
)

// CheckFresh reports whether dir can take a new run: ErrRunning when it
// holds one, ErrModel when it holds a model and force is not set.
func CheckFresh(dir string, force bool) error {
	if _, err := os.Stat(filepath.Join(dir, ResumeFile)); err == nil {
		return fmt.Errorf("%s %w", dir, ErrRunning)
	}
	_, err := os.Stat(filepath.Join(dir, ConfigFile))
	switch {
	case err == nil && !force:
		return fmt.Errorf("%s %w", dir, ErrModel)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	return nil
}

// HasRun reports whether dir holds a run to continue.
func HasRun(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ResumeFile))
	return err == nil
}

// Rel returns path as a run folder dir records it: relative to dir, with
// forward slashes, so that the two can move together; absolute when no
// relative path leads there.
func Rel(dir, path string) string {
	absDir, err1 := filepath.Abs(dir)
	absPath, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return path
	}
	if rel, err := filepath.Rel(absDir, absPath); err == nil {
		return filepath.ToSlash(rel)
	}
	return absPath
}

// Make creates dir where there is none. undo removes it again if nothing
// was written into it, so that a run rejected after this point leaves no
// empty folder behind.
func Make(dir string) (undo func(), err error) {
	if _, err := os.Stat(dir); err == nil {
		return func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return func() { os.Remove(dir) }, nil // only an empty folder goes
}

// Lock keeps other runs out of dir until release is called, and removes the
// temporary files that interrupted writes left there. logf, if not nil,
// hears of a dead process's lock taken over and of the files removed.
func Lock(dir string, logf func(format string, args ...any)) (release func(), err error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	release, stale, err := runlock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	if stale != 0 {
		logf("%s: took over the lock that process %d left when it ended", dir, stale)
	}
	if n, err := atomicfile.Clean(dir); err != nil {
		release()
		return nil, err
	} else if n > 0 {
		logf("%s: removed %d temporary files of interrupted writes", dir, n)
	}
	return release, nil
}

// TruncateLog drops the lines of a JSON-lines log whose "step" is beyond
// step, so that a resumed run logs each step once. A missing log is empty.
func TruncateLog(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		var head struct{ Step *int }
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if json.Unmarshal(line, &head) == nil && head.Step != nil && *head.Step > step {
			continue
		}
		keep = append(keep, line...)
	}
	if len(keep) == len(b) {
		return nil
	}
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(keep); return err })
}

// Log is a run's metrics.jsonl, open for appending.
type Log struct{ f *os.File }

// Add appends v as one JSON line. A value JSON cannot hold (a NaN) leaves
// the line out; a failed write is an error.
func (l *Log) Add(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("%s: %w", l.f.Name(), err)
	}
	return nil
}

// Start locks dir (see Lock) and opens its metrics log for appending, cut
// back to step; release closes the log and unlocks.
func Start(dir string, step int, logf func(format string, args ...any)) (release func(), metrics *Log, err error) {
	unlock, err := Lock(dir, logf)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, MetricsFile)
	if err := TruncateLog(path, step); err != nil {
		unlock()
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return func() { f.Close(); unlock() }, &Log{f}, nil
}
