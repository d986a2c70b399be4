package study

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/vqtool/vqtool/internal/atomicfile"
	"github.com/vqtool/vqtool/internal/par"
)

// ExitNeedSweep is the exit status of a shard's process whose runs wait for
// other shards' runs (ErrNeedSweep): run it again once they are done.
const ExitNeedSweep = 3

// Command returns a Start that runs each shard as the program exe with the
// arguments args gives, after copying the study's classifier (the folder
// classifier) into the shard's folder as lenet, so that every shard scores
// with the same one. The process gets its share of the cores and the same
// split of every loop as this one (par.SplitEnv), so it computes the same
// bits; it logs to dir/log.txt. When ctx ends the process gets SIGTERM: it
// saves its run and stops. Windows has no SIGTERM to send: there the process
// is killed and resumes from its last save.
func Command(exe string, args func(shard Shard, dir string, with []string) []string, classifier string) Start {
	return func(ctx context.Context, shard Shard, dir string, with []string) error {
		for _, f := range []string{"config.json", "model.safetensors"} {
			dst := filepath.Join(dir, "lenet", f)
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := atomicfile.Copy(dst, filepath.Join(classifier, f)); err != nil {
				return err
			}
		}
		logPath := filepath.Join(dir, "log.txt")
		log, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer log.Close()
		cmd := exec.CommandContext(ctx, exe, args(shard, dir, with)...)
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/shard.N)),
			par.SplitEnv+"="+strconv.Itoa(par.Split()))
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Cancel = func() error {
			if runtime.GOOS == "windows" {
				return cmd.Process.Kill()
			}
			return cmd.Process.Signal(syscall.SIGTERM)
		}
		cmd.WaitDelay = time.Minute
		err = cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) && ee.ExitCode() == ExitNeedSweep:
			return fmt.Errorf("%w (%s)", ErrNeedSweep, logPath)
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			return fmt.Errorf("%w: see %s", err, logPath)
		}
		return nil
	}
}
