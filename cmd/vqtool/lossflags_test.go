package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// Every command that takes a loss flag defines it with one wording, and a bad
// value is the same usage error in each, naming the flag, the value and what
// is wanted.
func TestLossFlagsAreOne(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	commands := map[string][]string{
		"train-gen":      {"train-gen", "--vq", smallVQ, "--limit", "8", "--steps", "1", "--out", filepath.Join(dir, "gen")},
		"kernel":         {"kernel", "--vq", smallVQ, "--token", "3"},
		"explore":        {"explore", "--vq", smallVQ, "--n", "1", "--out", filepath.Join(dir, "e.html")},
		"targets export": {"targets", "export", "--vq", smallVQ, "--out", filepath.Join(dir, "t.safetensors")},
	}
	lossFlags := map[string]bool{}
	for _, name := range flagOf {
		lossFlags[name] = true
	}
	usage := map[string]string{}
	root := newRootCommand()
	for name := range commands {
		cmd, _, err := root.Find(strings.Fields(name))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !lossFlags[f.Name] {
				return
			}
			if u, ok := usage[f.Name]; ok && u != f.Usage {
				t.Errorf("%s --%s: %q, another command says %q", name, f.Name, f.Usage, u)
			}
			usage[f.Name] = f.Usage
		})
	}
	if len(usage) != len(flagOf) {
		t.Errorf("the commands define %d loss flags: want all %d", len(usage), len(flagOf))
	}
	for _, bad := range []struct{ flag, value, want string }{
		{"tau", "-1", `--tau "-1": want a number > 0, or auto`},
		{"tau", "x", `--tau "x": want a number > 0, or auto`},
		{"perplexity", "64", "--perplexity 64: want a number in (1, 64) for 64 tokens"},
		{"perplexity", "-2", "--perplexity -2: want 0 (the default) or a number in (1, "},
		{"distance", "l3", `--distance "l3": want l2, mse or cosine`},
	} {
		for name, args := range commands {
			err := execute(t, append(args, "--"+bad.flag, bad.value)...)
			wantUsage(t, name+" --"+bad.flag+" "+bad.value, err, bad.want)
		}
	}
	for _, bad := range [][3]string{
		{"alpha", "-1", "--alpha -1: want a number in [0, "},
		{"loss", "dist3", `--loss "dist3": want a loss: ce, smooth or dist2`},
		{"target-topk", "-2", "--target-topk -2: want"},
	} {
		err := execute(t, append(commands["train-gen"], "--"+bad[0], bad[1])...)
		wantUsage(t, "train-gen --"+bad[0]+" "+bad[1], err, bad[2])
	}
}
