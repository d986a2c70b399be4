//go:build openblas && cgo

package nn

// #cgo LDFLAGS: -lopenblas
import "C"

import "gonum.org/v1/netlib/blas/netlib"

func init() { useBLAS(netlib.Implementation{}, "openblas (cgo)") }
