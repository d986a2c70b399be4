package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// leaves returns every command that runs, with its path below the root.
func leaves(c *cobra.Command) []*cobra.Command {
	if !c.HasSubCommands() {
		return []*cobra.Command{c}
	}
	var out []*cobra.Command
	for _, s := range c.Commands() {
		out = append(out, leaves(s)...)
	}
	return out
}

// Every numeric flag of every command has a range, and its default lies in
// it.
func TestEveryNumericFlagHasASpan(t *testing.T) {
	for _, cmd := range leaves(newRootCommand()) {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !numeric(f) {
				return
			}
			if _, _, ok := spanOf(cmd, f); !ok {
				t.Errorf("%s --%s: no range in flagSpans", cmd.CommandPath(), f.Name)
				return
			}
			if err := cmd.Flags().Set(f.Name, f.DefValue); err == nil {
				f.Changed = true
				if err := checkFlags(cmd); err != nil {
					t.Errorf("%s: the default is refused: %v", cmd.CommandPath(), err)
				}
				f.Changed = false
			}
		})
	}
}

// Every numeric flag of every command, given NaN, an infinity, 0, -1 or
// 1e300 outside its range, is a usage error.
func TestNumericFlagsRefuseBadValues(t *testing.T) {
	values := []string{"NaN", "Inf", "-Inf", "0", "-1", "1e300"}
	tried := 0
	for _, path := range leaves(newRootCommand()) {
		path.Flags().VisitAll(func(f *pflag.Flag) {
			if !numeric(f) {
				return
			}
			s, name, _ := spanOf(path, f)
			for _, v := range values {
				x, _ := strconv.ParseFloat(v, 64)
				if s.holds(x) {
					continue
				}
				// A fresh command for each try: flags keep their values.
				cmd, _, err := newRootCommand().Find(strings.Fields(path.CommandPath())[1:])
				if err != nil {
					t.Fatal(err)
				}
				tried++
				if err := cmd.ParseFlags([]string{"--" + f.Name + "=" + v}); err != nil {
					continue // pflag refuses it: a usage error too (see SetFlagErrorFunc)
				}
				err = checkFlags(cmd)
				var ue usageError
				if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "--"+name) {
					t.Errorf("%s --%s=%s: %v, want a usage error naming the flag", path.CommandPath(), f.Name, v, err)
				}
			}
		})
	}
	if tried < 200 {
		t.Errorf("only %d bad values tried", tried)
	}
}

// A bad value stops a command before it reads or writes anything.
func TestBadFlagsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"train-gen", "--vq", smallVQ, "--lr", "NaN"},
		{"train-gen", "--vq", smallVQ, "--epochs", "Inf"},
		{"train-gen", "--vq", smallVQ, "--sample-cfg", "NaN"},
		{"train-vq", "--dead-threshold", "NaN"},
		{"train-classifier", "--steps", "0"},
		{"train-classifier", "--batch", "-1"},
		{"train-classifier", "--lr", "-1"},
		{"reconstruct", "--vq", smallVQ, "-n", "-1"},
		{"sample", "--gen", dir, "--cfg", "1e39"},
		{"demo", "-n", "0"},
		{"experiment", "--top-k", "100000"},
		{"experiment", "--perplexities", "1"},
		{"experiment", "--val-size", "1e9"},
		{"experiment", "--jobs", "1000"},
	} {
		cmd, _, err := newRootCommand().Find(args[:1])
		if err != nil || cmd.Flags().Lookup("out") == nil {
			t.Fatalf("%s: %v, or no --out", args[0], err)
		}
		err = execute(t, append(args, "--out", out)...)
		if !isUsage(err) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("%v wrote %s", args, out)
			os.RemoveAll(out)
		}
	}
}
