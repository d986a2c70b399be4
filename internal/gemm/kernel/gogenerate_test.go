package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The assembly written by the Go generators under internal/gen is what they
// write now: each //go:generate go run line of this package runs again in
// a temporary folder, and its -out and -stubs files (named relative to
// this folder) must equal the committed ones. Run go generate ./internal/gemm/kernel after a change.
func TestGoGeneratedFilesAreCurrent(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run the generators")
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(src)) {
			args, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:generate go run ")
			if !ok {
				continue
			}
			ran++
			// Build the generator, then run it in a temporary folder with the
			// directive's own arguments: its outputs land there, and a header
			// that quotes the command line reads the same.
			fields := strings.Fields(args)
			dir := t.TempDir()
			bin := filepath.Join(dir, "generator")
			build := exec.Command(gobin, "build", "-o", bin, fields[0])
			// The generators are host tools: when this test is itself
			// cross-compiled (GOARCH=arm64 go test -exec qemu-...), they
			// must still be built for the machine it runs on.
			build.Env = append(os.Environ(), "GOOS=", "GOARCH=")
			if msg, err := build.CombinedOutput(); err != nil {
				t.Fatalf("%s: go build %s: %v\n%s", f, fields[0], err, msg)
			}
			var outputs []string
			for i := 1; i+1 < len(fields); i++ {
				if fields[i] == "-out" || fields[i] == "-stubs" {
					outputs = append(outputs, fields[i+1])
				}
			}
			cmd := exec.Command(bin, fields[1:]...)
			cmd.Dir = dir
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: go run %s: %v\n%s", f, args, err, msg)
			}
			for _, out := range outputs {
				got, err := os.ReadFile(filepath.Join(dir, out))
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s is not what go run %s writes: run go generate ./internal/gemm/kernel", out, fields[0])
				}
			}
		}
	}
	t.Logf("%d generators checked", ran)
}
