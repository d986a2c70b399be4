package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// stderr receives logs and progress; stderrIsTerminal says whether it is a
// terminal (a bar) or a file or pipe (plain lines at an interval).
var (
	stderr           io.Writer = os.Stderr
	stderrIsTerminal           = func() bool { return term.IsTerminal(int(os.Stderr.Fd())) }
)

// interval is the --progress-every flag: a duration ("30s") or a count of
// steps or items ("50").
type interval struct {
	every time.Duration
	n     int
}

func (v *interval) Type() string { return "interval" }

func (v *interval) String() string {
	if v.n > 0 {
		return strconv.Itoa(v.n)
	}
	return v.every.String()
}

func (v *interval) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return fmt.Errorf("%q: want a count >= 1 or a duration such as 30s", s)
		}
		*v = interval{n: n}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want a duration such as 30s or a count of steps such as 50", s)
	}
	*v = interval{every: d}
	return nil
}

// defaultProgressEvery is the interval of plain progress lines.
const defaultProgressEvery = 30 * time.Second

// A progress reports a long command's work on stderr: a bar on a terminal;
// when stderr is a file or a pipe (nohup, Slurm, Kubernetes), a plain line
// at the interval of --progress-every (done/total, the description, rate,
// ETA) and one at the end; nothing under --quiet.
type progress struct {
	name  string
	total int
	bar   *progressbar.ProgressBar // on a terminal
	plain bool
	every interval

	mu              sync.Mutex
	desc            string
	start           time.Time
	first, done     int // done at the start (a resumed run) and now
	lastAt          time.Time
	lastDone        int
	printedFinished bool
}

// newBar starts the progress of total steps or items of the work name.
func newBar(total int, name string) *progress {
	p := &progress{name: name, total: total, start: time.Now(), first: -1, every: global.ProgressEvery}
	switch {
	case global.Quiet:
	case stderrIsTerminal():
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("it"),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
	default:
		p.plain = true
		if p.every == (interval{}) {
			p.every.every = defaultProgressEvery
		}
	}
	p.lastAt = p.start
	return p
}

// Describe sets what follows the count: the loss, the last evaluation.
func (p *progress) Describe(desc string) {
	if p.bar != nil {
		p.bar.Describe(p.name + " " + desc)
	}
	p.mu.Lock()
	p.desc = desc
	p.mu.Unlock()
}

// Set reports done steps or items so far.
func (p *progress) Set(done int) error {
	if p.bar != nil {
		return p.bar.Set(done)
	}
	if !p.plain {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.first < 0 {
		p.first, p.start, p.lastAt, p.lastDone = done, now, now, done
	}
	p.done = done
	due := p.every.n > 0 && done-p.lastDone >= p.every.n || p.every.n == 0 && now.Sub(p.lastAt) >= p.every.every
	if due && done > p.lastDone {
		p.line(now)
	}
	return nil
}

// Finish ends the bar, or prints the last plain line.
func (p *progress) Finish() error {
	if p.bar != nil {
		return p.bar.Finish()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plain && p.done > p.lastDone {
		p.line(time.Now())
	}
	return nil
}

// line prints "name: done/total (pct), desc, rate, elapsed, ETA".
func (p *progress) line(now time.Time) {
	p.lastAt, p.lastDone = now, p.done
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d/%d", p.name, p.done, p.total)
	if p.total > 0 {
		fmt.Fprintf(&b, " (%.0f%%)", 100*float64(p.done)/float64(p.total))
	}
	if p.desc != "" {
		b.WriteString(", " + p.desc)
	}
	secs := now.Sub(p.start).Seconds()
	if n := p.done - p.first; n > 0 && secs > 0 {
		rate := float64(n) / secs
		prec := 1
		if rate >= 100 {
			prec = 0
		}
		fmt.Fprintf(&b, ", %.*f/s, elapsed %s", prec, rate, roundDuration(secs))
		if left := p.total - p.done; left > 0 {
			fmt.Fprintf(&b, ", ETA %s", roundDuration(float64(left)/rate))
		}
	}
	fprintf(stderr, "%s\n", b.String())
}

// roundDuration writes seconds as a duration to the second (to the
// millisecond below 10 s).
func roundDuration(secs float64) time.Duration {
	d := time.Duration(secs * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

// runsProgress is the progress of a sequence of named training runs (the
// study's): one bar or series of lines a run.
type runsProgress struct {
	run string
	bar *progress
}

func runProgress() *runsProgress { return &runsProgress{} }

// step hears step of steps of run, with its loss.
func (r *runsProgress) step(run string, step, steps int, loss float64) {
	if run != r.run || r.bar == nil {
		r.finish()
		r.run, r.bar = run, newBar(steps, "run "+run)
	}
	r.bar.Describe(fmt.Sprintf("loss %.3f", loss))
	_ = r.bar.Set(step)
}

func (r *runsProgress) finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}
