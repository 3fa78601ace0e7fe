package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// TestCLIAgainstServer builds the safethird binary, starts `safethird
// serve` on a free loopback port, and runs the CLI as a user would, for
// every command, output format and exit code.
func TestCLIAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a server")
	}
	bin := buildServeBinary(t)
	addr := startServer(t, bin)

	t.Run("assess text", func(t *testing.T) {
		r := runCLI(t, bin, addr, "assess", "MX", "--as-of", "2019-01-01")
		r.wantExit(t, 0)
		golden(t, "assess-MX-2019-01-01.txt", r.stdout)
	})
	t.Run("assess markdown", func(t *testing.T) {
		r := runCLI(t, bin, addr, "assess", "mx", "--as-of", "2019-01-01", "-o", "markdown")
		r.wantExit(t, 0)
		golden(t, "assess-MX-2019-01-01.md", r.stdout)
	})
	t.Run("assess json", func(t *testing.T) {
		r := runCLI(t, bin, addr, "assess", "MX", "--as-of", "2019-01-01", "--output", "json")
		r.wantExit(t, 0)
		var resp pb.AssessCountryResponse
		r.unmarshal(t, &resp)
		if got := resp.GetAssessment().GetDetermination(); got != pb.Determination_DETERMINATION_DOES_NOT_QUALIFY {
			t.Errorf("determination = %v, want DOES_NOT_QUALIFY", got)
		}
	})
	t.Run("assess with applicant flags", func(t *testing.T) {
		// The flags must reach the server as the fixture the golden file
		// was rendered from.
		r := runCLI(t, bin, addr, "assess", "CA", "--as-of", "2024-06-01", "--nationality", "ht", "--age", "16",
			"--married=false", "--no-parent-or-guardian-in", "--entry-type", "land-port")
		r.wantExit(t, 0)
		golden(t, "assess-CA-2024-06-01-minor.txt", r.stdout)
	})
	t.Run("assess basic view", func(t *testing.T) {
		r := runCLI(t, bin, addr, "assess", "MX", "--as-of", "2019-01-01", "--view", "basic", "-o", "json")
		r.wantExit(t, 0)
		var resp pb.AssessCountryResponse
		r.unmarshal(t, &resp)
		if n := len(resp.GetAssessment().GetSources()); n != 0 {
			t.Errorf("basic view returned %d sources, want none", n)
		}
	})
	t.Run("route text", func(t *testing.T) {
		r := runCLI(t, bin, addr, "route", "--legs", "GT,MX", "--as-of", "2020-01-15", "--nationality", "HN", "--view", "basic")
		r.wantExit(t, 0)
		golden(t, "route-GT-MX-2020-01-15.txt", r.stdout)
	})
	t.Run("route markdown", func(t *testing.T) {
		r := runCLI(t, bin, addr, "route", "--legs", "gt,mx", "--as-of", "2020-01-15", "--nationality", "HN", "--view", "basic", "-o", "markdown")
		r.wantExit(t, 0)
		golden(t, "route-GT-MX-2020-01-15.md", r.stdout)
	})
	t.Run("route json", func(t *testing.T) {
		r := runCLI(t, bin, addr, "route", "--legs", "GT,MX", "--as-of", "2020-01-15", "-o", "json")
		r.wantExit(t, 0)
		var resp pb.AssessRouteResponse
		r.unmarshal(t, &resp)
		if len(resp.GetAssessments()) < 2 || resp.GetOutcome() == pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
			t.Errorf("route answer has %d assessments and outcome %v", len(resp.GetAssessments()), resp.GetOutcome())
		}
	})
	t.Run("timeline text", func(t *testing.T) {
		r := runCLI(t, bin, addr, "timeline", "gt", "--from", "2019-01-01", "--to", "2021-12-31", "--nationality", "HN")
		r.wantExit(t, 0)
		golden(t, "timeline-GT-2019-2021.txt", r.stdout)
	})
	t.Run("timeline refuses a range that ends before it starts", func(t *testing.T) {
		r := runCLI(t, bin, addr, "timeline", "GT", "--from", "2021-01-01", "--to", "2019-01-01")
		r.wantExit(t, 2)
		r.wantStderr(t, "end_date must not be before start_date")
	})
	t.Run("assess with a group, unknown others, and the timeline", func(t *testing.T) {
		r := runCLI(t, bin, addr, "assess", "UG", "--as-of", "2026-06-01", "--nationality", "HN", "--group", "women-and-girls",
			"--entry-date", "2026-03-01", "--crossed", "GT,MX", "-o", "markdown", "--timeline")
		r.wantExit(t, 0)
		r.wantStdout(t, "## Grounds to contest", "## What would change the answer", "`declared_groups=APPLICANT_GROUP_LGBTQI`",
			"## Timeline of the answer", "| 2026-03-01 | 2026-06-01 |")
		r = runCLI(t, bin, addr, "assess", "UG", "--as-of", "2026-06-01", "--nationality", "HN", "--no-groups", "-o", "json")
		r.wantExit(t, 0)
		var resp pb.AssessCountryResponse
		r.unmarshal(t, &resp)
		for _, alt := range resp.GetAssessment().GetAlternatives() {
			if strings.HasPrefix(alt.GetFacts()[0], "declared_groups") {
				t.Errorf("--no-groups, yet an alternative on the groups: %v", alt)
			}
		}
		r = runCLI(t, bin, addr, "assess", "UG", "--timeline", "-o", "json")
		r.wantExit(t, 2)
		r.wantStderr(t, "--timeline")
	})
	t.Run("countries", func(t *testing.T) {
		r := runCLI(t, bin, addr, "countries")
		r.wantExit(t, 0)
		r.wantStdout(t, "CODE", "MX", "Mexico", "ZW") // every ISO country, not just curated ones
		r = runCLI(t, bin, addr, "countries", "--curated", "-o", "json")
		r.wantExit(t, 0)
		var resp pb.ListCountriesResponse
		r.unmarshal(t, &resp)
		for _, c := range resp.GetCountries() {
			if !c.GetCurated() {
				t.Errorf("--curated listed %s, which is not curated", c.GetCode())
			}
		}
		if len(resp.GetCountries()) == 0 {
			t.Error("--curated listed no country")
		}
	})
	t.Run("agreements", func(t *testing.T) {
		r := runCLI(t, bin, addr, "agreements")
		r.wantExit(t, 0)
		r.wantStdout(t, "ID", "PARTIES", "ca-us-stca", "us-gt-aca")
		r = runCLI(t, bin, addr, "agreements", "-o", "json")
		r.wantExit(t, 0)
		var resp pb.ListAgreementsResponse
		r.unmarshal(t, &resp)
		if len(resp.GetAgreements()) == 0 {
			t.Error("no agreements in JSON output")
		}
	})
	t.Run("frameworks", func(t *testing.T) {
		r := runCLI(t, bin, addr, "frameworks")
		r.wantExit(t, 0)
		r.wantStdout(t, "us-ina-208a2a: INA §208(a)(2)(A)", "ca-irpa-102: ", "Criteria:         agreement, no-persecution, fair-procedure",
			"eu-apd-38: ", "eu-apr-59: ", "uk-niaa-80b: ", "Applied by:       the state given with --applying-state", "Records known to: 2024-05-22")
		r = runCLI(t, bin, addr, "frameworks", "-o", "json")
		r.wantExit(t, 0)
		var resp pb.ListFrameworksResponse
		r.unmarshal(t, &resp)
		if len(resp.GetFrameworks()) == 0 {
			t.Error("no frameworks in JSON output")
		}
	})

	// Exit 1: the server refused, and stderr says why.
	refusals := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "unassigned country",
			args: []string{"assess", "ZZ"},
			want: []string{"INVALID_ARGUMENT", "reason: ERROR_REASON_INVALID_ARGUMENT", "field country_code:"},
		},
		{
			name: "applicant fact against the date",
			args: []string{"assess", "MX", "--as-of", "2019-01-01", "--entry-date", "2019-06-01"},
			want: []string{"INVALID_ARGUMENT", "field applicant.entry_date:"},
		},
		{
			name: "unknown framework",
			args: []string{"assess", "MX", "--framework", "no-such-law"},
			want: []string{"NOT_FOUND", "reason: ERROR_REASON_FRAMEWORK_NOT_FOUND"},
		},
	}
	for _, tt := range refusals {
		t.Run("exit 1/"+tt.name, func(t *testing.T) {
			r := runCLI(t, bin, addr, tt.args...)
			r.wantExit(t, 1)
			r.wantStderr(t, tt.want...)
		})
	}
	// No server: said as such once the startup wait is over, not as the
	// deadline the call would otherwise wait out (a minute here).
	t.Run("exit 1/no server", func(t *testing.T) {
		r := runCLI(t, bin, "127.0.0.1:1", "frameworks", "--timeout", "1m")
		r.wantExit(t, 1)
		r.wantStderr(t, "safethird: list frameworks: no server at 127.0.0.1:1: is `safethird serve` running?")
	})

	// Exit 2: usage errors, with nothing sent.
	usage := []struct {
		name string
		args []string
		want []string
	}{
		{name: "no country", args: []string{"assess"}, want: []string{"takes 1 argument"}},
		{name: "bad group", args: []string{"assess", "MX", "--group", "veterans"}, want: []string{"--group", "lgbtqi, indigenous, women-and-girls, children"}},
		{name: "bad date", args: []string{"assess", "MX", "--as-of", "01/01/2019"}, want: []string{"--as-of", "YYYY-MM-DD"}},
		{name: "bad format", args: []string{"countries", "-o", "markdown"}, want: []string{"--output", "text, json"}},
		{name: "no legs", args: []string{"route"}, want: []string{"--legs: must contain at least 1 item"}},
		{name: "age out of range", args: []string{"assess", "MX", "--age", "200"}, want: []string{"--age: must be greater than or equal to 0 and less than or equal to 150"}},
		{name: "impossible date", args: []string{"assess", "MX", "--as-of", "2023-02-29"}, want: []string{"--as-of: must be a real date"}},
		{name: "token to a remote address in the clear", args: []string{"frameworks", "--addr", "safethird.example:50051", "--token", "t"}, want: []string{"not a loopback address", "--tls"}},
	}
	for _, tt := range usage {
		t.Run("exit 2/"+tt.name, func(t *testing.T) {
			r := runCLI(t, bin, addr, tt.args...)
			r.wantExit(t, 2)
			r.wantStderr(t, tt.want...)
		})
	}

	t.Run("health", func(t *testing.T) {
		r := runCLI(t, bin, addr, "health")
		r.wantExit(t, 0)
		r.wantStdout(t, "SERVING")
		r = runCLI(t, bin, addr, "health", "--service", "safethird.v1.AssessmentService")
		r.wantExit(t, 0)
	})
	t.Run("help has examples", func(t *testing.T) {
		for _, cmd := range []string{"assess", "route", "countries", "agreements", "frameworks", "health"} {
			r := runCLI(t, bin, addr, cmd, "--help")
			r.wantExit(t, 0)
			r.wantStdout(t, "Examples:", "safethird "+cmd)
		}
	})
}

// TestCLIToken runs the CLI against a server that wants a bearer token.
func TestCLIToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a server")
	}
	bin := buildServeBinary(t)
	tokens := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(tokens, []byte("# test token\ns3cret-cli-test-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Plaintext tokens are allowed here only because the server listens on
	// loopback; the CLI makes the same check.
	addr := startServer(t, bin, "--auth-tokens-file", tokens, "--insecure-allow-plaintext-tokens")

	r := runCLI(t, bin, addr, "frameworks")
	r.wantExit(t, 1)
	r.wantStderr(t, "UNAUTHENTICATED", "ERROR_REASON_UNAUTHENTICATED")

	r = runCLI(t, bin, addr, "frameworks", "--token", "s3cret-cli-test-token")
	r.wantExit(t, 0)
	r.wantStdout(t, "us-ina-208a2a")

	r = runCLI(t, bin, addr, "frameworks", envToken+"=s3cret-cli-test-token")
	r.wantExit(t, 0)
}

// startServer starts `safethird serve` on a free loopback port, waits
// until its health service reports SERVING, and stops it (gracefully,
// with SIGTERM) when the test ends. It returns the address.
func startServer(t *testing.T, bin string, args ...string) string {
	t.Helper()
	p := startServe(t, bin, nil, append([]string{"--log-level", "info"}, args...)...)
	t.Cleanup(func() { p.terminate(t, 15*time.Second) })
	waitHealthy(t, p.addr)
	return p.addr
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	health := grpc_health_v1.NewHealthClient(c.Conn())
	for {
		resp, err := health.Check(ctx, &grpc_health_v1.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == grpc_health_v1.HealthCheckResponse_SERVING {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server at %s not SERVING: %v, %v", addr, resp.GetStatus(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cleanEnv is the environment without SAFETHIRD_ variables, which both the
// CLI and serve read, so the developer's own settings cannot leak in.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SAFETHIRD_") {
			env = append(env, kv)
		}
	}
	return env
}

type result struct {
	stdout, stderr []byte
	code           int
}

// runCLI runs the binary against addr (through SAFETHIRD_ADDR, as a user
// would set it). Arguments of the form SAFETHIRD_X=v are set in the
// environment instead.
func runCLI(t *testing.T, bin, addr string, args ...string) result {
	t.Helper()
	env := append(cleanEnv(), envAddr+"="+addr)
	var argv []string
	for _, a := range args {
		if strings.HasPrefix(a, "SAFETHIRD_") {
			env = append(env, a)
			continue
		}
		argv = append(argv, a)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %q: %v", argv, err)
	}
	return r
}

func (r result) wantExit(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func (r result) wantStdout(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !bytes.Contains(r.stdout, []byte(s)) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
}

func (r result) wantStderr(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !bytes.Contains(r.stderr, []byte(s)) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

func (r result) unmarshal(t *testing.T, m proto.Message) {
	t.Helper()
	if err := protojson.Unmarshal(r.stdout, m); err != nil {
		t.Fatalf("stdout is not %T as protojson: %v\n%s", m, err, r.stdout)
	}
}
