//go:build !(openblas && cgo)

package gemm

func blasEnv() []string { return nil }
