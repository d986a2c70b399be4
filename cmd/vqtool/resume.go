package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/runlock"
	"github.com/vqtool/vqtool/nn"
)

// changeableOnResume are the flags of a training command that do not define
// its run: where it writes, how often it reports and saves, how it prints.
// Every other flag is saved with the run and restored by --resume.
var changeableOnResume = map[string]bool{"resume": true, "out": true, "json": true, "quiet": true, "help": true, "force": true,
	"save-every": true, "eval-every": true, "grid-every": true, "sample-cfg": true, "eval-limit": true}

// runFlags returns the values of the flags that define a run.
func runFlags(cmd *cobra.Command) map[string]string {
	m := map[string]string{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !changeableOnResume[f.Name] {
			m[f.Name] = f.Value.String()
		}
	})
	return m
}

// restoreRunFlags gives the flags of a resumed run the values it was started
// with. A flag given now with another value is an error that names it, its
// saved value and the given one: a resumed run keeps its settings.
func restoreRunFlags(cmd *cobra.Command, saved map[string]string, dir string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		v, ok := saved[f.Name]
		if err != nil || !ok || changeableOnResume[f.Name] {
			return
		}
		if f.Changed {
			if got := f.Value.String(); got != v {
				err = usagef("--%s %s: the run in %s was started with --%s %s, and --resume keeps a run's settings (leave the flag out, or start a new run)",
					f.Name, got, dir, f.Name, v)
			}
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("%s: saved --%s %q: %w", filepath.Join(dir, nn.ConfigFile), f.Name, v, e)
		}
	})
	return err
}

// checkFresh refuses to start a run in a folder that holds one, or that
// holds a model, unless force is set.
func checkFresh(dir string, force bool) error {
	if _, err := os.Stat(filepath.Join(dir, nn.ResumeFile)); err == nil {
		return usagef("%s already holds a training run: continue it with --resume, or choose another --out", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, nn.ConfigFile)); err == nil && !force {
		return usagef("%s already holds a model: choose another --out, or --force to overwrite it", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// makeRunDir creates a run's folder where there is none. undo removes it
// again if nothing was written into it, so that a run rejected after this
// point leaves no empty folder behind.
func makeRunDir(dir string) (undo func(), err error) {
	if _, err := os.Stat(dir); err == nil {
		return func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return func() { os.Remove(dir) }, nil // only an empty folder goes
}

// lockRun keeps other runs out of dir until release is called.
func lockRun(dir string) (release func(), err error) {
	release, stale, err := runlock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	if stale != 0 {
		logf("%s: took over the lock of process %d, which is gone", dir, stale)
	}
	if n, err := atomicfile.Clean(dir); err != nil {
		release()
		return nil, err
	} else if n > 0 {
		logf("%s: removed %d temporary files of interrupted writes", dir, n)
	}
	return release, nil
}

// truncateLog drops the lines of a JSON-lines log whose "step" is beyond
// step, so that a resumed run logs each step once.
func truncateLog(path string, step int) error {
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

// startRun locks a run's folder and opens its metrics.jsonl for appending,
// cut back to step; release unlocks and closes.
func startRun(dir string, step int) (release func(), metrics *os.File, err error) {
	unlock, err := lockRun(dir)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, "metrics.jsonl")
	if err := truncateLog(path, step); err != nil {
		unlock()
		return nil, nil, err
	}
	if metrics, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		unlock()
		return nil, nil, err
	}
	return func() { metrics.Close(); unlock() }, metrics, nil
}
