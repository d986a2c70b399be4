package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

// impl is the BLAS every GEMM of this package and of gorgonia runs on: the
// pure-Go gonum one unless a build tag installs a faster one at init.
var (
	impl     blas.Float32 = gonum.Implementation{}
	implName              = "gonum (pure Go)"
)

// useBLAS installs b for this package and for gorgonia.
func useBLAS(b gorgonia.BLAS, name string) {
	impl, implName = b, name
	gorgonia.Use(b)
}

// BLAS names the BLAS implementation in use.
func BLAS() string { return implName }
