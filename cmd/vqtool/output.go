package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/nn"
)

// streamAnnotation marks a command whose --out is one file that may go to
// standard output as "-".
var streamAnnotation = map[string]string{"out": "stream"}

// dataOut receives the file named "-".
var dataOut io.Writer = os.Stdout

// routeOut prepares --out -: the command's file goes to standard output and
// its summary lines to stderr. Commands that write a folder or several files
// refuse it.
func routeOut(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("out")
	if f == nil || f.Value.String() != "-" {
		return nil
	}
	if cmd.Annotations["out"] != "stream" {
		return usagef("--out -: %s writes a folder or several files, not one stream: give a path", cmd.CommandPath())
	}
	if j := cmd.Flags().Lookup("json"); j != nil && j.Value.String() == "true" {
		return usagef("--out - and --json both want standard output: give --out a path")
	}
	dataOut = cmd.OutOrStdout()
	cmd.SetOut(cmd.ErrOrStderr())
	return nil
}

// writeFile writes a command's output file, or standard output for "-".
func writeFile(path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(dataOut)
	}
	return imageio.WriteFile(path, write)
}

// writePNG is writeFile for a picture.
func writePNG(path string, img image.Image) error {
	return writeFile(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// noSideFiles clears, under --json, the pictures whose flags were left at
// their defaults: --json prints one object and writes a file only when asked.
func noSideFiles(cmd *cobra.Command, json bool, flags map[string]*string) {
	if !json {
		return
	}
	for name, p := range flags {
		if !cmd.Flags().Changed(name) {
			*p = ""
		}
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// logf writes a log line to stderr unless --quiet.
func logf(format string, args ...any) {
	if global.Quiet {
		return
	}
	fprintf(stderr, format+"\n", args...)
}

func fprintf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}

func blasName() string { return nn.BLAS() }

func nowSeconds() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// hiddenAlias adds the old name of a renamed flag (and its shorthand, if
// any), hidden, sharing the new flag's value: old command lines keep working
// for one release.
func hiddenAlias(f *pflag.FlagSet, old, shorthand, name string) {
	nf := f.Lookup(name)
	f.VarP(nf.Value, old, shorthand, nf.Usage+" (old name of --"+name+")")
	_ = f.MarkHidden(old)
}

// floats is a flag of comma-separated numbers.
type floats []float64

func (f *floats) Type() string { return "floats" }

func (f *floats) String() string {
	s := make([]string, len(*f))
	for i, x := range *f {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func (f *floats) Set(v string) error {
	var out []float64
	for _, p := range strings.Split(v, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is beyond float64's range: want a magnitude up to %.3g", p, math.MaxFloat64)
		}
		if err != nil {
			return fmt.Errorf("%q is not a number", p)
		}
		out = append(out, x)
	}
	*f = out
	return nil
}
