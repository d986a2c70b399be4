//go:build openblas && cgo

package gemm

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"os"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() {
	// Goroutines own the parallelism: each BLAS call runs on one thread, or
	// OpenBLAS's pool and the goroutines fight over the same cores.
	C.openblas_set_num_threads(1)
	Impl, name = netlib.Implementation{}, "openblas (cgo)"
}

// blasEnv names what OpenBLAS needs from the environment, which it reads
// once, when the library loads:
//   - OPENBLAS_CORETYPE on processors its build does not know: Debian's
//     0.3.21 takes this machine's AVX-512 CPU for a Prescott and runs SSE3
//     kernels, 2-3x slower. Haswell's AVX2 kernels run on every processor
//     that has AVX2 and FMA.
//   - OPENBLAS_NUM_THREADS=1: openblas_set_num_threads(1) keeps calls on one
//     thread, but the pool it started at load time still wakes and spins
//     (about a tenth of the CPU in a profiled training step), on cores the
//     goroutines need.
func blasEnv() []string {
	var env []string
	if os.Getenv("OPENBLAS_CORETYPE") == "" && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		env = append(env, "OPENBLAS_CORETYPE=Haswell")
	}
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" {
		env = append(env, "OPENBLAS_NUM_THREADS=1")
	}
	return env
}
