package main

import (
	"errors"
	"fmt"
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
