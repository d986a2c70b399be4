//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// archPaths lists the amd64 paths the processor runs, fastest first. The
// operating system must save the wide registers too, which x/sys/cpu
// checks (OSXSAVE and XCR0) before it reports AVX2 or AVX-512.
func archPaths() []Path {
	var ps []Path
	if cpu.X86.HasAVX512F {
		ps = append(ps, AVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ps = append(ps, AVX2)
	}
	return ps
}
