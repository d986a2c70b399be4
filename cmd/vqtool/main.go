// Command vqtool turns images into VQ codebook tokens and trains
// autoregressive token generators with DIST2Loss.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vqtool/vqtool/internal/gemm"
	"github.com/vqtool/vqtool/internal/memory"
	"github.com/vqtool/vqtool/internal/progress"
	"github.com/vqtool/vqtool/study"
)

// usageError marks an error in the command line rather than in the work.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// globalOptions are the flags every command takes.
type globalOptions struct {
	Quiet         bool
	ProgressEvery progress.Interval // when stderr is not a terminal; zero: progress.DefaultEvery
	MaxMemory     memory.Size       // the budget of a command's large arrays; zero: memory.DefaultBudget
}

var global globalOptions

// runContext is the running command's context, which main cancels on
// SIGINT or SIGTERM, for the reads of helpers that take no context (see
// dataOptions.open).
var runContext = context.Background()

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vqtool",
		Short: "VQ image tokens and DIST2Loss token generators",
		Long: `vqtool trains a VQ-VAE tokenizer on images, turns images into codebook token
grids and back, and trains autoregressive generators over the tokens with
DIST2Loss (CE + alpha * KL(p_d || p_theta), p_d from codebook distances).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       currentVersion().text(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if ctx := cmd.Context(); ctx != nil {
				runContext = ctx
			}
			if err := checkFlags(cmd); err != nil {
				return err
			}
			if err := routeOut(cmd); err != nil {
				return err
			}
			if err := gemm.PathError(); err != nil && cmd.Name() != "version" {
				logf("vqtool: %v", err) // a forced kernel path that did not take: say so before any timing
			}
			return nil
		},
	}
	root.SetVersionTemplate("vqtool {{.Version}}") // the same text as vqtool version
	root.PersistentFlags().BoolVarP(&global.Quiet, "quiet", "q", false, "no progress bars or logs on stderr")
	global.ProgressEvery = progress.Interval{Every: progress.DefaultEvery}
	global.MaxMemory = memory.DefaultBudget
	root.PersistentFlags().Var(&global.ProgressEvery, "progress-every", "when stderr is not a terminal (a log file, nohup, Slurm), print a progress line every DURATION (30s) or every N steps or items (50)")
	root.PersistentFlags().Var(&global.MaxMemory, "max-memory", "the most memory a command's large arrays (data, target tables, picture grids) may take: a size such as 4G or 512M")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newVersionCommand(),
		newDataCommand(),
		newKernelCommand(),
		newTrainVQCommand(),
		newEncodeCommand(),
		newDecodeCommand(),
		newReconstructCommand(),
		newTrainGenCommand(),
		newSampleCommand(),
		newSwapCommand(),
		newExploreCommand(),
		newCodebookCommand(),
		newTrainClassifierCommand(),
		newEvalCommand(),
		newTargetsCommand(),
		newExperimentCommand(),
		newDemoCommand(),
		newBenchCommand(),
	)
	return root
}

// isUsage reports an error in the command line: ours, or cobra's for an
// unknown command or a wrong number of arguments (which it does not type).
func isUsage(err error) bool {
	var ue usageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the first signal asks the command to stop; a second one ends the process
	}()
	err := newRootCommand().ExecuteContext(ctx)
	if err == nil {
		return
	}
	if errors.Is(err, study.ErrNeedSweep) {
		fmt.Fprintln(os.Stderr, "vqtool:", err)
		os.Exit(study.ExitNeedSweep)
	}
	if errors.Is(err, context.Canceled) {
		if err.Error() != context.Canceled.Error() {
			fmt.Fprintln(os.Stderr, "vqtool:", err) // where a read stopped
		}
		os.Exit(130) // a training command said where it stopped and how to go on
	}
	fmt.Fprintln(os.Stderr, "vqtool:", err)
	if isUsage(err) {
		os.Exit(2)
	}
	os.Exit(1)
}
