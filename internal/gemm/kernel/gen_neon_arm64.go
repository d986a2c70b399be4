package kernel

// The NEON kernels and their declarations are written by a Go generator
// that runs on any host; go generate reads this file when GOARCH is arm64
// (GOARCH=arm64 go generate ./internal/gemm/kernel elsewhere).

//go:generate go run ./internal/gen/neon -out kernel_neon_arm64.s -stubs kernel_neon_stub_arm64.go
