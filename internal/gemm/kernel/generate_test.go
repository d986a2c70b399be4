package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The committed assembly is what its generators write from the tile sizes
// in blocked.go: go generate after a change, or this test fails.
func TestGeneratedAssemblyIsCurrent(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the generators")
	}
	dir := t.TempDir()
	for _, f := range []string{"mkkernel.sh", "mkwinograd.sh", "blocked.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for script, out := range map[string]string{"mkkernel.sh": "kernel_amd64.s", "mkwinograd.sh": "winograd_amd64.s"} {
		cmd := exec.Command(bash, script)
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, msg)
		}
		got, err := os.ReadFile(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what %s writes: run go generate ./internal/gemm/avx512", out, script)
		}
	}
}
