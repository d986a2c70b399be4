package nn

import (
	"gorgonia.org/gorgonia"

	"github.com/vqtool/vqtool/internal/gemm"
)

func init() { gorgonia.Use(gemm.Impl) }

// BLAS names the BLAS implementation every GEMM runs on.
func BLAS() string { return gemm.Name() }
