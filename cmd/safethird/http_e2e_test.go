package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/openapi"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// These tests drive the HTTP door of the real binary with the real curl,
// as a case-management system's developer would, and check every JSON
// answer against the OpenAPI document the server serves, with a real
// OpenAPI validator. .ci/run installs curl where a machine lacks it.

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not on PATH; .ci/run installs it")
	}
}

// curlResult is one HTTP exchange as curl saw it.
type curlResult struct {
	status  int
	header  http.Header
	body    []byte
	version string // "1.1" or "2"
}

// curl runs curl with args and returns the response; it fails the test
// when curl cannot complete the exchange.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	r, err := tryCurl(t, args...)
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// tryCurl is curl that returns curl's failure instead of failing the test.
func tryCurl(t *testing.T, args ...string) (curlResult, error) {
	t.Helper()
	dir := t.TempDir()
	headers, body := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	full := append([]string{"-sS", "--max-time", "20", "-D", headers, "-o", body, "-w", "%{http_code} %{http_version}"}, args...)
	out, err := exec.Command("curl", full...).CombinedOutput()
	if err != nil {
		return curlResult{}, fmt.Errorf("%w: %s", err, out)
	}
	var r curlResult
	if _, err := fmt.Sscanf(string(out), "%d %s", &r.status, &r.version); err != nil {
		return curlResult{}, fmt.Errorf("read curl's -w output %q: %w", out, err)
	}
	if r.body, err = os.ReadFile(body); err != nil && !os.IsNotExist(err) {
		return curlResult{}, err
	}
	raw, err := os.ReadFile(headers)
	if err != nil {
		return curlResult{}, err
	}
	// The last block is the final response (after any 100 Continue).
	blocks := strings.Split(strings.TrimSpace(string(raw)), "\r\n\r\n")
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader(blocks[len(blocks)-1] + "\r\n\r\n")))
	if _, err := tp.ReadLine(); err != nil { // the status line
		return curlResult{}, err
	}
	mime, err := tp.ReadMIMEHeader()
	if err != nil {
		return curlResult{}, fmt.Errorf("read headers: %w", err)
	}
	r.header = http.Header(mime)
	return r, nil
}

// apiDoc validates exchanges against the OpenAPI document.
type apiDoc struct {
	v validator.Validator
}

func newAPIDoc(t *testing.T, doc []byte) *apiDoc {
	t.Helper()
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("parse the OpenAPI document: %v", err)
	}
	// The document declares the bearer token a guarded server asks for;
	// these servers run without a token file and take calls without one,
	// and TestHTTPTLSAndTokens checks the token itself, so the validator
	// leaves the Authorization header alone.
	v, errs := validator.NewValidator(d, config.WithPathTree(noPathTree{}), config.WithoutSecurityValidation())
	if len(errs) > 0 {
		t.Fatalf("build the validator: %v", errs)
	}
	if ok, problems := v.ValidateDocument(); !ok {
		t.Fatalf("the OpenAPI document is not valid: %v", problems[0])
	}
	return &apiDoc{v: v}
}

// noPathTree turns off the validator's radix tree, which takes POST
// /v1/countries/MX:assess for GET /v1/countries/{countryCode}, missing the
// custom verb ":assess"; the router then matches paths by their regular
// expressions, which see it. (config.DisablePathTree is not enough: the
// router builds a tree of its own when given none.)
type noPathTree struct{}

func (noPathTree) Lookup(string) (*v3.PathItem, string, bool) { return nil, "", false }

// check validates the response r to method target with reqBody (JSON, or
// "" for none), and the request itself when checkRequest is set: a bad
// request sent on purpose is not checked.
func (d *apiDoc) check(t *testing.T, method, target, reqBody string, r curlResult, checkRequest bool) {
	t.Helper()
	req, err := http.NewRequest(method, "http://safethird.test"+target, strings.NewReader(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)), Request: req}
	validate := d.v.ValidateHttpResponse
	if checkRequest {
		validate = d.v.ValidateHttpRequestResponse
	}
	if ok, problems := validate(req, resp); !ok {
		for _, p := range problems {
			t.Errorf("%s %s: %d answer does not match /openapi.yaml: %s", method, target, r.status, p.Error())
			for _, se := range p.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
}

func TestHTTPEndToEnd(t *testing.T) {
	needCurl(t)
	needGrpcurl(t)
	bin := buildServeBinary(t)
	p := startServe(t, bin, []string{"SAFETHIRD_METRICS_ADDR=127.0.0.1:0"})
	base := "http://" + p.httpAddr

	// The server serves the committed document, and it is valid OpenAPI 3.
	got := curl(t, base+"/openapi.yaml")
	if got.status != 200 || got.header.Get("Content-Type") != "application/yaml" || string(got.body) != openapi.Document() {
		t.Fatalf("GET /openapi.yaml: %d %s, %d bytes; want the committed document", got.status, got.header.Get("Content-Type"), len(got.body))
	}
	doc := newAPIDoc(t, got.body)

	// The issue's own example, curl's form type and all, answers what
	// gRPC answers.
	r := curl(t, "-X", "POST", base+"/v1/countries/MX:assess", "-d", `{"as_of":"2019-01-01"}`)
	if r.status != 200 {
		t.Fatalf("assess MX: %d %s", r.status, r.body)
	}
	doc.check(t, "POST", "/v1/countries/MX:assess", `{"as_of":"2019-01-01"}`, r, true)
	var rest, grpc pb.AssessCountryResponse
	if err := protojson.Unmarshal(r.body, &rest); err != nil {
		t.Fatalf("REST answer: %v", err)
	}
	if err := protojson.Unmarshal([]byte(mustGrpcurl(t, "-plaintext", "-d", `{"country_code":"MX","as_of":"2019-01-01"}`, p.addr, "safethird.v1.AssessmentService/AssessCountry")), &grpc); err != nil {
		t.Fatalf("gRPC answer: %v", err)
	}
	if diff := cmp.Diff(&grpc, &rest, protocmp.Transform()); diff != "" {
		t.Errorf("REST and gRPC answers differ (-gRPC +REST):\n%s", diff)
	}
	if rest.GetAssessment().GetDetermination() != pb.Determination_DETERMINATION_DOES_NOT_QUALIFY {
		t.Errorf("MX on 2019-01-01: %s, want DOES_NOT_QUALIFY", rest.GetAssessment().GetDetermination())
	}

	// The memo over HTTP is the memo the CLI writes.
	memo := curl(t, "-X", "POST", base+"/v1/countries/MX:assess", "-H", "Accept: text/markdown", "-d", `{"as_of":"2019-01-01"}`)
	if memo.status != 200 || memo.header.Get("Content-Type") != "text/markdown; charset=utf-8" {
		t.Fatalf("memo: %d %s", memo.status, memo.header.Get("Content-Type"))
	}
	cli := runCLI(t, bin, p.addr, "assess", "MX", "--as-of", "2019-01-01", "-o", "markdown")
	if cli.code != 0 {
		t.Fatalf("assess -o markdown: exit %d: %s", cli.code, cli.stderr)
	}
	if diff := cmp.Diff(string(cli.stdout), string(memo.body)); diff != "" {
		t.Errorf("the HTTP memo differs from `assess -o markdown` (-CLI +HTTP):\n%s", diff)
	}
	if !strings.HasPrefix(string(memo.body), "# Safe third country assessment: Mexico (MX)") {
		t.Errorf("memo starts %.60q", memo.body)
	}

	// Every other path, with a body where it takes one.
	for _, c := range []struct{ method, target, body string }{
		{"POST", "/v1/countries:batchAssess", `{"requests":[{"country_code":"MX","as_of":"2019-01-01","view":"ASSESSMENT_VIEW_BASIC"},{"country_code":"M1"}]}`},
		{"POST", "/v1/routes:assess", `{"legs":[{"country_code":"GT"},{"country_code":"MX"}],"as_of":"2020-01-15","applicant":{"nationality_code":"HN"}}`},
		{"POST", "/v1/countries/CA:assess", `{"as_of":"2024-06-01","applicant":{"nationality_code":"HT","age":16,"married":false,"entry_type":"ENTRY_TYPE_LAND_PORT_OF_ENTRY"}}`},
		{"GET", "/v1/countries?page_size=2&curated_only=true", ""},
		{"GET", "/v1/countries/MX", ""},
		{"GET", "/v1/agreements", ""},
		{"GET", "/v1/agreements/ca-us-stca", ""},
		{"GET", "/v1/frameworks", ""},
		{"GET", "/v1/frameworks/us-ina-208a2a", ""},
	} {
		args := []string{"-X", c.method, base + c.target}
		if c.body != "" {
			args = append(args, "-H", "Content-Type: application/json", "-d", c.body)
		}
		r := curl(t, args...)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" || len(r.header.Values("X-Request-Id")) != 1 {
			t.Errorf("%s %s: %d %v: %.200s", c.method, c.target, r.status, r.header, r.body)
			continue
		}
		doc.check(t, c.method, c.target, c.body, r, true)
	}

	// Errors: a google.rpc.Status under the HTTP status of its code.
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, []byte(`{"as_of":"`+strings.Repeat("9", 300<<10)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, target, body string
		extra                []string
		wantStatus           int
		wantReason           string
	}{
		{"POST", "/v1/countries/MEX:assess", `{}`, nil, 400, "ERROR_REASON_INVALID_ARGUMENT"},
		{"POST", "/v1/countries/MX:assess", `{"as_off":"2019-01-01"}`, nil, 400, "ERROR_REASON_INVALID_ARGUMENT"},
		{"GET", "/v1/countries/ZZ", "", nil, 404, "ERROR_REASON_COUNTRY_NOT_FOUND"},
		{"GET", "/v1/frameworks/nope", "", nil, 404, "ERROR_REASON_FRAMEWORK_NOT_FOUND"},
		{"POST", "/v1/countries/MX:assess", `{"dataset_revision":"sha256:` + strings.Repeat("0", 64) + `"}`, nil, 412, "ERROR_REASON_DATASET_REVISION_MISMATCH"},
		{"POST", "/v1/countries/MX:assess", "@" + big, nil, 413, "ERROR_REASON_MESSAGE_TOO_LARGE"},
		{"GET", "/v1/agreements?page_token=not-a-token", "", nil, 400, "ERROR_REASON_INVALID_PAGE_TOKEN"},
		{"DELETE", "/v1/countries/MX", "", nil, 405, "ERROR_REASON_INVALID_ARGUMENT"},
		{"POST", "/v1/countries/MX:assess", `{}`, []string{"-H", "Content-Type: text/plain"}, 415, "ERROR_REASON_INVALID_ARGUMENT"},
		{"GET", "/v1/nowhere", "", nil, 404, "ERROR_REASON_INVALID_ARGUMENT"},
	} {
		args := append([]string{"-X", c.method, base + c.target}, c.extra...)
		if c.body != "" {
			args = append(args, "--data-binary", c.body)
		}
		r := curl(t, args...)
		name := fmt.Sprintf("%s %s", c.method, c.target)
		if r.status != c.wantStatus {
			t.Errorf("%.80s: HTTP %d, want %d: %.300s", name, r.status, c.wantStatus, r.body)
			continue
		}
		if got := restReason(t, r.body); got != c.wantReason {
			t.Errorf("%.80s: reason %q, want %s: %.300s", name, got, c.wantReason, r.body)
		}
		if c.wantStatus != 405 && c.wantStatus != 415 && !strings.HasSuffix(c.target, "nowhere") {
			doc.check(t, c.method, c.target, "", r, false)
		}
	}

	// The Connect protocol, with its version header or without, as
	// connect-go's servers take it, and gRPC-Web on the same port.
	for _, extra := range [][]string{{"-H", "Connect-Protocol-Version: 1"}, nil} {
		args := append([]string{"-X", "POST", base + "/safethird.v1.AssessmentService/AssessCountry",
			"-H", "Content-Type: application/json", "-d", `{"country_code":"MX","as_of":"2019-01-01"}`}, extra...)
		connect := curl(t, args...)
		var viaConnect pb.AssessCountryResponse
		if err := protojson.Unmarshal(connect.body, &viaConnect); connect.status != 200 || err != nil {
			t.Errorf("Connect %v: %d %v: %.200s", extra, connect.status, err, connect.body)
		} else if diff := cmp.Diff(&grpc, &viaConnect, protocmp.Transform()); diff != "" {
			t.Errorf("Connect answer differs (-gRPC +Connect):\n%s", diff)
		}
	}
	viaWeb, trailer := grpcWebCall(t, base+"/safethird.v1.AssessmentService/AssessCountry", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	if !strings.Contains(strings.ToLower(strings.ReplaceAll(trailer, " ", "")), "grpc-status:0") {
		t.Errorf("gRPC-Web trailer %q, want grpc-status:0", trailer)
	}
	if diff := cmp.Diff(&grpc, viaWeb, protocmp.Transform()); diff != "" {
		t.Errorf("gRPC-Web answer differs (-gRPC +gRPC-Web):\n%s", diff)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if r := curl(t, base+path); r.status != 200 || string(r.body) != `{"status":"SERVING"}` {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}

	// REST calls are counted and logged as RPCs are, their content never.
	metrics := curl(t, "http://"+p.metricsAddr+"/metrics")
	wantContains(t, "/metrics", string(metrics.body),
		`grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetCountry",grpc_service="safethird.v1.CatalogService"} 1`,
		`grpc_server_handled_total{grpc_code="FailedPrecondition",grpc_method="AssessCountry",grpc_service="safethird.v1.AssessmentService"} 1`)
	p.terminate(t, 10*time.Second)
	wantContains(t, "log", p.stderr.String(), `"method":"/safethird.v1.CatalogService/GetAgreement"`, `"http_addr":"`+p.httpAddr+`"`)
	for _, secret := range []string{"2019-01-01", `"HT"`, "ENTRY_TYPE_LAND"} {
		if strings.Contains(p.stderr.String(), secret) {
			t.Errorf("the log holds a request's content (%s)", secret)
		}
	}
}

// restReason reads the ErrorInfo reason of a REST error body, a
// google.rpc.Status as JSON.
func restReason(t *testing.T, body []byte) string {
	t.Helper()
	var p spb.Status
	if err := protojson.Unmarshal(body, &p); err != nil {
		t.Errorf("error body is not a google.rpc.Status: %v: %.200s", err, body)
		return ""
	}
	for _, d := range status.FromProto(&p).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == "safethird.v1" {
			return info.GetReason()
		}
	}
	return ""
}

// grpcWebCall makes a unary gRPC-Web call with curl: the request framed as
// gRPC-Web frames it, the answer's message and trailer frames read back.
func grpcWebCall(t *testing.T, url string, req proto.Message) (*pb.AssessCountryResponse, string) {
	t.Helper()
	msg, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
	body := filepath.Join(t.TempDir(), "request.bin")
	if err := os.WriteFile(body, append(frame, msg...), 0o600); err != nil {
		t.Fatal(err)
	}
	r := curl(t, "-X", "POST", url, "-H", "Content-Type: application/grpc-web+proto", "-H", "X-Grpc-Web: 1", "--data-binary", "@"+body)
	if r.status != 200 {
		t.Fatalf("gRPC-Web: HTTP %d: %q", r.status, r.body)
	}
	var resp pb.AssessCountryResponse
	var trailer string
	for b := r.body; len(b) >= 5; {
		flags, n := b[0], int(binary.BigEndian.Uint32(b[1:5]))
		if len(b) < 5+n {
			t.Fatalf("gRPC-Web: frame of %d bytes cut short", n)
		}
		payload := b[5 : 5+n]
		if flags&0x80 != 0 {
			trailer = strings.ReplaceAll(string(payload), "\r\n", ";")
		} else if err := proto.Unmarshal(payload, &resp); err != nil {
			t.Fatalf("gRPC-Web: message: %v", err)
		}
		b = b[5+n:]
	}
	return &resp, trailer
}

// TLS, tokens and client certificates guard the HTTP door as they guard
// the gRPC port; health and the document need no token.
func TestHTTPTLSAndTokens(t *testing.T) {
	needCurl(t)
	bin := buildServeBinary(t)
	p, pki := startTLSServe(t, bin)
	// The test certificate names localhost and 127.0.0.1.
	base := "https://" + p.httpAddr
	doc := newAPIDoc(t, []byte(openapi.Document()))

	r := curl(t, "--cacert", pki.CAFile, "-H", "Authorization: Bearer token-one-0123456789", base+"/v1/frameworks/us-ina-208a2a")
	if r.status != 200 {
		t.Errorf("with the token: %d %s", r.status, r.body)
	}
	if r.version != "2" {
		t.Errorf("HTTP version %s over TLS, want 2 (negotiated by ALPN)", r.version)
	}
	for _, auth := range []string{"", "Authorization: Bearer token-three"} {
		args := []string{"--cacert", pki.CAFile, base + "/v1/frameworks/us-ina-208a2a"}
		if auth != "" {
			args = append(args, "-H", auth)
		}
		r := curl(t, args...)
		if r.status != 401 || !strings.HasPrefix(r.header.Get("Www-Authenticate"), "Bearer") || restReason(t, r.body) != "ERROR_REASON_UNAUTHENTICATED" {
			t.Errorf("header %q: %d %v %s", auth, r.status, r.header, r.body)
		}
		doc.check(t, "GET", "/v1/frameworks/us-ina-208a2a", "", r, false)
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		if r := curl(t, "--cacert", pki.CAFile, base+path); r.status != 200 {
			t.Errorf("%s without a token: %d", path, r.status)
		}
	}
	if r, err := tryCurl(t, "http://"+p.httpAddr+"/healthz"); err == nil && r.status != http.StatusBadRequest {
		t.Errorf("plaintext HTTP to the TLS door: %d %s, want net/http's 400", r.status, r.body)
	}
	if _, err := tryCurl(t, base+"/healthz"); err == nil {
		t.Error("curl trusted the server without its CA")
	}
	p.terminate(t, 15*time.Second)

	t.Run("mTLS", func(t *testing.T) {
		p := startServe(t, bin, nil, "--tls-cert", pki.ServerCertFile, "--tls-key", pki.ServerKeyFile, "--client-ca", pki.CAFile)
		base := "https://" + p.httpAddr
		if r, err := tryCurl(t, "--cacert", pki.CAFile, base+"/readyz"); err == nil {
			t.Errorf("a client without a certificate got an answer: %d", r.status)
		}
		r := curl(t, "--cacert", pki.CAFile, "--cert", pki.ClientCertFile, "--key", pki.ClientKeyFile, base+"/readyz")
		if r.status != 200 {
			t.Errorf("with a client certificate: %d %s", r.status, r.body)
		}
		p.terminate(t, 15*time.Second)
	})
}
