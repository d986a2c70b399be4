package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/internal/gemm"
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
		Short: "Print the version, the Go version and the kernels in use",
		Long: `version prints vqtool's version (the module version, or the commit it was
built from when the build recorded one), the Go version and platform, the
kernel path in use (avx512, avx2, neon or generic) and, when VQTOOL_CPU
asked for a path this processor or build does not run, why it was not
followed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"` // the VCS commit, when the build recorded it
	Modified bool   `json:"modified,omitempty"` // the commit had uncommitted changes
	Go       string `json:"go"`
	Path     string `json:"path"`                // the kernel path: avx512, avx2, neon or generic
	PathNote string `json:"path_note,omitempty"` // why VQTOOL_CPU was not followed
	BLAS     string `json:"blas"`                // the kernel path and the BLAS behind it
	CPUs     int    `json:"cpus"`
	OS       string `json:"os"`
}

func currentVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version(), Path: gemm.Path(), BLAS: gemm.Name(),
		CPUs: runtime.GOMAXPROCS(0), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if err := gemm.PathError(); err != nil {
		v.PathNote = err.Error()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.setBuild(bi)
	}
	return v
}

// setBuild takes the version from what the build recorded: the module
// version, else the VCS commit (git worktrees and -buildvcs=false record
// none), else it stays "(devel)".
func (v *versionInfo) setBuild(bi *debug.BuildInfo) {
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	switch {
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		// A tagged version, or since Go 1.24 a pseudo-version of the commit
		// (with +dirty when modified).
		v.Version = bi.Main.Version
	case v.Revision != "":
		v.Version = v.Revision[:min(12, len(v.Revision))]
		if v.Modified {
			v.Version += "+dirty"
		}
	}
}

// text is the version as vqtool version prints it, after "vqtool ".
func (v versionInfo) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\ngo      %s %s\nkernels %s\n", v.Version, v.Go, v.OS, v.BLAS)
	if v.PathNote != "" {
		fmt.Fprintf(&b, "        %s\n", v.PathNote)
	}
	fmt.Fprintf(&b, "cpus    %d\n", v.CPUs)
	return b.String()
}

func runVersion(_ context.Context, w io.Writer, opts versionOptions) error {
	v := currentVersion()
	if opts.JSON {
		return printJSON(w, v)
	}
	_, err := io.WriteString(w, "vqtool "+v.text())
	return err
}
