package reliability_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// Finding 9, the weaker ones: Unicode case folding of country codes; a
// flood of connections that never read their replies; tokens not reloaded
// by SIGHUP, nor checked for length or characters, a long line without its
// number, a set-but-empty tokens file setting; an ISO file read whole.

// Country codes: "ſv" was assessed as SV and "ıd" as ID, because Unicode
// case mapping upper-cases them to ASCII. They are now invalid.
func TestCountryCodesAreASCIILetters(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := newClient(t, srv.addr, client.WithMaxAttempts(1))
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var rows []string
	for _, code := range []string{"ſv", "ıd", "\u212aR"} { // long s, dotless i, Kelvin sign
		calls := map[string]func() error{
			"AssessCountry": func() error {
				_, err := c.Assessment().AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: code, AsOf: "2020-01-01"})
				return err
			},
			"AssessRoute": func() error {
				_, err := c.Assessment().AssessRoute(ctx, &pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: code}}, AsOf: "2020-01-01"})
				return err
			},
			"GetCountry": func() error {
				_, err := c.Catalog().GetCountry(ctx, &pb.GetCountryRequest{CountryCode: code})
				return err
			},
		}
		for name, call := range calls {
			err := call()
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s %q: %v, want INVALID_ARGUMENT", name, code, err)
			}
			rows = append(rows, fmt.Sprintf("%s %q: %v", name, code, status.Code(err)))
		}
	}
	figure(t, "%d calls with letters that upper-case to ASCII, each INVALID_ARGUMENT", len(rows))
}

// neverRead opens a plaintext HTTP/2 connection to addr, sends streams
// requests for method with body, and never reads a byte: every reply
// queues on the server's side.
func neverRead(addr, method string, body []byte, streams int) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	w := bufio.NewWriter(conn)
	fr := http2.NewFramer(w, nil)
	var hbuf bytes.Buffer
	henc := hpack.NewEncoder(&hbuf)
	write := func() error {
		if _, err := w.WriteString(http2.ClientPreface); err != nil {
			return err
		}
		if err := fr.WriteSettings(); err != nil {
			return err
		}
		for i := range streams {
			id := uint32(2*i + 1)
			hbuf.Reset()
			for _, f := range []hpack.HeaderField{
				{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: method},
				{Name: ":authority", Value: addr}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
			} {
				_ = henc.WriteField(f)
			}
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndHeaders: true}); err != nil {
				return err
			}
			if err := fr.WriteData(id, true, body); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	if err := write(); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// A flood of connections that never read: 200 connections x 128 streams
// took the heap from 6 MB to 543 MB. Connections past --max-connections are
// closed (the idle longest evicted, or the newest refused when all are busy), and past a budget of unread responses the connections holding
// the most are too: the server's peak memory stays bounded, and it answers
// after.
func TestNeverReadingFlood(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{dropCallLines: true})
	c := newClient(t, srv.addr)
	floods := []struct {
		name, method string
		body         []byte
	}{
		{"AssessCountry, full view", "/safethird.v1.AssessmentService/AssessCountry",
			grpcFrame(t, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})},
	}
	if soak() {
		batch := &pb.BatchAssessCountriesRequest{}
		for i := range 100 {
			batch.Requests = append(batch.Requests, &pb.AssessCountryRequest{CountryCode: []string{"MX", "CA", "GT", "HN", "SV", "US"}[i%6], AsOf: "2020-01-01"})
		}
		floods = append(floods, struct {
			name, method string
			body         []byte
		}{"BatchAssessCountries of 100, about 1 MB a reply", "/safethird.v1.AssessmentService/BatchAssessCountries", grpcFrame(t, batch)})
	}
	const conns, streams = 200, 128
	var rows []string
	for _, f := range floods {
		rssBefore := srv.rssKB(t)
		var (
			mu     sync.Mutex
			opened []net.Conn
			failed int
			wg     sync.WaitGroup
		)
		for range 8 { // eight dialers, so the flood arrives at once
			wg.Go(func() {
				for range conns / 8 {
					conn, err := neverRead(srv.addr, f.method, f.body, streams)
					mu.Lock()
					if err != nil {
						failed++
					} else {
						opened = append(opened, conn)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// Let the server work through what it accepted.
		time.Sleep(pick(3*time.Second, 10*time.Second))
		hwm := procStatus(t, srv.pid, "VmHWM")
		body := srv.scrape(t)
		// At the cap the server makes room rather than refusing outright:
		// it closes the connections idle longest (calls ended, answers
		// unread) and those of an address past its share.
		refused := metric(body, "safethird_connections_refused_total") + metric(body, "safethird_connections_evicted_total")
		cut := metric(body, "safethird_connections_cut_total")
		wantServing(t, c.Conn())
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		_, err := workItems()[0].call(ctx, c)
		cancel()
		if err != nil {
			t.Errorf("%s: a good call during the flood: %v", f.name, err)
		}
		for _, conn := range opened {
			_ = conn.Close()
		}
		// The target is 150 MB; the test fails well past it, at twice the
		// most this flood reached on the development VM with the CPU busy.
		if hwm > 256<<10 {
			t.Errorf("%s: peak RSS %s, want under 256 MiB (target 150 MB)", f.name, mib(hwm))
		}
		if refused == 0 {
			t.Errorf("%s: no connection refused or evicted at --max-connections", f.name)
		}
		rows = append(rows, fmt.Sprintf("%s: %d connections x %d streams never reading (%d dials failed): RSS %s before, peak %s; %v connections refused or evicted at --max-connections, %v closed for unread replies; a good call after: %v",
			f.name, len(opened), streams, failed, mib(rssBefore), mib(hwm), refused, cut, status.Code(err)))
	}
	figure(t, "%s", strings.Join(rows, "\n\t"))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// Tokens: SIGHUP did not reload the tokens file, so a removed token kept
// working. It now does.
func TestSIGHUPReloadsTokens(t *testing.T) {
	t.Parallel()
	keys := newPKI(t)
	revoked := "revoked-" + keys.token
	if err := os.WriteFile(keys.tokensFile, []byte(keys.token+"\n"+revoked+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, serverOptions{pki: keys, tokensFile: keys.tokensFile})
	kept := newClient(t, srv.addr, append(keys.clientOptions(), client.WithMaxAttempts(1))...)
	gone := newClient(t, srv.addr, client.WithTLS(keys.CAFile), client.WithToken(revoked), client.WithMaxAttempts(1))
	call := func(c *client.Client) error {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		_, err := workItems()[0].call(ctx, c)
		return err
	}
	if err := call(gone); err != nil {
		t.Fatalf("the second token before its removal: %v", err)
	}
	if err := os.WriteFile(keys.tokensFile, []byte("# revoked one token\n"+keys.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.signal(t, syscall.SIGHUP)
	waitFor(t, "the removed token to be refused", 20*time.Second, func() bool { return status.Code(call(gone)) == codes.Unauthenticated })
	if err := call(kept); err != nil {
		t.Errorf("the token kept in the file: %v", err)
	}
	figure(t, "token removed from the file, SIGHUP: refused UNAUTHENTICATED; the token kept: OK")
}

// Tokens file rules: a token with a byte-order mark, a NUL or of one
// character was accepted; a 70,000-character line failed without a line
// number; SAFETHIRD_AUTH_TOKENS_FILE set but empty started the server with
// auth off. Each is now refused at start, naming the file and line.
func TestTokensFileRules(t *testing.T) {
	t.Parallel()
	keys := newPKI(t)
	dir := t.TempDir()
	good := "a-good-token-0123456789"
	tests := []struct {
		name    string
		content string
		env     []string
		want    string
	}{
		{"byte-order mark", "\ufeff" + good + "\n", nil, ":1: character 1 is not ASCII"},
		{"NUL", "# ops\n" + good + "\x00\n", nil, ":2: character 24 is a control character (0x00)"},
		{"one character", good + "\nx\n", nil, ":2: a token is at least 16 characters"},
		{"70,000-character line", good + "\n" + strings.Repeat("y", 70_000) + "\n", nil, ":2: the line is longer than 4096 characters"},
		{"set but empty", "", []string{"SAFETHIRD_AUTH_TOKENS_FILE="}, "SAFETHIRD_AUTH_TOKENS_FILE is set but empty"},
	}
	var rows []string
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"serve", "--addr", "127.0.0.1:0", "--tls-cert", keys.ServerCertFile, "--tls-key", keys.ServerKeyFile}
			want := tt.want
			if tt.content != "" {
				path := filepath.Join(dir, fmt.Sprintf("tokens-%d.txt", i))
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--auth-tokens-file", path)
				want = path + tt.want
			}
			r := runSafethird(t, 20*time.Second, tt.env, args...)
			if r.code != 2 || !strings.Contains(r.out, want) {
				t.Errorf("serve: exit %d, want 2 with %q:\n%.500s", r.code, want, r.out)
			}
			if strings.Contains(r.out, good) {
				t.Error("the error repeats a token")
			}
			rows = append(rows, fmt.Sprintf("%s: exit %d, %q", tt.name, r.code, firstLineWith(r.out, "safethird:")))
		})
	}
	figure(t, "tokens files refused at start:\n\t%s", strings.Join(rows, "\n\t"))
}

// The ISO file: a 100 MB one was read whole. It is refused at its size
// limit, by the server and by `dataset validate`, without being read.
func TestLargeISOFileIsNotRead(t *testing.T) {
	t.Parallel()
	dir, srv, _, rev := servedSealed(t, serverOptions{})
	iso := isoFile(dir)
	old, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	// 100 MB of a JSON list that would parse if read to its end.
	big := append([]byte(`{"3166-1": [`), bytes.Repeat([]byte(`{"alpha_2": "AA", "name": "A"},`), 100<<20/31)...)
	big = append(big, []byte(`{"alpha_2": "MX", "name": "Mexico"}]}`)...)
	if err := os.WriteFile(iso, big, 0o644); err != nil {
		t.Fatal(err)
	}
	rssBefore := srv.rssKB(t)
	wantRefusedBySignal(t, srv, rev, "iso3166/iso_3166-1.json: cannot read: larger than the 1048576-byte limit")
	rssAfter := srv.rssKB(t)
	if rssAfter-rssBefore > 50<<10 {
		t.Errorf("RSS grew from %s to %s on the refused reload: the file was read", mib(rssBefore), mib(rssAfter))
	}
	r := runSafethird(t, 60*time.Second, nil, "dataset", "validate", dir)
	if r.code != 1 || !strings.Contains(r.out, "iso3166/iso_3166-1.json: cannot read: larger than") {
		t.Errorf("dataset validate: exit %d, want 1 naming the file and its size:\n%s", r.code, r.out)
	}
	if err := os.WriteFile(iso, old, 0o644); err != nil {
		t.Fatal(err)
	}
	figure(t, "100 MB ISO file: reload refused, server RSS %s before, %s after; dataset validate exit %d in %v",
		mib(rssBefore), mib(rssAfter), r.code, r.duration.Round(time.Millisecond))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}
