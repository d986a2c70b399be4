package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vqtool/vqtool/internal/rundir"
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
	err := rundir.CheckFresh(dir, force)
	switch {
	case errors.Is(err, rundir.ErrRunning):
		return usagef("%v: continue it with --resume, or choose another --out", err)
	case errors.Is(err, rundir.ErrModel):
		return usagef("%v: choose another --out, or --force to overwrite it", err)
	}
	return err
}

// runOptions are the flags of every training command: where the run lives,
// how long it is, and how it starts and ends.
type runOptions struct {
	Out       string
	Steps     int
	Epochs    float64
	Batch     int
	SaveEvery int
	Resume    bool
	Force     bool
	JSON      bool
	flags     map[string]string // the flags that define the run, saved with it (set by settle)
}

// AddFlags defines the flags with d's defaults; items names what a batch
// holds ("images").
func (o *runOptions) AddFlags(cmd *cobra.Command, d runOptions, items string) {
	f := cmd.Flags()
	f.StringVarP(&o.Out, "out", "o", d.Out, "checkpoint folder to write (config.json, model.safetensors, resume.safetensors, pictures)")
	f.IntVar(&o.Steps, "steps", d.Steps, "optimiser steps")
	f.Float64Var(&o.Epochs, "epochs", 0, "passes over the training "+items+" (overrides --steps)")
	f.IntVar(&o.Batch, "batch", d.Batch, items+" per step")
	f.IntVar(&o.SaveEvery, "save-every", d.SaveEvery, "checkpoint every N steps")
	f.BoolVar(&o.Resume, "resume", false, "continue the run saved in --out")
	f.BoolVar(&o.Force, "force", false, "overwrite a model in --out")
	f.BoolVar(&o.JSON, "json", false, "print the final metrics as one JSON object")
}

// settle records the flags that define the run. With --resume they are the
// ones the run in --out was started with (see restoreRunFlags), which saved
// reads from its checkpoint; a folder without one keeps the flags given.
func (o *runOptions) settle(cmd *cobra.Command, saved func(dir string) (map[string]string, error)) error {
	if o.Resume {
		if flags, err := saved(o.Out); err == nil {
			if err := restoreRunFlags(cmd, flags, o.Out); err != nil {
				return err
			}
		}
	}
	o.flags = runFlags(cmd)
	return nil
}

// steps is the run's length for n training items: --epochs passes over
// them when given, --steps otherwise.
func (o runOptions) steps(n int) int {
	if o.Epochs > 0 {
		return int(math.Ceil(o.Epochs * float64(n) / float64(o.Batch)))
	}
	return o.Steps
}

// usage returns the first error that is not nil, as a usage error: a
// config the flags made cannot work.
func usage(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return usageError{err}
		}
	}
	return nil
}
