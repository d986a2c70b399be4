package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/nn"
)

type versionOptions struct {
	JSON bool
}

func (o *versionOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print one JSON object")
}

func newVersionCommand() *cobra.Command {
	var opts versionOptions
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, the Go version and the BLAS in use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	BLAS    string `json:"blas"`
	CPUs    int    `json:"cpus"`
	OS      string `json:"os"`
}

func currentVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version(), BLAS: nn.BLAS(),
		CPUs: runtime.GOMAXPROCS(0), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	return v
}

func runVersion(_ context.Context, w io.Writer, opts versionOptions) error {
	v := currentVersion()
	if opts.JSON {
		return printJSON(w, v)
	}
	_, err := fmt.Fprintf(w, "vqtool %s\ngo      %s %s\nblas    %s\ncpus    %d\n", v.Version, v.Go, v.OS, v.BLAS, v.CPUs)
	return err
}
