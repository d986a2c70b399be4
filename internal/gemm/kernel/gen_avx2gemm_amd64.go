//go:build amd64 && !purego

package kernel

//go:generate go run ./internal/gen/avx2gemm -out gemm_avx2_amd64.s -stubs gemm_avx2_stub_amd64.go -pkg kernel
