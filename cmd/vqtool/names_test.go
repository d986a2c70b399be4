package main

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// One name per thing across the commands' --help: the old names are hidden
// aliases at most, and a flag name that several commands share has one
// shorthand and one type everywhere.
func TestFlagNamesAgree(t *testing.T) {
	retired := map[string]string{ // old visible name: the one to use
		"model": "--vq or --gen",
		"topk":  "--target-topk (or --top-k for sampling)", "samples": "--n",
	}
	type seen struct {
		cmd, short, typ string
	}
	first := map[string]seen{}
	aliases := 0 // retired names still accepted, hidden
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				if _, ok := retired[f.Name]; ok {
					aliases++
				}
				return
			}
			if use, ok := retired[f.Name]; ok {
				t.Errorf("%s: visible --%s: want %s", c.CommandPath(), f.Name, use)
			}
			if c.Name() == "swap-tokens" && f.Name == "size" {
				t.Errorf("%s: --size counts tokens here and pixels elsewhere: want --region-size", c.CommandPath())
			}
			s := seen{c.CommandPath(), f.Shorthand, f.Value.Type()}
			if p, ok := first[f.Name]; !ok {
				first[f.Name] = s
			} else if p.short != s.short || p.typ != s.typ {
				t.Errorf("--%s: %s has shorthand %q and type %s, %s has %q and %s", f.Name, p.cmd, p.short, p.typ, s.cmd, s.short, s.typ)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
	if aliases == 0 {
		t.Error("no retired name is kept as a hidden alias: old command lines would break")
	}
	if len(first) < 20 {
		t.Fatalf("walked %d flag names: the commands were not all reached", len(first))
	}
}
