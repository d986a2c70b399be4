package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/vqtool/vqtool/bench"
	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/metrics"
	"github.com/vqtool/vqtool/study"
	"github.com/vqtool/vqtool/vqvae"
)

var snake = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// zero fills v's pointers, slices and maps with one zero element, so that
// marshalling shows every field of every nested type.
func zero(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		zero(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				zero(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		zero(v.Index(0))
	}
}

// keys reports every object key in a decoded JSON value that is not snake_case.
func badKeys(path string, v any, bad *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !snake.MatchString(k) {
				*bad = append(*bad, path+"."+k)
			}
			badKeys(path+"."+k, e, bad)
		}
	case []any:
		for _, e := range x {
			badKeys(path+"[]", e, bad)
		}
	}
}

// Every object a command prints under --json has snake_case keys, however
// deep, as results.json does.
func TestJSONKeysAreSnakeCase(t *testing.T) {
	for _, v := range []any{
		&EvalResult{}, &explore.SwapEval{}, &genResult{}, &vqResult{}, &reconResult{}, &encodeJSON{},
		&bench.Report{}, &codebookStats{}, &codebookSpacing{}, &neighborsResult{}, &metrics.Memorization{}, &kernelResult{}, &targetsSummary{},
		&versionInfo{}, &imageio.Info{}, &generator.Eval{}, &metrics.Report{}, &vqvae.Info{}, &study.Results{},
	} {
		rv := reflect.ValueOf(v).Elem()
		zero(rv)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		var bad []string
		badKeys(rv.Type().Name(), got, &bad)
		if len(bad) > 0 {
			t.Errorf("keys not in snake_case: %v", bad)
		}
	}
}

// Under --json a command prints its object and writes no picture it was not
// asked for by name.
func TestJSONWritesNoSideFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{
		{"codebook", "neighbors", "--vq", smallVQ, "--token", "3", "--json"},
		{"codebook", "stats", "--vq", smallVQ, "--data", "embedded", "--split", "test", "--limit", "16", "--json"},
		{"reconstruct", "--vq", smallVQ, "--data", "embedded", "--split", "test", "--limit", "16", "--json"},
		{"swap-tokens", "--vq", smallVQ, "--data", "embedded", "--split", "test", "--n", "2", "--eval", "4", "--json"},
	} {
		if err := execute(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) > 0 {
			t.Errorf("%v wrote %v", args, names)
			for _, n := range names {
				os.Remove(n)
			}
		}
	}
	if err := execute(t, "codebook", "neighbors", "--vq", smallVQ, "--token", "3", "--json", "--out", "n.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "n.png")); err != nil {
		t.Errorf("--json --out n.png: %v", err)
	}
	// A picture that cannot be written is an error, not a silent skip.
	bad := filepath.Join(dir, "n.png", "n.png") // n.png is a file
	if err := execute(t, "codebook", "neighbors", "--vq", smallVQ, "--token", "3", "--out", bad); err == nil {
		t.Errorf("--out %s under a file: no error", bad)
	}
}

// --out - sends a one-file output to standard output and the summary to
// stderr; a command that writes a folder refuses it rather than making a
// file named "-".
func TestOutDashIsStandardOutput(t *testing.T) {
	t.Chdir(t.TempDir())
	root := newRootCommand()
	var out, msg bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&msg)
	root.SetArgs([]string{"codebook", "neighbors", "--vq", smallVQ, "--token", "3", "--out", "-"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("standard output starts %q, want a PNG", out.Bytes()[:min(8, out.Len())])
	}
	if !strings.Contains(msg.String(), "nearest") {
		t.Errorf("the summary did not go to stderr: %q", msg.String())
	}
	wantUsage(t, "train-gen --out -", execute(t, "train-gen", "--vq", smallVQ, "--out", "-"), "--out -", "folder")
	wantUsage(t, "--out - --json", execute(t, "codebook", "neighbors", "--vq", smallVQ, "--out", "-", "--json"), "--json")
	if _, err := os.Stat("-"); err == nil {
		t.Error(`a file named "-" was written`)
	}
}

// "wrote FILE" summaries are logs: on stderr (and silenced by --quiet), so
// that standard output holds only data.
func TestSummariesAreNotData(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"codebook", "atlas", "--vq", smallVQ, "--out", "a.png"},
		{"codebook", "export", "--vq", smallVQ, "--out", "c.npy"},
	} {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append(args, "--quiet"))
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out.Len() > 0 {
			t.Errorf("%v printed %q on standard output", args, out.String())
		}
	}
}

// The codebook size K is codebook_size wherever a command or a checkpoint
// writes it.
func TestCodebookSizeKey(t *testing.T) {
	for _, v := range []any{targetsSummary{CodebookSize: 7}, reconResult{CodebookSize: 7},
		generator.Config{CodebookSize: 7}, vqvae.Config{CodebookSize: 7}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["codebook_size"] != 7.0 {
			t.Errorf("%T written as %s: want codebook_size 7", v, b)
		}
	}
}
