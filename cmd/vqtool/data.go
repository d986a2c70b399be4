package main

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/explore"
	"github.com/vqtool/vqtool/imageio"
)

// dataOptions are the flags that pick and shape a data set.
type dataOptions struct {
	Data     string
	Split    string
	Limit    int
	Size     int
	Channels int
	Fit      string
}

func (o *dataOptions) AddFlags(cmd *cobra.Command) {
	o.AddSourceFlags(cmd)
	f := cmd.Flags()
	f.IntVar(&o.Size, "size", 0, "bring images to SIZE x SIZE pixels (0: keep; with a model: the model's)")
	f.IntVar(&o.Channels, "channels", 0, "1 (gray) or 3 (RGB); 0 keeps the source's (with a model: the model's)")
}

// AddSourceFlags adds the flags that choose images, for commands whose model
// fixes the image size.
func (o *dataOptions) AddSourceFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "embedded", "data set: embedded, fashion-mnist, mnist, a folder or image file, or IDX files IMAGES[,LABELS]")
	f.StringVar(&o.Split, "split", "train", "split of a named set: train or test")
	f.IntVar(&o.Limit, "limit", 0, "use only the first N images (0: all)")
	f.StringVar(&o.Fit, "fit", "", "how images reach the model's size: crop (default), pad or resize")
}

// defaultToTest makes --split default to test, in its value and its help,
// for commands that measure rather than train.
func defaultToTest(cmd *cobra.Command) {
	f := cmd.Flags().Lookup("split")
	_ = f.Value.Set("test")
	f.DefValue = "test"
}

func (o *dataOptions) open() (*imageio.Dataset, error) {
	fit, err := imageio.ParseFit(o.Fit)
	if err != nil {
		return nil, usageError{err}
	}
	d, err := imageio.OpenContext(runContext, o.Data, imageio.Options{Split: o.Split, Limit: o.Limit, Size: o.Size, Channels: o.Channels, Fit: fit, MaxBytes: maxMemory()})
	if errors.Is(err, imageio.ErrOption) {
		return nil, usageError{err}
	}
	return d, budgetError(err, readFewer)
}

// readFewer is the way out of a data set over the memory budget.
const readFewer = "read fewer images with --limit N"

func newDataCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Look at a data set",
	}
	cmd.AddCommand(newDataShowCommand(), newDataInfoCommand())
	return cmd
}

type dataShowOptions struct {
	dataOptions
	N     int
	Cols  int
	Scale int
	Out   string
}

func (o *dataShowOptions) AddFlags(cmd *cobra.Command) {
	o.dataOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.IntVarP(&o.N, "n", "n", 100, "images to show")
	f.IntVar(&o.Cols, "cols", 10, "images per row")
	f.IntVar(&o.Scale, "scale", 2, "draw each pixel SCALE times")
	f.StringVarP(&o.Out, "out", "o", "data.png", "PNG file to write")
}

func newDataShowCommand() *cobra.Command {
	var opts dataShowOptions
	cmd := &cobra.Command{
		Use:         "show",
		Annotations: streamAnnotation,
		Short:       "Write a contact sheet of the first images, captioned with their labels",
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDataShow(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

func runDataShow(_ context.Context, w io.Writer, opts dataShowOptions) error {
	if opts.Limit == 0 || opts.Limit > opts.N {
		opts.Limit = opts.N
	}
	d, err := opts.open()
	if err != nil {
		return err
	}
	if err := checkGrid(d.N, opts.Cols, d.C, d.H, d.W, opts.Scale, nil); err != nil {
		return err
	}
	img, legend := explore.DataFigure(d, opts.Cols, opts.Scale)
	if err := writePNG(opts.Out, img); err != nil {
		return err
	}
	logf("wrote %s: %d images of %dx%dx%d from %s", opts.Out, d.N, d.C, d.H, d.W, d.Name)
	for r, names := range legend {
		fprintf(w, "row %d: %s\n", r, strings.Join(names, ", "))
	}
	return nil
}

type dataInfoOptions struct {
	dataOptions
	JSON bool
}

func newDataInfoCommand() *cobra.Command {
	var opts dataInfoOptions
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Print counts, image size and classes of a data set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDataInfo(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	opts.dataOptions.AddFlags(cmd)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

func runDataInfo(_ context.Context, w io.Writer, opts dataInfoOptions) error {
	d, err := opts.open()
	if err != nil {
		return err
	}
	info := d.Describe()
	if opts.JSON {
		return printJSON(w, info)
	}
	fprintf(w, "data      %s (%s split)\nimages    %d\nsize      %d x %d, %d channel(s)\npixels    mean %.3f, std %.3f (in [-1, 1])\n",
		info.Name, opts.Split, info.Images, info.Height, info.Width, info.Channels, info.Mean, info.Std)
	for c, n := range info.PerClass {
		fprintf(w, "class %-3d %-12s %d\n", c, info.Classes[c], n)
	}
	return nil
}
