package rundir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// A Loop drives a training run in Dir: one step at a time, periodic work, a
// checkpoint when the context is cancelled, and errors that say what the
// folder still holds.
type Loop struct {
	Dir      string
	Done     func() int                      // steps done so far
	Total    int                             // steps to reach
	Step     func() (desc string, err error) // one step; desc describes it for Progress
	Periodic []Periodic
	Save     func() error
	Diverged error       // the trainer's sentinel for a NaN or Inf
	Stop     func() bool // when not nil and true, the run ends before Total (early stopping)

	Progress func(done int, desc string)      // after every step; nil: none
	Logf     func(format string, args ...any) // the interruption message; nil: none
}

// Periodic is work done every N steps (never when N <= 0).
type Periodic struct {
	N int
	F func() error
}

// Run steps until Total, or until Stop says to end. On cancellation it saves, says how to continue and
// returns the context's error.
func (l Loop) Run(ctx context.Context) error {
	progress := l.Progress
	if progress == nil {
		progress = func(int, string) {}
	}
	progress(l.Done(), "")
	for l.Done() < l.Total && (l.Stop == nil || !l.Stop()) {
		if ctx.Err() != nil {
			if err := l.Save(); err != nil {
				return l.Kept(err)
			}
			if l.Logf != nil {
				l.Logf("interrupted at step %d: saved %s; continue with --resume", l.Done(), l.Dir)
			}
			return ctx.Err()
		}
		desc, err := l.Step()
		if err != nil {
			if errors.Is(err, l.Diverged) {
				return fmt.Errorf("%w; the last good checkpoint in %s is kept (lower --lr and --resume)", err, l.Dir)
			}
			return err
		}
		progress(l.Done(), desc)
		for _, p := range l.Periodic {
			if p.N > 0 && l.Done()%p.N == 0 {
				if err := p.F(); err != nil {
					return l.Kept(err)
				}
			}
		}
	}
	return nil
}

// Kept says, with a failed write (a full disk, say), that the folder keeps
// its last complete checkpoint, or that it holds none yet: config.json,
// written last, is a checkpoint's commit point.
func (l Loop) Kept(err error) error {
	if _, serr := os.Stat(filepath.Join(l.Dir, ConfigFile)); serr != nil {
		if HasRun(l.Dir) {
			return fmt.Errorf("%w; %s holds %s but no %s yet: fix the cause and continue with --resume, which starts from %s", err, l.Dir, ResumeFile, ConfigFile, ResumeFile)
		}
		return fmt.Errorf("%w; %s holds no complete checkpoint yet: fix the cause and start the run again", err, l.Dir)
	}
	return fmt.Errorf("%w; the last complete checkpoint in %s is kept: fix the cause and continue with --resume", err, l.Dir)
}
