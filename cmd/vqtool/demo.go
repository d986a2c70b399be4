package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/study"
	"github.com/vqtool/vqtool/vqvae"
)

type demoOptions struct {
	Out      string
	Data     string
	VQSteps  int
	GenSteps int
	Samples  int
}

func newDemoCommand() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole pipeline on the built-in data in minutes: tokenizer, CE and DIST2 generators, swaps, scores, report.html",
		Long: `demo trains a tokenizer on the built-in Fashion-MNIST subset, encodes it,
trains a CE and a DIST2Loss generator with the same budget, samples both,
draws the token-swap figure, scores the samples with a LeNet trained on the
same data, and writes OUT/report.html with the pictures embedded and the
numbers beside them.`,
		Example: `  vqtool demo --out out`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Out, "out", "o", "out", "folder to write")
	f.StringVar(&o.Data, "data", "embedded", "labelled data set with train and test splits")
	f.IntVar(&o.VQSteps, "vq-steps", 400, "tokenizer steps")
	f.IntVar(&o.GenSteps, "gen-steps", 400, "steps of each generator")
	f.IntVarP(&o.Samples, "n", "n", 500, "samples scored per generator and setting")
	hiddenAlias(f, "samples", "", "n")
	return cmd
}

func runDemo(ctx context.Context, w io.Writer, o demoOptions) error {
	start := time.Now()
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	step := func(format string, args ...any) {
		fprintf(stderr, "[%5.0fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	// 1. Tokenizer.
	vqDir := filepath.Join(o.Out, "vq")
	step("1/5 training the tokenizer on %s (%d steps)", o.Data, o.VQSteps)
	if _, err := os.Stat(filepath.Join(vqDir, "resume.safetensors")); err == nil {
		if info, err := vqvae.ReadInfo(vqDir); err == nil && info.Step < o.VQSteps {
			return fmt.Errorf("%s holds an unfinished tokenizer: resume it with vqtool train-vq --data %s --out %s --resume, or remove it", vqDir, o.Data, vqDir)
		}
	}
	if info, err := vqvae.ReadInfo(vqDir); err == nil && info.Step >= o.VQSteps {
		step("    reusing %s", vqDir)
	} else {
		vo := defaultTrainVQOptions()
		vo.Data, vo.Out, vo.Steps = o.Data, vqDir, o.VQSteps
		vo.GridEvery, vo.SaveEvery = 0, o.VQSteps
		if _, err := runTrainVQ(ctx, io.Discard, vo); err != nil {
			return err
		}
	}
	vq, vinfo, err := loadVQ(vqDir)
	if err != nil {
		return err
	}
	real, err := openForModel(dataOptions{Data: o.Data, Split: "test"}, vinfo, nil)
	if err != nil {
		return err
	}
	// 2. Classifier for the scores.
	step("2/5 training the LeNet feature extractor")
	lenet, clsAcc, err := classifierFor(filepath.Join(o.Out, "lenet"), dataOptions{Data: o.Data, Split: "train"}, vq.Config.Size, vq.Config.Channels, 600)
	if err != nil {
		return err
	}
	// 3-4. Generators.
	d := study.Demo{Dir: o.Out, Data: o.Data, TrainCount: vqTrainCount(o.Data), Test: real, VQ: vq, VQSteps: o.VQSteps,
		LeNet: lenet, LeNetAcc: clsAcc, GenSteps: o.GenSteps, Samples: o.Samples, BLAS: blasName(), Start: start,
		Logf: func(format string, args ...any) { step("    "+format, args...) }}
	for i, loss := range []string{"ce", "dist2"} {
		step("%d/5 training the %s generator (%d steps)", 3+i, loss, o.GenSteps)
		dir := filepath.Join(o.Out, "gen-"+loss)
		// The demo's generator is the study's size, at a higher learning rate.
		g := defaultTrainGenOptions()
		g.Data, g.Loss, g.VQ, g.Out, g.Steps, g.EvalLimit = o.Data, loss, vqDir, dir, o.GenSteps, 1000
		g.LR, g.Warmup, g.Dim, g.Layers, g.Heads, g.MLP = 1e-3, 60, 128, 4, 4, 512
		g.EvalEvery, g.SaveEvery, g.SampleCFG = 0, o.GenSteps, 1.5
		_, statErr := os.Stat(filepath.Join(dir, "resume.safetensors"))
		g.Resume = statErr == nil
		res, err := runTrainGen(ctx, io.Discard, g)
		if err != nil {
			return err
		}
		gen, _, err := generator.Load(dir)
		if err != nil {
			return err
		}
		d.Gens = append(d.Gens, study.DemoGen{Loss: res.Loss, Model: gen, HeldOut: *res.HeldOut})
	}
	// 5. Swaps, explorer, samples, scores and the report.
	step("5/5 measuring and writing the report")
	path, err := d.Write(ctx)
	if err != nil {
		return err
	}
	logf("wrote %s in %.1f minutes", path, time.Since(start).Minutes())
	return nil
}

func vqTrainCount(data string) string {
	if data == "embedded" {
		return "2,000"
	}
	return "all"
}
