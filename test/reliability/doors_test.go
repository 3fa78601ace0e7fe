package reliability_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// Issue 25, "Both doors hold the same line": one test for each of the ten
// findings, against the real binary, each of which failed on the build
// before the fix (SAFETHIRD_TEST_BINARY). New settings go in SAFETHIRD_
// variables, which an older build ignores.

// Finding 1: a 254,870-byte gzip body inflated to 250 MiB inside vanguard
// before auth (VmHWM 40 MB -> 563 MB), and every honest gzip request failed
// 501. A body is now decompressed through the same 256 KiB limit as an
// uncompressed one, on every path, and gzip works on both doors.
func TestGzipIsHeldToTheSizeLimit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	base := "http://" + srv.httpAddr
	c := httpClient()
	bomb := gzipped(t, make([]byte, 250<<20))   // 250 MiB of zeros
	urlBomb := gzipped(t, make([]byte, 40<<20)) // what a 64 KiB URL can carry
	hwmBefore := procStatus(t, srv.pid, "VmHWM")
	var rows []string
	for _, b := range []struct {
		name, method, path string
		body               []byte
		headers            []string
		wantHTTP           int
		wantCode           string // the Connect error's code, or "" for a REST status
	}{
		{"REST", "POST", "/v1/countries:batchAssess", bomb, []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}, 413, ""},
		{"Connect", "POST", "/safethird.v1.CatalogService/ListCountries", bomb,
			[]string{"Content-Type", "application/json", "Content-Encoding", "gzip", "Connect-Protocol-Version", "1"}, 429, "resource_exhausted"},
		{"Connect GET", "GET", "/safethird.v1.CatalogService/ListCountries?connect=v1&encoding=json&compression=gzip&base64=1&message=" +
			base64.RawURLEncoding.EncodeToString(urlBomb), nil, nil, 429, "resource_exhausted"},
	} {
		code, body, err := httpCall(c, b.method, base+b.path, b.body, b.headers...)
		if err != nil {
			t.Fatalf("%s bomb: %v", b.name, err)
		}
		if code != b.wantHTTP || !bytes.Contains(body, []byte("MESSAGE_TOO_LARGE")) || b.wantCode != "" && !bytes.Contains(body, []byte(`"code":"`+b.wantCode+`"`)) {
			t.Errorf("%s bomb: HTTP %d %.300s; want %d with ERROR_REASON_MESSAGE_TOO_LARGE", b.name, code, body, b.wantHTTP)
		}
		rows = append(rows, fmt.Sprintf("%s bomb (%d bytes): HTTP %d", b.name, len(b.body)+len(b.path), code))
	}
	grew := procStatus(t, srv.pid, "VmHWM") - hwmBefore
	if grew > 30<<10 {
		t.Errorf("VmHWM grew by %s under the bombs, want under 30 MB", mib(grew))
	}

	// Honest gzip: REST, Connect and gRPC.
	small := gzipped(t, []byte(`{"as_of":"2019-01-01","view":"ASSESSMENT_VIEW_BASIC"}`))
	code, body, err := httpCall(c, "POST", base+"/v1/countries/MX:assess", small, "Content-Type", "application/json", "Content-Encoding", "gzip")
	if err != nil || code != http.StatusOK || !bytes.Contains(body, []byte(`"countryCode":"MX"`)) {
		t.Errorf("a small gzip REST request: HTTP %d %v %.200s; want 200 with the answer", code, err, body)
	}
	cc := connect.NewClient[pb.AssessCountryRequest, pb.AssessCountryResponse](c,
		base+pb.AssessmentService_AssessCountry_FullMethodName, connect.WithSendGzip())
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, connectErr := cc.CallUnary(ctx, connect.NewRequest(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}))
	if connectErr != nil {
		t.Errorf("a gzip Connect call: %v", connectErr)
	}
	conn, err := grpc.NewClient("passthrough:///"+srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, grpcErr := pb.NewAssessmentServiceClient(conn).AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"},
		grpc.UseCompressor(gzip.Name))
	if grpcErr != nil {
		t.Errorf("a gzip gRPC call: %v", grpcErr)
	}
	figure(t, "%s; VmHWM %s before, grew %s; a small gzip REST request HTTP %d, a gzip Connect call %v, a gzip gRPC call %v",
		strings.Join(rows, "; "), mib(hwmBefore), mib(grew), code, connectOutcome(connectErr), status.Code(grpcErr))
}

// connectOutcome names a Connect call's outcome: OK, or its error's code
// (connect.CodeOf calls a nil error "unknown").
func connectOutcome(err error) string {
	if err == nil {
		return "OK"
	}
	return connect.CodeOf(err).String()
}

// Finding 2: --max-connections bounded the gRPC listener only: with 2,
// 300 HTTP connections were accepted, and 20,000 idle keep-alive ones
// exhausted the file descriptors. The HTTP door's connections now count
// against the same cap, and at the cap the idle longest makes room, so
// descriptors stay bounded and a new client of either door is answered.
func TestIdleHTTPConnectionsAreBounded(t *testing.T) {
	t.Parallel()
	conns := pick(2_000, 20_000)
	srv := startServer(t, serverOptions{dropCallLines: true})
	fdBefore := fdCount(t, srv.pid)
	var p probes
	ctx, stop := context.WithCancel(context.Background())
	grpcProbes := p.run(ctx, 200*time.Millisecond, func() { p.probeGRPC(srv.addr) })
	httpProbes := p.run(ctx, 200*time.Millisecond, func() { p.probeHTTP(srv.httpAddr) })
	var (
		mu     sync.Mutex
		held   []net.Conn
		peakFD int
		wg     sync.WaitGroup
	)
	request := []byte("GET /healthz HTTP/1.1\r\nHost: safethird\r\n\r\n")
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < conns; i += 8 {
				conn, err := dialFrom(attackerIP, srv.httpAddr)
				if err != nil {
					continue
				}
				_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := conn.Write(request); err != nil {
					_ = conn.Close()
					continue
				}
				mu.Lock()
				held = append(held, conn)
				// The server closes the idle longest: let go of ours too,
				// as a client would, so the test holds what the server does.
				if len(held) > 256 {
					for _, c := range held[:128] {
						_ = c.Close()
					}
					held = append([]net.Conn(nil), held[128:]...)
				}
				if i%100 == 0 {
					peakFD = max(peakFD, fdCount(t, srv.pid))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	time.Sleep(time.Second)
	stop()
	grpcProbes.Wait()
	httpProbes.Wait()
	fdAfter := fdCount(t, srv.pid)
	peakFD = max(peakFD, fdAfter)
	for _, c := range held {
		_ = c.Close()
	}
	// The cap (64) past the preface and as many in their handshake, and
	// the server's own descriptors.
	if peakFD-fdBefore > 2*64+16 {
		t.Errorf("descriptors %d before, peak %d: more than the cap allows", fdBefore, peakFD)
	}
	if p.share() < 0.95 {
		t.Errorf("probes from new clients: %v, want 95%%; first failures: %v", &p, p.failures)
	}
	body := srv.scrape(t)
	figure(t, "%d idle HTTP/1.1 connections (GET /healthz, kept alive): server descriptors %d before, peak %d, %d after; %v connections closed for newer ones (%v idle, %v in their handshake); probes of both doors: %v",
		conns, fdBefore, peakFD, fdAfter, metric(body, "safethird_connections_evicted_total"),
		metric(body, "safethird_connections_evicted_total", "reason", "idle"), metric(body, "safethird_connections_evicted_total", "reason", "handshake"), &p)
}

// Finding 3: nothing bounded the responses the HTTP door's clients do not
// read: HTTP/2 clients granting window 0 held 845 MB with REST batch
// calls, 162 MB with GET /openapi.yaml. The door now counts every byte it
// writes against the connection, within the same unread budget as the gRPC
// port, at the cost of the copies it holds of a response; a REST batch's
// answers go out as their stored JSON instead of a fresh encoding each
// call; the document is served from one copy.
func TestNeverReadingHTTPClientsAreBounded(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{dropCallLines: true})
	batch := `{"requests":[`
	for i := range 100 {
		if i > 0 {
			batch += ","
		}
		batch += fmt.Sprintf(`{"country_code":%q,"as_of":"2020-01-01"}`, []string{"MX", "CA", "GT", "HN", "SV", "US"}[i%6])
	}
	batch += "]}"
	attacks := []struct {
		name         string
		conns, calls int
		send         func(z *zeroWindow) error
	}{
		{"REST batches of 100", 4, 64, func(z *zeroWindow) error {
			return z.request("POST", "/v1/countries:batchAssess", "application/json", []byte(batch))
		}},
		{"GET /openapi.yaml", 20, 64, func(z *zeroWindow) error { return z.request("GET", "/openapi.yaml", "", nil) }},
	}
	rssBefore := srv.rssKB(t)
	var rows []string
	for _, a := range attacks {
		var zs []*zeroWindow
		for range a.conns {
			z, err := dialZeroWindow(srv.httpAddr)
			if err != nil {
				t.Fatal(err)
			}
			zs = append(zs, z)
			for range a.calls {
				if err := a.send(z); err != nil {
					break // closed by the server already
				}
			}
		}
		time.Sleep(pick(3*time.Second, 10*time.Second))
		rows = append(rows, fmt.Sprintf("%s, %d connections x %d: VmHWM %s", a.name, a.conns, a.calls, mib(procStatus(t, srv.pid, "VmHWM"))))
		for _, z := range zs {
			z.close()
		}
	}
	hwm := procStatus(t, srv.pid, "VmHWM")
	var p probes
	p.probeHTTP(srv.httpAddr)
	if hwm > 100<<10 {
		t.Errorf("peak resident memory %s, want under 100 MB", mib(hwm))
	}
	if p.share() < 1 {
		t.Errorf("a new client after: %v; %v", &p, p.failures)
	}
	body := srv.scrape(t)
	figure(t, "RSS %s before; %s; %v connections cut for unread replies; a new client after: %v",
		mib(rssBefore), strings.Join(rows, "; "), metric(body, "safethird_connections_cut_total"), &p)
}

// Finding 4: the gRPC port's cap refused every connection past 64, counted
// from accept, whoever it was: 64 sockets re-dialled as each handshake
// timeout closed them, 64 idle HTTP/2 connections, or calls whose request
// never arrives locked out every new client, health probes included. A
// connection now counts once past its preface, the idle longest makes
// room, one address holds at most its share, and a call's request must
// arrive within --request-timeout.
func TestHostileSocketsDoNotLockTheGRPCPort(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{dropCallLines: true, env: []string{"SAFETHIRD_REQUEST_TIMEOUT=2s"}})
	kinds := []struct {
		name string
		open func() (net.Conn, error)
	}{
		{"raw sockets re-dialled", func() (net.Conn, error) { return dialFrom(attackerIP, srv.addr) }},
		{"idle HTTP/2 connections", func() (net.Conn, error) {
			conn, _, err := h2Preface(attackerIP, srv.addr)
			return conn, err
		}},
		{"calls half-sent", func() (net.Conn, error) { return halfSent(attackerIP, srv.addr) }},
	}
	counts := pick([]int{256}, []int{64, 256, 1000})
	hold := pick(3*time.Second, 10*time.Second)
	var rows []string
	for _, k := range kinds {
		for _, n := range counts {
			ctx, stop := context.WithCancel(context.Background())
			attacked := attack(ctx, n, k.open)
			time.Sleep(500 * time.Millisecond) // the sockets in place
			var p probes
			probing := p.run(ctx, 100*time.Millisecond, func() { p.probeGRPC(srv.addr) })
			time.Sleep(hold)
			stop()
			probing.Wait()
			opened := attacked()
			if p.share() < 0.95 {
				t.Errorf("%d %s: probes %v, want 95%%; first failures: %v", n, k.name, &p, p.failures)
			}
			rows = append(rows, fmt.Sprintf("%d %s (%d opened): %v", n, k.name, opened, &p))
		}
	}

	// A call whose request never arrives is ended at --request-timeout.
	raw := dialH2(t, srv.addr, nil, "")
	id, s, err := raw.open("/safethird.v1.AssessmentService/AssessCountry", false, true)
	if err != nil {
		t.Fatal(err)
	}
	msg := grpcFrame(t, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	if err := raw.data(id, msg[:len(msg)/2], false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var resp pb.AssessCountryResponse
	halfErr := raw.result(s, 2*time.Second+5*time.Second, &resp)
	if halfErr == nil || strings.Contains(halfErr.Error(), "no response") {
		t.Errorf("a call whose request stopped half way: %v, want it ended at --request-timeout (2s)", halfErr)
	}
	figure(t, "%s; a call half-sent: ended after %v (%v)", strings.Join(rows, "; "), time.Since(start).Round(100*time.Millisecond), halfErr)
}

// The share is what an address keeps at the cap, not what it may open:
// a case system's pool of HTTP/1.1 connections a little over the share
// (32 of the default 64) had its idle connections closed by the server as
// it reused them, and a POST on a reused connection the server closed is
// an error no client retries (EOF, connection reset).
func TestAnHonestPoolOverTheShareKeepsItsConnections(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{dropCallLines: true})
	const workers, calls = 40, 25
	// A pool of exactly workers connections, as a case system configures
	// one: more would be the client's own churn, which the cap may meet.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxConnsPerHost: workers, MaxIdleConnsPerHost: workers}}
	defer c.CloseIdleConnections()
	url := "http://" + srv.httpAddr + "/v1/countries/MX:assess"
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range calls {
				code, _, err := httpCall(c, "POST", url, []byte(`{"as_of":"2024-01-01"}`), "Content-Type", "application/json")
				if err != nil || code != http.StatusOK {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("HTTP %d %v", code, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d calls over %d keep-alive connections failed; first: %v", len(failures), workers*calls, workers, failures[0])
	}
	body := srv.scrape(t)
	figure(t, "%d calls over %d keep-alive HTTP/1.1 connections from one address: %d failed; connections evicted: %v",
		workers*calls, workers, len(failures), metric(body, "safethird_connections_evicted_total"))
}

// Finding 5: the stats handler found a call's connection by its remote
// address, so an HTTP-door call was charged to a gRPC-port connection from
// the same address (a proxy, a port reused): an honest gRPC client was cut
// for "not reading" what the HTTP client read. A call is now charged to
// its own connection, found from the connection itself.
func TestCallsAreChargedToTheirOwnConnection(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{dropCallLines: true})
	// Both clients on one local address and port, as behind a proxy: the
	// gRPC client's connection is made first, then the HTTP client's.
	reuse := func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			if serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
	var local *net.TCPAddr
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{Control: reuse, LocalAddr: local}
		if local == nil {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
		}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil && local == nil {
			local = conn.LocalAddr().(*net.TCPAddr)
		}
		return conn, err
	}
	grpcConn, err := grpc.NewClient("passthrough:///"+srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dial))
	if err != nil {
		t.Fatal(err)
	}
	defer grpcConn.Close()
	catalog := pb.NewCatalogServiceClient(grpcConn)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := catalog.ListCountries(ctx, &pb.ListCountriesRequest{}); err != nil {
		t.Fatalf("the gRPC client's first call: %v", err)
	}
	httpConn := &http.Client{Timeout: callTimeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return dial(ctx, addr) }, MaxConnsPerHost: 1}}
	// The HTTP client reads every answer: 100 batches, about 40 MB.
	batch := `{"requests":[` + strings.TrimSuffix(strings.Repeat(`{"country_code":"MX","as_of":"2019-01-01"},`, 100), ",") + `]}`
	failed := 0
	for range 100 {
		code, _, err := httpCall(httpConn, "POST", "http://"+srv.httpAddr+"/v1/countries:batchAssess", []byte(batch), "Content-Type", "application/json")
		if err != nil || code != http.StatusOK {
			failed++
		}
	}
	httpConn.CloseIdleConnections()
	// A deadline of its own: the batches above may take minutes under -race.
	afterCtx, afterCancel := context.WithTimeout(context.Background(), callTimeout)
	defer afterCancel()
	_, after := catalog.ListCountries(afterCtx, &pb.ListCountriesRequest{})
	cut := metric(srv.scrape(t), "safethird_connections_cut_total")
	if failed > 0 || cut > 0 || after != nil {
		t.Errorf("from one address and port: %d of 100 HTTP calls failed, %v connections cut for not reading, the gRPC client's next call: %v; want none, none, OK",
			failed, cut, after)
	}
	figure(t, "a gRPC client and an HTTP client on %v: 100 REST batches read in full, %d failed; %v connections cut for not reading; the gRPC client's next call %v",
		local, failed, cut, status.Code(after))
}

// Finding 6: Connect GET (the request in the URL) was served for the
// AssessmentService, applicant included, though a query string on a REST
// POST is refused so that applicant facts stay out of access logs.
func TestConnectGETRefusedForAssessments(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := httpClient()
	msg := `{"country_code":"MX","as_of":"2019-01-01","applicant":{"age":30}}`
	url := "http://" + srv.httpAddr + pb.AssessmentService_AssessCountry_FullMethodName + "?connect=v1&encoding=json&message=" + msg
	code, body, err := httpCall(c, "GET", url, nil)
	if err != nil || code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"code":"invalid_argument"`)) {
		t.Errorf("Connect GET of AssessCountry: HTTP %d %v %.300s; want 400 invalid_argument", code, err, body)
	}
	catalogURL := "http://" + srv.httpAddr + pb.CatalogService_GetCountry_FullMethodName + `?connect=v1&encoding=json&message={"country_code":"MX"}`
	catalogCode, _, err := httpCall(c, "GET", catalogURL, nil)
	if err != nil || catalogCode != http.StatusOK {
		t.Errorf("Connect GET of GetCountry: HTTP %d %v; want 200", catalogCode, err)
	}
	figure(t, "Connect GET of AssessCountry with an applicant: HTTP %d; of GetCountry: HTTP %d", code, catalogCode)
}

// Finding 7: the HTTP door's own refusals (413, 404, 405, 415, a query
// string on a POST) wrote no log line and no metric, and a REST 400 for bad
// JSON was logged as "code":"OK". Each is now logged and counted like a
// call, with its real code and its request id.
func TestHTTPRefusalsAreLoggedAndCounted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := httpClient()
	big := `{"requests":[{"country_code":"` + strings.Repeat("x", 300<<10) + `"}]}`
	tests := []struct {
		name, method, path, body, contentType string
		wantHTTP                              int
		wantCode                              codes.Code
	}{
		{"too large", "POST", "/v1/countries:batchAssess", big, "application/json", 413, codes.ResourceExhausted},
		{"unknown path", "GET", "/v1/nowhere", "", "", 404, codes.NotFound},
		{"wrong method", "DELETE", "/v1/countries/MX", "", "", 405, codes.InvalidArgument},
		{"wrong media type", "POST", "/v1/countries/MX:assess", "{}", "text/plain", 415, codes.InvalidArgument},
		{"query on a POST", "POST", "/v1/countries/MX:assess?applicant.age=16", "{}", "application/json", 400, codes.InvalidArgument},
		{"bad JSON", "POST", "/v1/countries/MX:assess", `{"as_of":`, "application/json", 400, codes.InvalidArgument},
		{"unknown procedure", "POST", "/safethird.v1.Nowhere/Nothing", "{}", "application/json", 404, codes.NotFound},
	}
	counted := metric(srv.scrape(t), "grpc_server_handled_total")
	var rows []string
	for i, tt := range tests {
		id := fmt.Sprintf("refusal-%d", i)
		headers := []string{"X-Request-Id", id}
		if tt.contentType != "" {
			headers = append(headers, "Content-Type", tt.contentType)
		}
		if len(tt.body) > 64<<10 {
			// As curl asks before a large body: refused on its length,
			// the body is never sent, rather than cut off mid-write (an
			// HTTP/1.1 server does not read an unbounded body it refuses,
			// so the client may see its write fail before the answer).
			headers = append(headers, "Expect", "100-continue")
		}
		code, _, err := httpCall(c, tt.method, "http://"+srv.httpAddr+tt.path, []byte(tt.body), headers...)
		if err != nil || code != tt.wantHTTP {
			t.Errorf("%s: HTTP %d %v, want %d", tt.name, code, err, tt.wantHTTP)
		}
		var line map[string]any
		waitFor(t, tt.name+"'s call line", 10*time.Second, func() bool {
			for _, l := range srv.logLines("call") {
				if l["request_id"] == id {
					line = l
					return true
				}
			}
			return false
		})
		if line["code"] != tt.wantCode.String() {
			t.Errorf("%s: logged code %v, want %v: %v", tt.name, line["code"], tt.wantCode, line)
		}
		if m, _ := line["method"].(string); !strings.Contains(m, strings.SplitN(tt.path, "?", 2)[0]) {
			t.Errorf("%s: logged method %q, want the path", tt.name, m)
		}
		rows = append(rows, fmt.Sprintf("%s: HTTP %d, logged %v", tt.name, code, line["code"]))
	}
	if got := metric(srv.scrape(t), "grpc_server_handled_total") - counted; got != float64(len(tests)) {
		t.Errorf("grpc_server_handled_total grew by %v, want %d", got, len(tests))
	}
	figure(t, "%s; each counted once", strings.Join(rows, "; "))
}

// Finding 8: a bad field, type, enum, duplicate key or syntax error in the
// body of /v1/routes:assess or /v1/countries:batchAssess was HTTP 500 code
// 13 without ErrorInfo; so were Connect with a proto content type and a
// JSON body, and a Connect GET with bad base64; and the gRPC port's
// malformed protobuf was INTERNAL without ErrorInfo. Each is now 400 (or
// INVALID_ARGUMENT) with ErrorInfo and a field violation.
func TestMalformedBodiesAreBadRequests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const token = "malformed-bodies-token-0123456789"
	tokens := filepath.Join(dir, "tokens.txt")
	if err := os.WriteFile(tokens, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, serverOptions{tokensFile: tokens, args: []string{"--insecure-allow-plaintext-tokens"}})
	c := httpClient()
	auth := "Bearer " + token
	var rows []string
	check := func(name string, code int, body []byte, err error) {
		t.Helper()
		if err != nil || code != http.StatusBadRequest || !bytes.Contains(body, []byte("ERROR_REASON_INVALID_ARGUMENT")) ||
			!bytes.Contains(body, []byte("fieldViolations")) {
			t.Errorf("%s: HTTP %d %v %.300s; want 400 with ErrorInfo and a field violation", name, code, err, body)
		}
		rows = append(rows, fmt.Sprintf("%s: HTTP %d", name, code))
	}
	bodies := map[string]string{
		"unknown field":  `{"legs":[{"country_code":"MX"}],"as_off":"2020-01-01"}`,
		"wrong type":     `{"legs":[{"country_code":"MX"}],"applicant":{"age":"thirty"}}`,
		"bad enum":       `{"legs":[{"country_code":"MX"}],"view":"SECRET_VIEW"}`,
		"duplicate key":  `{"legs":[{"country_code":"MX"}],"as_of":"2020-01-01","as_of":"2020-01-02"}`,
		"syntax error":   `{"legs":[{"country_code":"MX"}],"as_of":`,
		"a batch's item": `{"requests":[{"country_code":"MX","as_off":"2020-01-01"}]}`,
	}
	for _, name := range sortedKeys(bodies) {
		path := "/v1/routes:assess"
		if name == "a batch's item" {
			path = "/v1/countries:batchAssess"
		}
		code, body, err := httpCall(c, "POST", "http://"+srv.httpAddr+path, []byte(bodies[name]), "Content-Type", "application/json", "Authorization", auth)
		check(path+" "+name, code, body, err)
	}
	code, body, err := httpCall(c, "POST", "http://"+srv.httpAddr+pb.AssessmentService_AssessCountry_FullMethodName,
		[]byte(`{"country_code":"MX"}`), "Content-Type", "application/proto", "Connect-Protocol-Version", "1", "Authorization", auth)
	if err != nil || code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"code":"invalid_argument"`)) {
		t.Errorf("Connect proto with a JSON body: HTTP %d %v %.300s; want 400 invalid_argument", code, err, body)
	}
	rows = append(rows, fmt.Sprintf("Connect proto with a JSON body: HTTP %d", code))
	code, body, err = httpCall(c, "GET", "http://"+srv.httpAddr+pb.CatalogService_GetCountry_FullMethodName+"?connect=v1&encoding=proto&base64=1&message=%25%25%25", nil, "Authorization", auth)
	if err != nil || code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"code":"invalid_argument"`)) {
		t.Errorf("Connect GET with bad base64: HTTP %d %v %.300s; want 400 invalid_argument", code, err, body)
	}
	rows = append(rows, fmt.Sprintf("Connect GET with bad base64: HTTP %d", code))
	conn, err := grpc.NewClient("passthrough:///"+srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var resp []byte
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	grpcErr := conn.Invoke(withBearer(ctx, token), pb.AssessmentService_AssessCountry_FullMethodName, &[]byte{0x0a, 0xff, 0x01}, &resp, grpc.ForceCodec(rawCodec{}))
	if status.Code(grpcErr) != codes.InvalidArgument || !strings.Contains(fmt.Sprint(status.Convert(grpcErr).Details()), "ERROR_REASON_INVALID_ARGUMENT") {
		t.Errorf("malformed protobuf on the gRPC port: %v, want INVALID_ARGUMENT with ErrorInfo", grpcErr)
	}
	figure(t, "%s; malformed protobuf on the gRPC port: %v", strings.Join(rows, "; "), status.Code(grpcErr))
}

// Finding 9: 100,000 HEADERS+RST_STREAM pairs without a token wrote
// 100,000 log lines (25 MB) in 0.8 s, with no GOAWAY. Calls cancelled
// before their request, without a token, are now logged at most once a
// second (and counted), and a client resetting streams by the thousand gets
// GOAWAY ENHANCE_YOUR_CALM.
func TestResetFloodIsBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.txt")
	if err := os.WriteFile(tokens, []byte("reset-flood-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, serverOptions{tokensFile: tokens, args: []string{"--insecure-allow-plaintext-tokens"}})
	linesBefore := len(srv.logLines("call"))
	const pairs = 100_000
	sent, conns := 0, 0
	var goAways []string
	start := time.Now()
	for sent < pairs && time.Since(start) < 60*time.Second {
		conn, _, err := h2Preface("127.0.0.1", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns++
		read := make(chan string, 1)
		go func() {
			rf := http2.NewFramer(nil, conn)
			for {
				f, err := rf.ReadFrame()
				if err != nil {
					read <- ""
					return
				}
				if g, ok := f.(*http2.GoAwayFrame); ok && g.ErrCode == http2.ErrCodeEnhanceYourCalm {
					read <- fmt.Sprintf("GOAWAY(%v, %q)", g.ErrCode, g.DebugData())
					return
				}
			}
		}()
		var hbuf bytes.Buffer
		henc := hpack.NewEncoder(&hbuf)
		for _, f := range grpcHeaders(srv.addr, pb.AssessmentService_AssessCountry_FullMethodName) {
			_ = henc.WriteField(f)
		}
		block := hbuf.Bytes()
		w := &bytes.Buffer{}
		wfr := http2.NewFramer(w, nil)
		for id := uint32(1); sent < pairs && id < 1<<30; id += 2 {
			_ = wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true})
			_ = wfr.WriteRSTStream(id, http2.ErrCodeCancel)
			sent++
			if w.Len() > 64<<10 {
				_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := conn.Write(w.Bytes()); err != nil {
					break // the server has closed the connection
				}
				w.Reset()
			}
		}
		_, _ = conn.Write(w.Bytes())
		select {
		case g := <-read:
			if g != "" {
				goAways = append(goAways, g)
			}
		case <-time.After(5 * time.Second):
		}
		_ = conn.Close()
	}
	took := time.Since(start)
	time.Sleep(time.Second) // the server's log is flushed every 100 ms
	lines := len(srv.logLines("call")) - linesBefore
	if lines >= 1000 {
		t.Errorf("%d reset pairs wrote %d call lines, want under 1,000", sent, lines)
	}
	if len(goAways) == 0 {
		t.Error("no GOAWAY ENHANCE_YOUR_CALM for a flood of resets")
	}
	body := srv.scrape(t)
	figure(t, "%d HEADERS+RST_STREAM pairs without a token over %d connections in %v: %d call lines, %v left out and counted; %d GOAWAYs (first %v); %v connections closed for resets",
		sent, conns, took.Round(time.Millisecond), lines, metric(body, "safethird_call_log_lines_left_out_total"), len(goAways),
		firstOr(goAways, "none"), metric(body, "safethird_connections_evicted_total", "reason", "resets"))
}

// Finding 10: an X-Server-Timeout of 1e10, 1e308 or Inf overflowed to a
// deadline already passed (an immediate 504), and a gRPC-Web unary request
// with two messages was answered. A deadline header is now capped at the
// server's maximum, and a second message refused.
func TestDeadlineHeadersAndExtraMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := httpClient()
	var rows []string
	for _, v := range []string{"1e10", "1e308", "Inf"} {
		code, body, err := httpCall(c, "POST", "http://"+srv.httpAddr+"/v1/countries/MX:assess", []byte(`{"as_of":"2019-01-01"}`),
			"Content-Type", "application/json", "X-Server-Timeout", v)
		if err != nil || code != http.StatusOK {
			t.Errorf("X-Server-Timeout %s: HTTP %d %v %.200s; want 200", v, code, err, body)
		}
		rows = append(rows, fmt.Sprintf("X-Server-Timeout %s: HTTP %d", v, code))
	}
	one := grpcFrameBytes(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	for _, n := range []int{1, 2} {
		req, err := http.NewRequest("POST", "http://"+srv.httpAddr+pb.AssessmentService_AssessCountry_FullMethodName, bytes.NewReader(bytes.Repeat(one, n)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/grpc-web+proto")
		req.Header.Set("X-Grpc-Web", "1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		code := resp.StatusCode
		// A trailers-only answer carries the status in its headers.
		grpcStatus := cmp.Or(resp.Header.Get("Grpc-Status"), grpcWebStatus(body))
		want := map[int]string{1: "0", 2: fmt.Sprint(int(codes.InvalidArgument))}[n]
		if err != nil || grpcStatus != want {
			t.Errorf("gRPC-Web with %d messages: HTTP %d %v, grpc-status %q; want %s", n, code, err, grpcStatus, want)
		}
		rows = append(rows, fmt.Sprintf("gRPC-Web with %d messages: grpc-status %s", n, grpcStatus))
	}
	figure(t, "%s", strings.Join(rows, "; "))
}

// grpcWebStatus is the grpc-status in a gRPC-Web response's trailer frame,
// or "" when it has none.
func grpcWebStatus(body []byte) string {
	for len(body) >= 5 {
		size := int(binary.BigEndian.Uint32(body[1:5]))
		if len(body)-5 < size {
			return ""
		}
		if body[0]&0x80 != 0 {
			for line := range strings.SplitSeq(string(body[5:5+size]), "\r\n") {
				if v, ok := strings.CutPrefix(strings.ToLower(line), "grpc-status:"); ok {
					return strings.TrimSpace(v)
				}
			}
		}
		body = body[5+size:]
	}
	return ""
}

// withBearer adds a bearer token to a call's metadata.
func withBearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// firstOr returns the first of list, or none.
func firstOr(list []string, none string) string {
	if len(list) == 0 {
		return none
	}
	return list[0]
}
