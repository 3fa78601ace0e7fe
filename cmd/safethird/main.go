// Command safethird is the safethird service and its command-line client:
// `safethird serve` starts the gRPC server; the other commands talk to one,
// or check a dataset.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit code: 0 when
// the command did its work, 1 when it failed, 2 on a usage error.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cmd := newRootCommand(os.Stdout, os.Stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, ex.msg)
		}
		return ex.code
	}
	fmt.Fprintln(os.Stderr, "safethird:", err)
	return 1
}

// exitError carries an exit code and an optional message already formatted
// for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: "safethird: " + fmt.Sprintf(format, args...)}
}
