//go:build openblas && cgo

package gemm

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import "gonum.org/v1/netlib/blas/netlib"

func init() {
	// Goroutines own the parallelism: each BLAS call runs on one thread, or
	// OpenBLAS's pool and the goroutines fight over the same cores.
	C.openblas_set_num_threads(1)
	Impl, name = netlib.Implementation{}, "openblas (cgo)"
}
