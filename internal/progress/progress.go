// Package progress reports a long command's work: a bar on a terminal; on
// a file or a pipe (nohup, Slurm, Kubernetes), a plain line at an interval
// (done/total, a description, rate, ETA) and one at the end; nothing when
// quiet.
package progress

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Interval is how often a plain line is printed: every Every, or every N
// steps or items. As a flag it reads a duration ("30s") or a count ("50").
type Interval struct {
	Every time.Duration
	N     int
}

func (v *Interval) Type() string { return "interval" }

func (v *Interval) String() string {
	if v.N > 0 {
		return strconv.Itoa(v.N)
	}
	return v.Every.String()
}

func (v *Interval) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return fmt.Errorf("%q: want a count >= 1 or a duration such as 30s", s)
		}
		*v = Interval{N: n}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want a duration such as 30s or a count of steps such as 50", s)
	}
	*v = Interval{Every: d}
	return nil
}

// DefaultEvery is the interval of plain lines when none is given.
const DefaultEvery = 30 * time.Second

// Options say where progress goes and how.
type Options struct {
	W        io.Writer
	Terminal bool     // W is a terminal: a bar; otherwise plain lines
	Quiet    bool     // nothing at all
	Every    Interval // of plain lines; zero: DefaultEvery
}

// A Bar reports the progress of one piece of work.
type Bar struct {
	w     io.Writer
	name  string
	total int
	bar   *progressbar.ProgressBar // on a terminal
	plain bool
	every Interval

	mu              sync.Mutex
	desc            string
	start           time.Time
	first, done     int // done at the start (a resumed run) and now
	lastAt          time.Time
	lastDone        int
	printedFinished bool
}

// New starts the progress of total steps or items of the work name.
func New(total int, name string, o Options) *Bar {
	p := &Bar{w: o.W, name: name, total: total, start: time.Now(), first: -1, every: o.Every}
	switch {
	case o.Quiet:
	case o.Terminal:
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(o.W),
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
		if p.every == (Interval{}) {
			p.every.Every = DefaultEvery
		}
	}
	p.lastAt = p.start
	return p
}

// Describe sets what follows the count: the loss, the last evaluation.
func (p *Bar) Describe(desc string) {
	if p.bar != nil {
		p.bar.Describe(p.name + " " + desc)
	}
	p.mu.Lock()
	p.desc = desc
	p.mu.Unlock()
}

// Set reports done steps or items so far.
func (p *Bar) Set(done int) error {
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
	due := p.every.N > 0 && done-p.lastDone >= p.every.N || p.every.N == 0 && now.Sub(p.lastAt) >= p.every.Every
	if due && done > p.lastDone {
		p.line(now)
	}
	return nil
}

// Finish ends the bar, or prints the last plain line.
func (p *Bar) Finish() error {
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
func (p *Bar) line(now time.Time) {
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
	_, _ = fmt.Fprintln(p.w, b.String())
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

// Runs is the progress of a sequence of named training runs (a study's):
// one bar or series of lines a run.
type Runs struct {
	Options
	run string
	bar *Bar
}

// Step hears step of steps of run, with its loss.
func (r *Runs) Step(run string, step, steps int, loss float64) {
	if run != r.run || r.bar == nil {
		r.Finish()
		r.run, r.bar = run, New(steps, "run "+run, r.Options)
	}
	r.bar.Describe(fmt.Sprintf("loss %.3f", loss))
	_ = r.bar.Set(step)
}

// Finish ends the bar of the last run.
func (r *Runs) Finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}
