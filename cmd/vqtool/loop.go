package main

import (
	"context"

	"github.com/vqtool/vqtool/internal/rundir"
)

// runLoop runs a training loop with a progress bar named name and the
// interruption message on stderr.
func runLoop(ctx context.Context, name string, l rundir.Loop) error {
	bar := newBar(l.Total, name)
	defer bar.Finish()
	l.Progress = func(done int, desc string) {
		if desc != "" {
			bar.Describe(desc)
		}
		_ = bar.Set(done)
	}
	l.Logf = logf
	return l.Run(ctx)
}
