package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// server, watcher and connection must be stopped by the test that started it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
