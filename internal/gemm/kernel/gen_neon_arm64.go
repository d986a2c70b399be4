package kernel

// The NEON kernels and their declarations are written by a Go generator
// that only writes text. go generate reads this file on arm64; elsewhere,
// run the line below by hand in this directory (GOARCH=arm64 go generate
// would build the generator for arm64 too and fail to run it).

//go:generate go run ./internal/gen/neon -out kernel_neon_arm64.s -stubs kernel_neon_stub_arm64.go
