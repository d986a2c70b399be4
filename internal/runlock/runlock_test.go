package runlock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	release, stale, err := Acquire(dir)
	if err != nil || stale != 0 {
		t.Fatal(err, stale)
	}
	if _, _, err := Acquire(dir); !errors.Is(err, ErrBusy) {
		t.Errorf("a second writer: %v, want ErrBusy", err)
	}
	release()
	if _, err := os.Stat(filepath.Join(dir, File)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock is still there after release: %v", err)
	}

	// A lock of a process that has exited is reported and taken over.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	dead := cmd.Process.Pid
	os.WriteFile(filepath.Join(dir, File), []byte(strconv.Itoa(dead)+"\n"), 0o644)
	release, stale, err = Acquire(dir)
	if err != nil || stale != dead {
		t.Fatalf("a dead holder's lock: stale %d, %v; want %d replaced", stale, err, dead)
	}
	release()
}
