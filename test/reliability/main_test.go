package reliability_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// safethirdBin is the safethird binary TestMain builds once for every test;
// set before any test runs and never changed after.
var safethirdBin string

// testBinaryEnv names a safethird binary to test instead of building one:
// to check that a regression test fails on an older build, as it must.
// Settings the older build lacks are passed as SAFETHIRD_ variables, which
// it ignores, rather than flags, which it would refuse.
const testBinaryEnv = "SAFETHIRD_TEST_BINARY"

// TestMain builds the binary, runs the tests, and fails the package when a
// test leaves a goroutine behind: every client, connection and process
// watcher must be stopped by the test that started it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "safethird-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	safethirdBin = filepath.Join(dir, "safethird")
	build := exec.Command("go", "build", "-o", safethirdBin, "github.com/safethird/safethird/cmd/safethird")
	if bin := os.Getenv(testBinaryEnv); bin != "" {
		safethirdBin = bin
	} else if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}))
}
