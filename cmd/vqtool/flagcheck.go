package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// span is the range a numeric flag's values must fall in: [lo, hi], with
// either end open when marked so, and 0 besides when it stands for a
// default.
type span struct {
	lo, hi         float64
	loOpen, hiOpen bool
	zero           bool
}

func closed(lo, hi float64) span { return span{lo: lo, hi: hi} }

// openLo is (lo, hi]; openBoth is (lo, hi).
func openLo(lo, hi float64) span   { return span{lo: lo, hi: hi, loOpen: true} }
func openBoth(lo, hi float64) span { return span{lo: lo, hi: hi, loOpen: true, hiOpen: true} }

func (s span) holds(x float64) bool {
	switch {
	case s.zero && x == 0:
		return true
	case math.IsNaN(x), x < s.lo, x > s.hi, s.loOpen && x == s.lo, s.hiOpen && x == s.hi:
		return false
	}
	return true
}

func (s span) String() string {
	l, r := "[", "]"
	if s.loOpen {
		l = "("
	}
	if s.hiOpen {
		r = ")"
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	if s.zero {
		return "0 (the default) or a number in " + l + g(s.lo) + ", " + g(s.hi) + r
	}
	return "a number in " + l + g(s.lo) + ", " + g(s.hi) + r
}

const (
	maxCount = 1e9   // steps, images, grids
	maxCodes = 65536 // codes in a codebook, and so any code index
)

// flagSpans is the range of every numeric flag of every command, by flag
// name, or by "command/flag" where a command gives a name its own meaning.
// checkFlags applies it before a command runs; TestEveryNumericFlagHasASpan
// keeps it complete.
var flagSpans = map[string]span{
	"alpha": closed(0, 1e6), "alphas": closed(0, 1e6), "beta": closed(0, 1e3),
	"batch": closed(1, 65536), "buckets": closed(1, 1024), "cfg": closed(0, 1e3), "sample-cfg": closed(0, 1e3),
	"channels": closed(0, 4), "class": closed(-1, maxCodes), "classifier-steps": closed(1, maxCount),
	"clip": closed(0, 1e6), "code-dim": closed(1, 4096), "codebook-size": closed(2, maxCodes), "experiment/codebook-size": closed(0, maxCodes), "cols": closed(1, 1024),
	"cond-drop": closed(0, 1), "corrupt": span{lo: 0, hi: 1, hiOpen: true}, "dead-threshold": closed(0, 1e6), "decay": span{lo: 0, hi: 1, hiOpen: true},
	"dim": closed(1, 8192), "heads": closed(1, 1024), "layers": closed(1, 1024), "mlp": closed(1, 32768),
	"hidden": closed(1, 16384), "res-blocks": closed(0, 256), "downsample": closed(1, 64),
	"epochs": closed(0, 1e6), "experiment/epochs": openLo(0, 1e6),
	"eval": closed(0, maxCount), "eval-every": closed(0, maxCount), "eval-limit": closed(0, maxCount),
	"finetune": closed(0, 10), "far": closed(1, maxCodes), "near": closed(1, maxCodes), "k": closed(1, maxCodes), "show": closed(0, maxCodes),
	"gen-steps": closed(1, maxCount), "vq-steps": closed(1, maxCount), "steps": closed(1, maxCount),
	"min-steps": closed(1, maxCount), "max-steps": closed(1, maxCount),
	"grid-every": closed(0, maxCount), "save-every": closed(1, maxCount), "jobs": closed(1, 64), "patience": closed(0, maxCount), "extraction-given": closed(0, maxCodes), "extraction-grids": closed(0, maxCount),
	"limit": closed(0, maxCount), "lr": openBoth(0, 1), "n": closed(1, 1e7), "samples": closed(1, 1e7),
	"perplexity": {lo: 1, hi: 1e9, loOpen: true, zero: true}, "perplexities": openLo(1, 1e9), "region-size": closed(1, 1024),
	"reps": closed(1, 1e5), "rounds": closed(1, 1e4), "bench/warmup": closed(0, 1e5), "warmup": closed(0, maxCount),
	"scale": closed(1, 32), "decode/n": closed(0, 1e7), "swap-tokens/n": closed(0, 1e7), "sample/n": closed(1, 1e5), "eval/n": closed(0, 1e7), "seed": closed(0, math.MaxUint64), "seeds": closed(1, 1e4),
	"size": closed(0, 16384), "sizes": closed(1, maxCount), "sweep-sizes": closed(1, maxCount),
	"smoothing": span{lo: 0, hi: 1, hiOpen: true}, "target": closed(0, maxCount), "token": closed(0, maxCodes-1),
	"target-topk": closed(-1, maxCodes), "temperature": openLo(0, 1e3), "temperatures": openLo(0, 1e3),
	"top-k": closed(0, maxCodes), "top-p": openLo(0, 1), "val-limit": closed(0, maxCount), "val-size": closed(1, maxCount),
	"weight-decay": closed(0, 1e3),
}

// numeric reports whether a flag holds numbers.
func numeric(f *pflag.Flag) bool {
	switch f.Value.Type() {
	case "int", "int64", "uint64", "float64", "floats", "intSlice":
		return true
	}
	return false
}

// spanOf returns the range of a numeric flag of cmd and its name; a hidden
// alias has the range and the name of the flag it stands for.
func spanOf(cmd *cobra.Command, f *pflag.Flag) (span, string, bool) {
	name := f.Name
	if f.Hidden {
		cmd.Flags().VisitAll(func(g *pflag.Flag) {
			if !g.Hidden && g.Value == f.Value {
				name = g.Name
			}
		})
	}
	if s, ok := flagSpans[cmd.Name()+"/"+name]; ok {
		return s, name, true
	}
	s, ok := flagSpans[name]
	return s, name, ok
}

// checkFlags is a usage error naming the first numeric flag given a value
// outside its range (NaN and infinities are outside every range), before
// the command reads or writes anything.
func checkFlags(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) { // the flags given
		if err != nil || !numeric(f) {
			return
		}
		s, name, ok := spanOf(cmd, f)
		if !ok {
			err = fmt.Errorf("vqtool: flag --%s has no range (a bug: add it to flagSpans)", f.Name)
			return
		}
		for _, v := range strings.Split(strings.Trim(f.Value.String(), "[]"), ",") {
			x, perr := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if perr == nil && !s.holds(x) {
				err = usagef("--%s %s: want %s", name, f.Value.String(), s)
				return
			}
		}
	})
	return err
}
