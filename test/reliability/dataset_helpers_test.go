package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safethird/safethird/dataset"
)

// sealedCopy copies the repository's data/ into a new directory and seals
// it in this process, so the seal does not depend on the binary tested.
func sealedCopy(t *testing.T, opts dataset.LoadOptions) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dataset")
	copyDir(t, repoDataDir(t), dir)
	reseal(t, dir, opts)
	return dir
}

// reseal seals dir again after an edit, as a release does.
func reseal(t *testing.T, dir string, opts dataset.LoadOptions) string {
	t.Helper()
	m, err := opts.Seal(dir, nil)
	if err != nil {
		t.Fatalf("seal %s: %v", dir, err)
	}
	return m.Revision
}

// run is one finished run of the binary. (Its peak memory is not here:
// getrusage reports the parent's at the fork for a child that execs.)
type run struct {
	out      string
	code     int
	duration time.Duration
}

// runSafethird runs the binary with args, in the environment less
// SAFETHIRD_ variables plus env; it fails the test if the run takes longer
// than limit.
func runSafethird(t *testing.T, limit time.Duration, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, safethirdBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SAFETHIRD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := run{out: out.String(), duration: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("safethird %s still running after %v", strings.Join(args, " "), limit)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run safethird %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// procStatus reads one kB field (VmRSS, VmHWM) of /proc/PID/status.
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatalf("read /proc status: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatalf("parse %s %q: %v", field, rest, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// cpuTime is the CPU time the process has used, from /proc/PID/stat
// (utime and stime, in the kernel's 100 Hz clock ticks).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatalf("read /proc stat: %v", err)
	}
	// The command name, in parentheses, may hold spaces: fields follow it.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc stat: %v %v", err1, err2)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// mib formats kB as MiB for a figure.
func mib(kb int) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// wantRefusedBySignal sends SIGHUP and fails the test unless the dataset is
// refused, the revision served stays rev and a problem line holds want. It
// returns the problem lines logged.
func wantRefusedBySignal(t *testing.T, srv *serverProc, rev, want string) []string {
	t.Helper()
	line, log := srv.reloadBySignal(t)
	if line["msg"] != "dataset refused; the last good revision keeps serving" || line["dataset_revision"] != rev {
		t.Errorf("after SIGHUP: %v; want the dataset refused and %s kept", line, rev)
	}
	var problems []string
	for _, l := range parseLog(log, "") {
		for _, field := range refusalLines[fmt.Sprint(l["msg"])] {
			problems = append(problems, fmt.Sprint(l[field]))
		}
	}
	if !strings.Contains(strings.Join(problems, "\n"), want) {
		t.Errorf("no problem line with %q; problems logged:\n%s", want, strings.Join(problems, "\n"))
	}
	return problems
}
