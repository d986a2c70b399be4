package study

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/vqtool/vqtool/generator"
	"github.com/vqtool/vqtool/imageio"
	"github.com/vqtool/vqtool/internal/atomicfile"
)

// Start runs shard of a study into dir (another process, typically: vqtool
// experiment --shard), counting the finished runs of the folders in with. It
// returns an error wrapping ErrNeedSweep when runs of the shard still wait
// for other shards' runs.
type Start func(ctx context.Context, shard Shard, dir string, with []string) error

// RunJobs runs a study as n shards side by side, each started by start in its
// own folder dir/jobs/J (J = 1..n), then merges them into dir. On a machine
// whose generator steps do not use every core (small models), n processes of
// one core each do more in an hour than one process of n cores.
//
// Runs that dir already holds (from a run without jobs) go to the job that
// owns them, so nothing is trained twice. Jobs whose runs wait for another
// job's (DIST2 runs for the sweep, the fine-tune arm for its ce runs) are
// started once more when every job has stopped: by then the sweep and the ce
// runs are done. At the end dir/runs holds every finished run's result (and
// the best checkpoints the fine-tune arm starts from), as a study run in one
// process leaves it.
func RunJobs(ctx context.Context, c Config, dir string, n int, tok Tokenizer, start Start) (*Results, error) {
	if n < 1 {
		return nil, fmt.Errorf("study: %d jobs: want at least 1", n)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := claim(dir, c, tok.VQPath); err != nil {
		return nil, err
	}
	dirs := make([]string, n)
	for j := range dirs {
		dirs[j] = filepath.Join(dir, "jobs", strconv.Itoa(j+1))
		if err := claim(dirs[j], c, tok.VQPath); err != nil {
			return nil, err
		}
	}
	if err := c.handOut(dir, dirs); err != nil {
		return nil, err
	}
	pending := make([]int, n)
	for j := range pending {
		pending[j] = j
	}
	for round := 0; len(pending) > 0; round++ {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for _, j := range pending {
			var with []string
			for i, d := range dirs {
				if i != j {
					with = append(with, d)
				}
			}
			wg.Go(func() { errs[j] = start(ctx, Shard{j + 1, n}, dirs[j], with) })
		}
		wg.Wait()
		var again []int
		for _, j := range pending {
			switch err := errs[j]; {
			case err == nil:
			case errors.Is(err, ErrNeedSweep) && round == 0:
				again = append(again, j)
			default:
				return nil, fmt.Errorf("study: job %d of %d (%s): %w", j+1, n, dirs[j], err)
			}
		}
		pending = again
	}
	res, err := Merge(dir, dirs, tok.For)
	if err != nil {
		return nil, err
	}
	_, from, err := readRuns(dirs)
	if err != nil {
		return nil, err
	}
	for _, r := range res.Runs {
		if err := c.copyRun(dir, from[r.Name], r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// handOut gives each job the finished runs of dir that belong to its shard.
func (c Config) handOut(dir string, jobs []string) error {
	runs, _, err := readRuns([]string{dir})
	if err != nil {
		return err
	}
	k := map[string]int{}
	for i, r := range c.Plan() {
		k[r.Name] = i
	}
	for _, r := range runs {
		i, ok := k[r.Name]
		if !ok {
			continue // not a run of this study: Merge will say so
		}
		if err := c.copyRun(jobs[i%len(jobs)], dir, r); err != nil {
			return err
		}
	}
	return nil
}

// copyRun copies a finished run's result, curve and samples from the study
// folder src to dst, unless dst has the run; and the best checkpoint of a run
// the fine-tune arm starts from.
func (c Config) copyRun(dst, src string, r Result) error {
	if dst == src {
		return nil
	}
	to, from := filepath.Join(dst, "runs", r.Name), filepath.Join(src, "runs", r.Name)
	if _, err := os.Stat(filepath.Join(to, resultFile)); err == nil {
		return nil
	}
	files := []string{filepath.Join("runs", r.Name, "curve.json")}
	if r.Samples != "" {
		files = append(files, r.Samples, imageio.LabelsPath(r.Samples))
	}
	if c.FineTune > 0 && r.pass() == 1 && r.Loss == fineTuneFrom {
		best, err := os.ReadDir(filepath.Join(from, generator.BestDir))
		if err != nil {
			return fmt.Errorf("study: %s: the fine-tune arm starts from its best checkpoint: %w", from, err)
		}
		for _, f := range best {
			files = append(files, filepath.Join("runs", r.Name, generator.BestDir, f.Name()))
		}
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(src, f)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := mkdirFor(filepath.Join(dst, f)); err != nil {
			return err
		}
		if err := atomicfile.Copy(filepath.Join(dst, f), filepath.Join(src, f)); err != nil {
			return err
		}
	}
	// The result last: it marks the run finished.
	if err := mkdirFor(filepath.Join(to, resultFile)); err != nil {
		return err
	}
	return atomicfile.Copy(filepath.Join(to, resultFile), filepath.Join(from, resultFile))
}
