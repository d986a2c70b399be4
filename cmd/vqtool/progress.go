package main

import (
	"io"
	"os"

	"golang.org/x/term"

	"github.com/vqtool/vqtool/internal/progress"
)

// stderr receives logs and progress; stderrIsTerminal says whether it is a
// terminal (a bar) or a file or pipe (plain lines at an interval).
var (
	stderr           io.Writer = os.Stderr
	stderrIsTerminal           = func() bool { return term.IsTerminal(int(os.Stderr.Fd())) }
)

// progressOptions sends progress to stderr as --quiet and --progress-every say.
func progressOptions() progress.Options {
	return progress.Options{W: stderr, Terminal: stderrIsTerminal(), Quiet: global.Quiet, Every: global.ProgressEvery}
}

// newBar starts the progress of total steps or items of the work name.
func newBar(total int, name string) *progress.Bar {
	return progress.New(total, name, progressOptions())
}
