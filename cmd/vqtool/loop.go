package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// trainLoop drives a training run: one step at a time with a progress bar,
// periodic work, a checkpoint on interruption, and a clear message when the
// run diverges.
type trainLoop struct {
	name     string
	out      string                          // the checkpoint folder, for messages
	done     func() int                      // steps done so far
	total    int                             // steps to reach
	step     func() (desc string, err error) // one step; desc goes on the progress bar
	periodic []periodic
	save     func() error
	diverged error // the trainer's sentinel for a NaN or Inf
}

// periodic is work done every n steps (never when n <= 0).
type periodic struct {
	n int
	f func() error
}

func (l trainLoop) run(ctx context.Context) error {
	bar := newBar(l.total, l.name)
	defer bar.Finish()
	_ = bar.Set(l.done())
	for l.done() < l.total {
		if ctx.Err() != nil {
			if err := l.save(); err != nil {
				return l.kept(err)
			}
			logf("interrupted at step %d: saved %s; continue with --resume", l.done(), l.out)
			return ctx.Err()
		}
		desc, err := l.step()
		if err != nil {
			if errors.Is(err, l.diverged) {
				return fmt.Errorf("%w; the last good checkpoint in %s is kept (lower --lr and --resume)", err, l.out)
			}
			return err
		}
		bar.Describe(desc)
		_ = bar.Set(l.done())
		for _, p := range l.periodic {
			if p.n > 0 && l.done()%p.n == 0 {
				if err := p.f(); err != nil {
					return l.kept(err)
				}
			}
		}
	}
	return nil
}

// kept says, with a failed write (a full disk, say), that the folder keeps
// its last complete checkpoint, or that it holds none yet: config.json, written
// last, is a checkpoint's commit point.
func (l trainLoop) kept(err error) error {
	if _, serr := os.Stat(filepath.Join(l.out, "config.json")); serr != nil {
		return fmt.Errorf("%w; %s holds no complete checkpoint yet: fix the cause and start the run again", err, l.out)
	}
	return fmt.Errorf("%w; the last complete checkpoint in %s is kept: fix the cause and continue with --resume", err, l.out)
}
