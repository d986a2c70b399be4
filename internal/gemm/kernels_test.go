package gemm

import (
	"fmt"
	"testing"

	"github.com/vqtool/vqtool/internal/gemm/kernel"
)

// BenchmarkKernels compares each path's kernels with the BLAS on the shapes of
// ref-gen (64 rows when sampling, 49 x 49 attention) and of ref-vq's
// convolutions (patches x weights, and the two gradients).
func BenchmarkKernels(b *testing.B) {
	for _, s := range [][3]int{{64, 768, 256}, {64, 1024, 256}, {64, 256, 1024}, {64, 512, 256}, {49, 49, 32}, {49, 32, 49}, {256, 768, 256}, {128, 768, 256}, {1568, 64, 1152}, {1568, 128, 1152}, {1152, 64, 3136}, {3136, 1152, 64}} {
		m, n, k := s[0], s[1], s[2]
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		flops := 2 * float64(m*n*k)
		for _, p := range kernel.Paths() {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer kernel.SetForTest(p)()
				for b.Loop() {
					Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
