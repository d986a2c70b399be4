package runlock

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	release, stale, err := Acquire(dir)
	if err != nil || stale != 0 {
		t.Fatal(err, stale)
	}
	_, _, err = Acquire(dir)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Errorf("a second writer: %v, want ErrBusy naming process %d", err, os.Getpid())
	}
	release()
	if _, err := os.Stat(filepath.Join(dir, File)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock is still there after release: %v", err)
	}
	release, stale, err = Acquire(dir)
	if err != nil || stale != 0 {
		t.Fatalf("after release: stale %d, %v", stale, err)
	}
	release()
}

// helperEnv makes the test binary hold the lock of the folder it names
// until it is killed.
const helperEnv = "RUNLOCK_TEST_HOLD"

func TestHoldHelper(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("run by TestDeadHolder")
	}
	if _, _, err := Acquire(dir); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	os.Stdin.Read(make([]byte, 1)) // until killed
}

// A run that is killed holding the lock loses it with its process: the next
// run takes over and names it.
func TestDeadHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldHelper$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe() // held open: the helper waits on it
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the helper did not take the lock: %q, %v", line, err)
	}
	holder := cmd.Process.Pid
	_, _, err = Acquire(dir)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), strconv.Itoa(holder)) {
		t.Errorf("a live holder: %v, want ErrBusy naming process %d", err, holder)
	}
	cmd.Process.Kill()
	cmd.Wait()
	release, stale, err := Acquire(dir)
	if err != nil || stale != holder {
		t.Fatalf("a killed holder's lock: stale %d, %v; want %d replaced", stale, err, holder)
	}
	release()
}

// A lock file that no process holds is taken over, whatever it names: here
// this very process, alive, as a reused process id would be.
func TestLeftFile(t *testing.T) {
	dir := t.TempDir()
	me := os.Getpid()
	os.WriteFile(filepath.Join(dir, File), []byte(strconv.Itoa(me)+"\n"), 0o644) // as older vqtools wrote it
	release, stale, err := Acquire(dir)
	if err != nil || stale != me {
		t.Fatalf("a left lock file: stale %d, %v; want %d replaced", stale, err, me)
	}
	if got := readPID(filepath.Join(dir, File)); got != me {
		t.Errorf("the lock file names %d, want %d", got, me)
	}
	release()
}
