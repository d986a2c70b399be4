package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/progress"
	"github.com/vqtool/vqtool/internal/rundir"
	"github.com/vqtool/vqtool/study"
	"github.com/vqtool/vqtool/vqvae"
)

type experimentOptions struct {
	study.Config
	Data, VQ, Out            string
	Shard                    string
	With                     []string
	Jobs                     int
	Spec                     string // a study folder whose study.json replaces the design flags (the jobs of --jobs)
	VQSteps, ClassifierSteps int
}

func (o *experimentOptions) AddFlags(cmd *cobra.Command) {
	d := study.DefaultConfig()
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "fashion-mnist", "labelled data set with train and test splits")
	f.StringVar(&o.VQ, "vq", "", "tokenizer to use (default: train one into OUT/vq on the training images before the validation split)")
	f.StringVarP(&o.Out, "out", "o", "study", "folder of the study (or of this shard)")
	f.IntSliceVar(&o.Sizes, "sizes", d.Sizes, "training-set sizes (class-balanced subsets; a size over the pool takes it all)")
	f.StringSliceVar(&o.Losses, "losses", d.Losses, "losses to compare")
	f.IntVar(&o.Seeds, "seeds", d.Seeds, "seeds per (size, loss)")
	o.Alphas, o.Perplexities, o.Temperatures = d.Alphas, d.Perplexities, d.Temperatures
	f.Var((*floats)(&o.Alphas), "alphas", "dist2 weights the sweep tries")
	f.Var((*floats)(&o.Perplexities), "perplexities", "effective neighbours of p_d the sweep tries")
	f.Var((*floats)(&o.Temperatures), "temperatures", "sampling temperatures the sweep tries (and every run is scored at)")
	f.IntSliceVar(&o.SweepSizes, "sweep-sizes", d.SweepSizes, "sizes the sweep runs at")
	f.StringVar(&o.Distance, "distance", d.Distance, distanceUsage)
	f.Float64Var(&o.Smoothing, "smoothing", d.Smoothing, smoothingUsage)
	f.IntVar(&o.ValSize, "val-size", d.ValSize, "grids at the end of the training split held out for validation")
	f.IntVar(&o.Dim, "dim", d.Dim, "generator width")
	f.IntVar(&o.Layers, "layers", d.Layers, "generator blocks")
	f.IntVar(&o.Heads, "heads", d.Heads, "generator heads")
	f.IntVar(&o.MLP, "mlp", d.MLP, "generator MLP width")
	f.IntVar(&o.Batch, "batch", d.Batch, "generator batch")
	f.Float64Var(&o.LR, "lr", d.LR, "peak learning rate")
	f.Float64Var(&o.Epochs, "epochs", d.Epochs, "budget: passes over the training subset...")
	f.IntVar(&o.MinSteps, "min-steps", d.MinSteps, "...at least this many steps...")
	f.IntVar(&o.MaxSteps, "max-steps", d.MaxSteps, "...and at most this many")
	f.IntVar(&o.EvalEvery, "eval-every", d.EvalEvery, "validation NLL every N steps (the best checkpoint is kept)")
	f.IntVar(&o.ValLimit, "val-limit", d.ValLimit, "validation grids per measurement during training (0: all)")
	f.IntVarP(&o.Samples, "n", "n", d.Samples, "samples scored per run and setting")
	f.IntVar(&o.TopK, "top-k", d.TopK, "the truncated sampling setting (0: none)")
	f.Float64Var(&o.CFG, "cfg", d.CFG, "guidance scale when sampling")
	f.Float64Var(&o.FineTune, "finetune", d.FineTune, "the fine-tune arm: from each ce run's best checkpoint, DIST2 at the paper's setting (ce->dist2) and CE (ce->ce) for this fraction of the size's budget (0: no arm)")
	f.Float64Var(&o.Corrupt, "corrupt", d.Corrupt, "token corruption of the corrupt arm (loss corrupt: CE with each input token replaced by a random code with this probability)")
	f.IntVar(&o.Patience, "patience", d.Patience, "early stopping: a run ends once this many validation measurements miss its best, its budget the ceiling (0: the fixed budget)")
	f.IntSliceVar(&o.ExtractionGiven, "extraction-given", d.ExtractionGiven, "tokens of a training grid the prefix-extraction attack gives before the model completes it (empty: no attack)")
	f.IntVar(&o.ExtractionGrids, "extraction-grids", d.ExtractionGrids, "training grids of each run the extraction attack tries (0: none)")
	f.IntVar(&o.CodebookSize, "codebook-size", d.CodebookSize, "the codebook size the tokenizer must have; runs are then named k{K}-..., so that studies of several tokenizers merge into one report (0: any)")
	f.StringVar(&o.Shard, "shard", "1/1", "run every N-th run of the study, starting at the I-th: I/N")
	f.StringSliceVar(&o.With, "with", nil, "other shards' folders, whose finished sweep runs choose the DIST2 setting and whose ce runs start the fine-tune arm")
	f.IntVar(&o.Jobs, "jobs", 1, "runs trained side by side, each a process of its share of the cores, in OUT/jobs/J, merged into OUT at the end")
	f.StringVar(&o.Spec, "spec", "", "take the study's design from DIR/study.json instead of the flags (how --jobs starts its jobs)")
	_ = f.MarkHidden("spec")
	f.IntVar(&o.VQSteps, "vq-steps", 4300, "tokenizer steps when training one (about 5 epochs of 55,000 at batch 64)")
	f.IntVar(&o.ClassifierSteps, "classifier-steps", 1500, "steps of the LeNet feature extractor")
}

func newExperimentCommand() *cobra.Command {
	var o experimentOptions
	cmd := &cobra.Command{
		Use:   "experiment",
		Short: "The study: DIST2 against CE and label smoothing, by data size, early-stopped, with memorisation and paired intervals",
		Long: `experiment trains one generator per (size, loss, seed) on class-balanced
subsets of the training split, keeping the last --val-size training images
for validation (early stopping, the DIST2 sweep) and the test split for the
final scores. Each run is scored at its best and its last checkpoint: test
NLL, FLD, novel FLD (samples that are not near copies of a training grid),
KID, precision, recall, class accuracy and the share of near copies. The
fine-tune arm (--finetune) continues each ce run from its best checkpoint
with DIST2 at the paper's setting (ce->dist2) and with CE (ce->ce). It
writes results.json, report.md, report.html, plots and the scored samples.

A killed study resumes where it stopped. --jobs N trains N runs side by side
on one machine, each a process on its share of the cores: small generators
do not keep every core busy, so two jobs on two cores finish the study sooner,
with the same results bit for bit. --shard I/N runs every N-th run, so N
machines share a study; "experiment report" merges their folders.`,
		Example: `  vqtool experiment --data fashion-mnist --out study --jobs 2
  vqtool experiment --shard 2/8 --out study-2 --with study-1,study-3
  vqtool experiment report --out study study-*`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperiment(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.AddFlags(cmd)
	cmd.AddCommand(newExperimentReportCommand())
	return cmd
}

// config is the study the flags describe.
func (o experimentOptions) config() (study.Config, study.Shard, error) {
	if o.Spec != "" {
		c, err := study.ReadConfig(o.Spec)
		if err != nil {
			return c, study.Shard{}, usageError{err}
		}
		shard, err := study.ParseShard(o.Shard)
		if err != nil {
			return c, shard, usageError{err}
		}
		return c, shard, nil
	}
	c := o.Config
	shard, err := study.ParseShard(o.Shard)
	if err != nil {
		return c, shard, usageError{err}
	}
	if err := c.Validate(); err != nil {
		return c, shard, usageError{err}
	}
	return c, shard, nil
}

func runExperiment(ctx context.Context, w io.Writer, o experimentOptions) error {
	c, shard, err := o.config()
	if err != nil {
		return err
	}
	if !imageio.IsSet(o.Data) {
		return usagef("--data %q: the study needs a labelled set with train and test splits (%s)", o.Data, strings.Join(imageio.Sets, ", "))
	}
	if o.Jobs < 1 || o.Jobs > 1 && (shard.N > 1 || len(o.With) > 0) {
		return usagef("--jobs %d --shard %s: want jobs >= 1, and jobs only for a whole study (--shard and --with are for one worker of many)", o.Jobs, o.Shard)
	}
	if jobs := jobCount(o.Jobs, len(c.Plan()), runtime.NumCPU()); jobs != o.Jobs {
		logf("experiment: --jobs %d: %d runs on %d cores: starting %d jobs", o.Jobs, len(c.Plan()), runtime.NumCPU(), jobs)
		o.Jobs = jobs
	}
	release, err := rundir.Lock(o.Out, logf)
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	data := dataOptions{Data: o.Data, Split: "train"}
	vqPath, err := ensureVQ(ctx, o.VQ, data, o.Out, o.VQSteps, c.ValSize)
	if err != nil {
		return err
	}
	vq, vinfo, err := loadVQ(vqPath)
	if err != nil {
		return err
	}
	for _, g := range c.ExtractionGiven {
		if n := vq.Config.Grid() * vq.Config.Grid(); g >= n {
			return usagef("--extraction-given %d: the tokenizer %s makes grids of %d tokens: want fewer given, leaving some to draw", g, vqPath, n)
		}
	}
	var d study.Data
	d.VQ, d.VQPath = vq, vqPath
	for _, split := range []string{"train", "test"} {
		so := data
		so.Split = split
		t, classes, _, err := tokensFor(ctx, "", so, vqPath, vq, vinfo, o.Out)
		if err != nil {
			return err
		}
		img, err := openForModel(so, vinfo, nil)
		if err != nil {
			return err
		}
		if split == "train" {
			d.Train, d.TrainPix, d.Classes = genTokens(t), img.Pix, classes
		} else {
			d.Test, d.TestPix = genTokens(t), img.Pix
		}
	}
	lenet, acc, err := classifierFor(filepath.Join(o.Out, "lenet"), data, vq.Config.Size, vq.Config.Channels, o.ClassifierSteps)
	if err != nil {
		return err
	}
	d.LeNet = lenet
	logf("experiment: classifier test accuracy %.4f; %d runs planned, shard %d/%d", acc, len(c.Plan()), shard.I, shard.N)
	var res *study.Results
	if o.Jobs > 1 {
		logf("experiment: %d jobs, logs in %s", o.Jobs, filepath.Join(o.Out, "jobs", "J", "log.txt"))
		var job study.Start
		if job, err = o.startJob(vqPath); err != nil {
			return err
		}
		res, err = study.RunJobs(ctx, c, o.Out, o.Jobs, d.Tokenizer, job)
		if ctx.Err() != nil {
			logf("interrupted: the jobs saved their runs in %s; continue with the same command", filepath.Join(o.Out, "jobs"))
		}
	} else {
		steps := &progress.Runs{Options: progressOptions()}
		res, err = study.Run(ctx, c, d, study.Options{Dir: o.Out, Shard: shard, With: o.With, Logf: logf, OnStep: steps.Step})
		steps.Finish()
	}
	if res != nil {
		logf("%s: %d of %d runs done in %.0f s; wrote results.json, report.md and report.html", o.Out, len(res.Runs), res.Planned, time.Since(start).Seconds())
	}
	return err
}

// jobCount returns the jobs a study of runs starts on cores when --jobs
// asks for asked: no more than the runs (a job without one has nothing to
// do) nor than the cores (each job needs one).
func jobCount(asked, runs, cores int) int {
	return max(1, min(asked, runs, cores))
}

// startJob starts one job of --jobs: this program's experiment command on a
// shard of the study.
func (o experimentOptions) startJob(vqPath string) (study.Start, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return study.Command(exe, func(shard study.Shard, dir string, with []string) []string {
		return []string{"experiment", "--spec", o.Out, "--data", o.Data, "--vq", vqPath, "--out", dir,
			"--shard", fmt.Sprintf("%d/%d", shard.I, shard.N), "--with", strings.Join(with, ","),
			"--classifier-steps", strconv.Itoa(o.ClassifierSteps)}
	}, filepath.Join(o.Out, "lenet")), nil
}

// ensureVQ returns a finished tokenizer: the given one, or OUT/vq trained
// (or resumed) to steps on the training images before the validation split.
func ensureVQ(ctx context.Context, path string, data dataOptions, out string, steps, valSize int) (string, error) {
	if path != "" {
		return path, nil
	}
	dir := filepath.Join(out, "vq")
	if info, err := vqvae.ReadInfo(dir); err == nil && info.Step >= steps {
		return dir, nil
	}
	all, err := data.open()
	if err != nil {
		return "", err
	}
	if all.N <= valSize {
		return "", usagef("--val-size %d: the training split of %s has only %d images", valSize, data.Data, all.N)
	}
	_, err = os.Stat(filepath.Join(dir, "resume.safetensors"))
	o := defaultTrainVQOptions()
	o.dataOptions, o.Out, o.Steps, o.Resume = data, dir, steps, err == nil
	o.Limit = all.N - valSize
	logf("experiment: training the tokenizer (%d steps on the first %d training images) into %s", steps, o.Limit, dir)
	if _, err := runTrainVQ(ctx, io.Discard, o); err != nil {
		return "", err
	}
	return dir, nil
}

type experimentReportOptions struct {
	Out, VQ, Data string
}

func newExperimentReportCommand() *cobra.Command {
	var o experimentReportOptions
	cmd := &cobra.Command{
		Use:   "report --out DIR IN [IN ...]",
		Short: "Merge the finished runs of study folders (shards, or parts of other codebook sizes) into one results.json and report",
		Long: `report gathers the finished runs of study folders into one results.json,
report.md and report.html. Folders of one design and tokenizer are shards
of one study; folders of other designs or tokenizers are parts of one
report, compared cell by cell (codebook size, training-set size), as the
second edition of the study is: one part per codebook size and budget,
each run with --codebook-size so that their run names differ.`,
		Example: `  vqtool experiment report --out study study-1 study-2
  vqtool experiment report --out docs/study docs/study/parts/*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentReport(cmd.Context(), cmd.OutOrStdout(), o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Out, "out", "o", "", "folder to write the merged study into")
	f.StringVar(&o.VQ, "vq", "", "the tokenizer of every folder (default: the one each folder's study.json names; IN/vq of the first folder for a study.json that names none)")
	f.StringVar(&o.Data, "data", "fashion-mnist", "the study's data set (for class names)")
	return cmd
}

func runExperimentReport(_ context.Context, w io.Writer, o experimentReportOptions, inputs []string) error {
	if o.Out == "" {
		return usagef("--out: want the folder to write the merged study into")
	}
	d, err := (&dataOptions{Data: o.Data, Split: "test", Limit: 1}).open()
	if err != nil {
		return err
	}
	loaded := map[string]study.Tokenizer{}
	tok := func(dir string) (study.Tokenizer, error) {
		path := o.VQ
		if path == "" {
			var err error
			if path, err = study.TokenizerOf([]string{dir}); err != nil {
				return study.Tokenizer{}, err
			}
			if path == "" { // a study.json of an older vqtool: its own vq, or the first folder's
				path = filepath.Join(dir, "vq")
				if _, err := os.Stat(filepath.Join(path, "config.json")); err != nil {
					path = filepath.Join(inputs[0], "vq")
				}
			}
		}
		if t, ok := loaded[path]; ok {
			return t, nil
		}
		vq, _, err := loadVQ(path)
		if err != nil {
			return study.Tokenizer{}, err
		}
		loaded[path] = study.Tokenizer{VQ: vq, VQPath: path, Classes: d.Classes}
		return loaded[path], nil
	}
	res, err := study.Merge(o.Out, inputs, tok)
	if err != nil {
		return err
	}
	parts := max(1, len(res.Parts))
	logf("%s: %d of %d runs from %d folders (%d parts); wrote results.json, report.md and report.html", o.Out, len(res.Runs), res.Planned, len(inputs), parts)
	return nil
}
