package kernel

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Path names one set of kernels. Every path computes the same contracts;
// they differ in the instructions they use.
type Path string

// The paths, fastest first.
const (
	AVX512  Path = "avx512"  // amd64 with AVX-512F
	AVX2    Path = "avx2"    // amd64 with AVX2 and FMA
	NEON    Path = "neon"    // arm64 (Advanced SIMD is part of ARMv8-A)
	Generic Path = "generic" // plain Go loops and gonum's BLAS, on any processor
)

// Env is the environment variable that forces a path: one the processor
// runs, for tests and comparisons. Unset or empty, the fastest runs.
const Env = "VQTOOL_CPU"

var (
	// available lists the paths this build runs on this processor,
	// fastest first; Generic is always last.
	available = append(archPaths(), Generic)

	path, pathErr = choose(os.Getenv(Env))

	// enabled says whether a vector path runs: the drivers call the
	// kernels when it is set and their plain loops otherwise.
	enabled = path != Generic
)

// choose returns the path to run when the environment asks for want: the
// fastest available one when want is empty, want itself when it is
// available, and otherwise the fastest available with an error that says
// why want was not taken.
func choose(want string) (Path, error) {
	best := available[0]
	if want == "" {
		return best, nil
	}
	p := Path(strings.ToLower(strings.TrimSpace(want)))
	switch p {
	case AVX512, AVX2, NEON, Generic:
	default:
		return best, fmt.Errorf("%s=%q: want one of avx512, avx2, neon, generic; running %s", Env, want, best)
	}
	if !slices.Contains(available, p) {
		return best, fmt.Errorf("%s=%s: this processor and build run %s; running %s", Env, p, strings.Join(names(available), ", "), best)
	}
	return p, nil
}

func names(ps []Path) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return s
}

// Current returns the path in use.
func Current() Path { return path }

// Paths returns the paths this build can run on this processor, fastest
// first; the last is Generic.
func Paths() []Path { return slices.Clone(available) }

// EnvError returns why the environment's request (Env) was not followed,
// or nil when it was or there was none.
func EnvError() error { return pathErr }

// Enabled reports whether a vector path runs (anything but Generic).
func Enabled() bool { return enabled }

// SetForTest runs path p until restore is called, so that a test can
// compare paths. It panics when p is not in Paths(). Not safe while other
// goroutines compute.
func SetForTest(p Path) (restore func()) {
	if !slices.Contains(available, p) {
		panic(fmt.Sprintf("kernel: path %s does not run here (%v)", p, available))
	}
	old := path
	path, enabled = p, p != Generic
	return func() { path, enabled = old, old != Generic }
}
