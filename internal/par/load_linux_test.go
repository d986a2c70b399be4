//go:build linux

package par

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkForUnderLoad times a training step's mix of loops (a few hundred,
// 20 us to 1 ms of work each) on a quiet machine and beside two busy loops
// at nice 19, which the scheduler gives about 1.5% of the processor, in
// alternating rounds; it reports the median time of a step of each and
// their ratio (loaded-ratio: 1 is no slowdown). Each iteration is one
// round of both. The target, on train-gen: at most 1.1.
//
//	go test -run '^$' -bench ForUnderLoad -benchtime 10x ./internal/par
func BenchmarkForUnderLoad(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 || Split() < 2 {
		b.Skip("one P or a split of one: nothing runs in parallel")
	}
	if _, err := exec.LookPath("nice"); err != nil {
		b.Skip("no nice(1)")
	}
	out := make([]float64, 1000)
	// work is about a microsecond per item.
	work := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := float64(i)
			for k := range 300 {
				s = math.Sqrt(s + float64(k))
			}
			out[i] = s
		}
	}
	// The loops of one step: their sizes in items, smallest most often.
	var step []int
	for range 15 {
		step = append(step, slices.Repeat([]int{20}, 10)...)
		step = append(step, 60, 60, 60, 200)
	}
	step = append(step, 1000, 1000)
	const steps = 20 // per phase of a round
	phase := func() float64 {
		start := time.Now()
		for range steps {
			for _, n := range step {
				For(n, 1, work)
			}
		}
		return float64(time.Since(start).Nanoseconds()) / steps
	}
	phase() // the helpers exist and the code is warm
	var quiet, loaded []float64
	for b.Loop() {
		quiet = append(quiet, phase())
		stop := busy(b, 2)
		time.Sleep(20 * time.Millisecond) // the scheduler has placed them
		loaded = append(loaded, phase())
		stop()
	}
	q, l := median(quiet), median(loaded)
	b.ReportMetric(q/1e6, "quiet-ms/step")
	b.ReportMetric(l/1e6, "loaded-ms/step")
	b.ReportMetric(l/q, "loaded-ratio")
	b.ReportMetric(0, "ns/op") // an iteration is a round of both: its time says nothing
}

// busy starts k processes that spin at nice 19 and returns a function that
// kills them; they are killed at the end of b too, and each stops by itself
// when this process is gone (SIGKILLed, say) or with this thread (Pdeathsig).
func busy(b *testing.B, k int) (stop func()) {
	b.Helper()
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
		cmds = nil
	}
	b.Cleanup(stop)
	loop := "while kill -0 " + strconv.Itoa(os.Getpid()) + " 2>/dev/null; do :; done"
	for range k {
		c := exec.Command("nice", "-n", "19", "sh", "-c", loop)
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			stop()
			b.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	return stop
}

func median(x []float64) float64 {
	s := slices.Sorted(slices.Values(x))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
