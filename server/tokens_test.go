package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// Regression: SIGHUP did not reload the tokens file, so a removed token
// kept working. It now does; a file that breaks a rule is refused, logged
// with its line, and the tokens in force stay.
func TestReloadSignalReloadsTokens(t *testing.T) {
	const first, second = "first-token-0123456789", "second-token-0123456789"
	path := filepath.Join(t.TempDir(), "tokens.txt")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(first + "\n" + second + "\n")
	signals := make(chan os.Signal, 1)
	cfg := serverConfig()
	cfg.AuthTokensFile, cfg.AllowPlaintextTokens, cfg.ReloadSignals = path, true, signals
	ts := startServer(t, cfg)
	// accepted reports whether a call with token got past auth.
	accepted := func(token string) bool {
		_, err := ts.catalog.ListFrameworks(withToken(token), &safethirdv1.ListFrameworksRequest{})
		return status.Code(err) != codes.Unauthenticated
	}
	if !accepted(first) || !accepted(second) {
		t.Fatal("a token in the file was refused")
	}
	hup := func(wantLog string) {
		t.Helper()
		before := ts.logs.FilterMessage(wantLog).Len()
		signals <- syscall.SIGHUP
		waitFor(t, wantLog, func() bool { return ts.logs.FilterMessage(wantLog).Len() > before })
	}

	write(first + "\n") // the second token is revoked
	hup("tokens reloaded")
	if accepted(second) {
		t.Error("the token removed from the file still works")
	}
	if !accepted(first) {
		t.Error("the token kept in the file was refused")
	}

	write("# ops\n" + first + "\nx\n") // a one-character token: refused whole
	hup("tokens file refused; the tokens in force stay")
	line := ts.logs.FilterMessage("tokens file refused; the tokens in force stay").All()[0].ContextMap()
	if got := fmt.Sprint(line["error"]); !strings.Contains(got, path+":3: a token is at least 16 characters") || strings.Contains(got, first) {
		t.Errorf("refusal logged as %q; want the file, line 3 and the rule, and no token", got)
	}
	if !accepted(first) {
		t.Error("after a refused file, the token in force was refused")
	}
}

func TestNewRefusesABadTokensFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(path, []byte("\ufeffa-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig()
	cfg.AuthTokensFile, cfg.AllowPlaintextTokens = path, true
	if _, err := server.New(cfg, nil); err == nil || !strings.Contains(err.Error(), path+":1: character 1 is not ASCII") {
		t.Errorf("New = %v, want the byte-order mark refused at line 1", err)
	}
	cfg.AuthTokens = []string{"another-token-0123456789"}
	if _, err := server.New(cfg, nil); err == nil {
		t.Error("New accepted tokens from a list and a file")
	}
}
