package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/memo"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// httpServer is a server with its HTTP door on a loopback port.
type httpServer struct {
	*testServer
	base string // http://host:port
}

// startHTTP starts a server with its HTTP door on a free loopback port and
// waits until it reports SERVING.
func startHTTP(t *testing.T, cfg server.Config) *httpServer {
	t.Helper()
	hs := startHTTPUnready(t, cfg)
	hs.waitServing(t)
	return hs
}

// startHTTPUnready starts it without waiting for the dataset. The door's
// port is chosen before the start, since the server logs the address only
// once it serves.
func startHTTPUnready(t *testing.T, cfg server.Config) *httpServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr = lis.Addr().String()
	_ = lis.Close()
	hs := &httpServer{testServer: startUnready(t, cfg), base: "http://" + cfg.HTTPAddr}
	waitFor(t, "the HTTP door to listen", func() bool {
		c, err := net.Dial("tcp", cfg.HTTPAddr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return hs
}

// onCall runs f in every call of method, just before its handler: to
// make a call panic or block.
func onCall(cfg *server.Config, method string, f func()) {
	server.SetBeforeHandler(cfg, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == method {
			f()
		}
		return handler(ctx, req)
	})
}

// do sends a request with body (nil for none) and headers "Key: value",
// and returns the response with its body read.
func (hs *httpServer) do(t *testing.T, method, path string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, hs.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

// restStatus decodes an error body, asserting it is a google.rpc.Status as
// JSON with ErrorInfo in domain safethird.v1 and no gRPC framing around it.
func restStatus(t *testing.T, resp *http.Response, body []byte) *status.Status {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	for k := range resp.Header {
		if strings.HasPrefix(k, "Grpc-") || k == "Trailer" {
			t.Errorf("REST error carries gRPC header %s", k)
		}
	}
	var p spb.Status
	if err := protojson.Unmarshal(body, &p); err != nil {
		t.Fatalf("error body is not a google.rpc.Status: %v\n%s", err, body)
	}
	st := status.FromProto(&p)
	if info := errorInfo(st); info == nil || info.GetDomain() != "safethird.v1" {
		t.Errorf("error %s %q has no ErrorInfo in domain safethird.v1", st.Code(), st.Message())
	}
	return st
}

// Over REST every path answers what the same RPC answers over gRPC.
func TestHTTPRESTMatchesGRPC(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	ctx := context.Background()
	grpcCall := func(f func() (proto.Message, error)) proto.Message {
		m, err := f()
		if err != nil {
			t.Fatalf("gRPC: %v", err)
		}
		return m
	}
	tests := []struct {
		method, path, body string
		want               proto.Message
	}{
		{"POST", "/v1/countries/MX:assess", `{"as_of":"2019-01-01"}`, grpcCall(func() (proto.Message, error) {
			return hs.assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
		})},
		{"POST", "/v1/countries/gt:assess", `{"asOf":"2020-01-10","view":"ASSESSMENT_VIEW_BASIC","applicant":{"nationalityCode":"HN","age":30}}`, grpcCall(func() (proto.Message, error) {
			return hs.assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "gt", AsOf: "2020-01-10", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC,
				Applicant: &safethirdv1.Applicant{NationalityCode: ptr("HN"), Age: ptr[int32](30)}})
		})},
		{"POST", "/v1/countries:batchAssess", `{"requests":[{"country_code":"MX","as_of":"2019-01-01"},{"country_code":"M1"}]}`, grpcCall(func() (proto.Message, error) {
			return hs.assess.BatchAssessCountries(ctx, &safethirdv1.BatchAssessCountriesRequest{Requests: []*safethirdv1.AssessCountryRequest{
				{CountryCode: "MX", AsOf: "2019-01-01"}, {CountryCode: "M1"}}})
		})},
		{"POST", "/v1/routes:assess", `{"legs":[{"country_code":"GT"},{"country_code":"MX"}],"as_of":"2020-01-15"}`, grpcCall(func() (proto.Message, error) {
			return hs.assess.AssessRoute(ctx, &safethirdv1.AssessRouteRequest{Legs: []*safethirdv1.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}, AsOf: "2020-01-15"})
		})},
		{"GET", "/v1/countries?page_size=2&curated_only=true", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.ListCountries(ctx, &safethirdv1.ListCountriesRequest{PageSize: 2, CuratedOnly: true})
		})},
		{"GET", "/v1/countries?pageSize=3", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.ListCountries(ctx, &safethirdv1.ListCountriesRequest{PageSize: 3})
		})},
		{"GET", "/v1/countries/MX", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{CountryCode: "MX"})
		})},
		{"GET", "/v1/agreements", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.ListAgreements(ctx, &safethirdv1.ListAgreementsRequest{})
		})},
		{"GET", "/v1/agreements/ca-us-stca", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.GetAgreement(ctx, &safethirdv1.GetAgreementRequest{AgreementId: "ca-us-stca"})
		})},
		{"GET", "/v1/frameworks", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.ListFrameworks(ctx, &safethirdv1.ListFrameworksRequest{})
		})},
		{"GET", "/v1/frameworks/us-ina-208a2a", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.GetFramework(ctx, &safethirdv1.GetFrameworkRequest{FrameworkId: "us-ina-208a2a"})
		})},
		{"GET", "/v1/revisions", "", grpcCall(func() (proto.Message, error) {
			return hs.catalog.ListRevisions(ctx, &safethirdv1.ListRevisionsRequest{})
		})},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var body []byte
			var headers []string
			if tt.body != "" {
				body, headers = []byte(tt.body), []string{"Content-Type: application/json"}
			}
			resp, b := hs.do(t, tt.method, tt.path, body, headers...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 {
				t.Errorf("X-Request-Id = %q, want one", ids)
			}
			got := tt.want.ProtoReflect().New().Interface()
			if err := protojson.Unmarshal(b, got); err != nil {
				t.Fatalf("decode: %v\n%s", err, b)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("REST answer differs from gRPC (-gRPC +REST):\n%s", diff)
			}
		})
	}
}

// Every REST error is a google.rpc.Status as JSON with ErrorInfo, under the
// HTTP status of its code, naming the field at fault.
func TestHTTPErrors(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	many := `{"requests":[` + strings.TrimSuffix(strings.Repeat(`{"country_code":"MX"},`, 101), ",") + `]}`
	tests := []struct {
		name, method, path, body, contentType string
		wantHTTP                              int
		wantCode                              codes.Code
		wantReason                            string
		wantField                             string
	}{
		{"bad country code", "POST", "/v1/countries/MEX:assess", `{}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "country_code"},
		{"bad date", "POST", "/v1/countries/MX:assess", `{"as_of":"2019-13-01"}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "as_of"},
		{"unknown field", "POST", "/v1/countries/MX:assess", `{"as_off":"2019-01-01"}`, "application/json", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "as_off"},
		{"wrong type", "POST", "/v1/countries/MX:assess", `{"applicant":{"age":"sixteen"}}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "applicant.age"},
		{"wrong shape", "POST", "/v1/countries/MX:assess", `{"applicant":{"countries_crossed":["GT"]}}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "applicant.countries_crossed"},
		{"unknown enum name", "POST", "/v1/routes:assess", `{"legs":[{"country_code":"GT"}],"applicant":{"entry_type":"BY_AIR"}}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "applicant.entry_type"},
		{"unknown enum name in a batch", "POST", "/v1/countries:batchAssess", `{"requests":[{"country_code":"MX"},{"view":"FULL"}]}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "requests[1].view"},
		{"body repeats the path, otherwise", "POST", "/v1/countries/MX:assess", `{"countryCode":"GT"}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "country_code"},
		{"malformed JSON", "POST", "/v1/countries/MX:assess", `{"as_of":`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"query on a POST", "POST", "/v1/countries/MX:assess?applicant.age=16", `{}`, "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"unknown query parameter", "GET", "/v1/countries?page_sise=5", "", "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"bad query value", "GET", "/v1/countries?page_size=ten", "", "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"body on a GET", "GET", "/v1/countries", `{}`, "application/json", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"bad page token", "GET", "/v1/agreements?page_token=xyz", "", "", 400, codes.InvalidArgument, "ERROR_REASON_INVALID_PAGE_TOKEN", "page_token"},
		{"too many items", "POST", "/v1/countries:batchAssess", many, "", 400, codes.InvalidArgument, "ERROR_REASON_TOO_MANY_ITEMS", ""},
		{"unknown country", "GET", "/v1/countries/ZZ", "", "", 404, codes.NotFound, "ERROR_REASON_COUNTRY_NOT_FOUND", ""},
		{"unknown agreement", "GET", "/v1/agreements/nope", "", "", 404, codes.NotFound, "ERROR_REASON_AGREEMENT_NOT_FOUND", ""},
		{"unknown framework", "POST", "/v1/countries/MX:assess", `{"framework_id":"nope"}`, "", 404, codes.NotFound, "ERROR_REASON_FRAMEWORK_NOT_FOUND", ""},
		{"unknown path", "GET", "/v1/nowhere", "", "", 404, codes.NotFound, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"wrong method", "DELETE", "/v1/countries/MX", "", "", 405, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"wrong media type", "POST", "/v1/countries/MX:assess", `{}`, "text/plain", 415, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", ""},
		{"revision not held", "POST", "/v1/countries/MX:assess", `{"dataset_revision":"sha256:` + zeros64 + `"}`, "", 412, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH", ""},
		{"too large", "POST", "/v1/countries:batchAssess", `{"requests":[{"country_code":"` + strings.Repeat("x", server.MaxRecvMsgSize) + `"}]}`, "", 413, codes.ResourceExhausted, "ERROR_REASON_MESSAGE_TOO_LARGE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			var headers []string
			if tt.body != "" {
				body = []byte(tt.body)
			}
			if tt.contentType != "" {
				headers = append(headers, "Content-Type: "+tt.contentType)
			}
			resp, b := hs.do(t, tt.method, tt.path, body, headers...)
			if resp.StatusCode != tt.wantHTTP {
				t.Errorf("HTTP status %d, want %d: %s", resp.StatusCode, tt.wantHTTP, b)
			}
			st := restStatus(t, resp, b)
			if st.Code() != tt.wantCode {
				t.Errorf("code %s, want %s: %q", st.Code(), tt.wantCode, st.Message())
			}
			if info := errorInfo(st); info.GetReason() != tt.wantReason {
				t.Errorf("reason %q, want %q", info.GetReason(), tt.wantReason)
			}
			if tt.wantField != "" && !cmp.Equal(violationFields(st), []string{tt.wantField}) {
				t.Errorf("field violations %v, want [%s]", violationFields(st), tt.wantField)
			}
			if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 {
				t.Errorf("X-Request-Id = %q, want one", ids)
			}
			// An applicant's value never comes back in an error.
			if strings.Contains(string(b), "sixteen") || strings.Contains(string(b), "=16") {
				t.Errorf("the error repeats a value sent: %s", b)
			}
		})
	}
}

// A REST error says what to send instead: the shape a field takes, the
// names an enum accepts, which of the path and the body to keep.
func TestHTTPErrorsGuide(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	tests := []struct {
		name, path, body, want string
	}{
		{"shape", "/v1/countries/MX:assess", `{"applicant":{"countries_crossed":["GT"]}}`,
			`applicant.countries_crossed: must be a JSON object: safethird.v1.CountryList, {"country_codes": [...]}`},
		{"enum", "/v1/countries/MX:assess", `{"view":"BASIC"}`,
			"view: must be one of ASSESSMENT_VIEW_UNSPECIFIED, ASSESSMENT_VIEW_BASIC, ASSESSMENT_VIEW_FULL"},
		{"path and body", "/v1/countries/MX:assess", `{"country_code":"GT"}`,
			"the body's country_code differs from {country_code} in the path /v1/countries/{country_code}:assess: give it once, in the path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := hs.do(t, "POST", tt.path, []byte(tt.body))
			if st := restStatus(t, resp, b); !strings.Contains(st.Message(), tt.want) {
				t.Errorf("message %q, want it to say %q", st.Message(), tt.want)
			}
		})
	}
	// The same code twice, in either case, is one question, answered.
	for _, body := range []string{`{"country_code":"MX","as_of":"2019-01-01"}`, `{"countryCode":"mx","as_of":"2019-01-01"}`} {
		if resp, b := hs.do(t, "POST", "/v1/countries/MX:assess", []byte(body)); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: HTTP %d: %s", body, resp.StatusCode, b)
		}
	}
}

// The memo over HTTP is the one the CLI renders from the same answer.
func TestHTTPMemo(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	ctx := context.Background()
	answer, err := hs.assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := hs.catalog.GetFramework(ctx, &safethirdv1.GetFrameworkRequest{FrameworkId: answer.GetAssessment().GetFrameworkId()})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := memo.Assessment(&want, answer.GetAssessment(), f.GetFramework()); err != nil {
		t.Fatal(err)
	}
	for _, accept := range []string{"text/markdown", "text/markdown, application/json;q=0.5", "application/json;q=0.1, text/*"} {
		resp, b := hs.do(t, "POST", "/v1/countries/MX:assess", []byte(`{"as_of":"2019-01-01"}`), "Accept: "+accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/markdown; charset=utf-8" {
			t.Fatalf("Accept %q: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if diff := cmp.Diff(want.String(), string(b)); diff != "" {
			t.Errorf("Accept %q: memo differs from the CLI's (-want +got):\n%s", accept, diff)
		}
		if resp.Header.Get("Vary") != "Accept" || len(resp.Header.Values("X-Request-Id")) != 1 {
			t.Errorf("Accept %q: headers %v", accept, resp.Header)
		}
	}
	// JSON still, for JSON, anything, nothing or a refused memo.
	for _, accept := range []string{"application/json", "*/*", "", "text/markdown;q=0, application/json"} {
		var headers []string
		if accept != "" {
			headers = []string{"Accept: " + accept}
		}
		resp, b := hs.do(t, "POST", "/v1/countries/MX:assess", []byte(`{"as_of":"2019-01-01"}`), headers...)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: %d %s: %.80s", accept, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	// A call that fails answers the JSON error, memo asked or not.
	resp, b := hs.do(t, "POST", "/v1/countries/MEX:assess", []byte(`{}`), "Accept: text/markdown")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad call with Accept: text/markdown: %d", resp.StatusCode)
	}
	wantStatus(t, restStatus(t, resp, b).Err(), codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT")
}

// Bearer tokens guard the REST paths as they guard the RPCs; health, the
// readiness probe and the OpenAPI document need none.
func TestHTTPAuth(t *testing.T) {
	cfg := serverConfig()
	cfg.AuthTokens = []string{"sesame"}
	cfg.AllowPlaintextTokens = true
	hs := startHTTP(t, cfg)
	for _, h := range [][]string{nil, {"Authorization: Bearer wrong"}, {"Authorization: Basic c2VzYW1l"}} {
		resp, b := hs.do(t, "GET", "/v1/frameworks", nil, h...)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("headers %q: %d, WWW-Authenticate %q", h, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		wantStatus(t, restStatus(t, resp, b).Err(), codes.Unauthenticated, "ERROR_REASON_UNAUTHENTICATED")
	}
	if resp, b := hs.do(t, "GET", "/v1/frameworks", nil, "Authorization: Bearer sesame"); resp.StatusCode != http.StatusOK {
		t.Errorf("with the token: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		if resp, b := hs.do(t, "GET", path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s without a token: %d %s", path, resp.StatusCode, b)
		}
	}
}

// A panic in a REST call is a 500 with a generic message, as over gRPC.
func TestHTTPPanicIs500(t *testing.T) {
	cfg := serverConfig()
	onCall(&cfg, safethirdv1.CatalogService_ListFrameworks_FullMethodName, func() { panic("boom") })
	hs := startHTTP(t, cfg)
	resp, b := hs.do(t, "GET", "/v1/frameworks", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	st := wantStatus(t, restStatus(t, resp, b).Err(), codes.Internal, "ERROR_REASON_INTERNAL")
	if strings.Contains(st.Message(), "boom") {
		t.Errorf("the panic leaks into the message %q", st.Message())
	}
}

// /healthz stays 200 while the dataset loads; /readyz and the calls say
// 503 until it is loaded, as gRPC health and the RPCs do.
func TestHTTPNotServingUntilLoaded(t *testing.T) {
	hs, release := startGated(t, startHTTPUnready)

	if resp, b := hs.do(t, "GET", "/healthz", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "NOT_SERVING") {
		t.Errorf("/healthz while loading: %d %s", resp.StatusCode, b)
	}
	if resp, b := hs.do(t, "GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "NOT_SERVING") {
		t.Errorf("/readyz while loading: %d %s", resp.StatusCode, b)
	}
	resp, b := hs.do(t, "POST", "/v1/countries/MX:assess", []byte(`{}`))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a call while loading: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	wantStatus(t, restStatus(t, resp, b).Err(), codes.Unavailable, "ERROR_REASON_DATASET_NOT_LOADED")

	release()
	hs.waitServing(t)
	if resp, b := hs.do(t, "GET", "/readyz", nil); resp.StatusCode != http.StatusOK || string(b) != `{"status":"SERVING"}` {
		t.Errorf("/readyz once loaded: %d %s", resp.StatusCode, b)
	}
	if resp, _ := hs.do(t, "GET", "/readyz?service=safethird.v1.CatalogService", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz for CatalogService: %d", resp.StatusCode)
	}
	if resp, _ := hs.do(t, "GET", "/readyz?service=nope.Service", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/readyz for an unknown service: %d, want 404", resp.StatusCode)
	}
}

// On shutdown a REST call in flight finishes, and then the door closes.
func TestHTTPGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	cfg := serverConfig()
	cfg.ShutdownGrace = 5 * time.Second
	onCall(&cfg, safethirdv1.CatalogService_ListFrameworks_FullMethodName, func() {
		close(entered)
		<-release
	})
	hs := startHTTP(t, cfg)
	inFlight := make(chan int, 1)
	go func() {
		resp, err := http.Get(hs.base + "/v1/frameworks")
		if err != nil {
			inFlight <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		inFlight <- resp.StatusCode
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- hs.stop() }()
	waitFor(t, "health to turn NOT_SERVING", func() bool {
		return hs.logs.FilterMessage("shutting down").Len() > 0
	})
	close(release)
	if code := <-inFlight; code != http.StatusOK {
		t.Errorf("the call in flight got %d, want 200", code)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if hs.logs.FilterMessage("shutdown grace over; cut the calls still in flight").Len() > 0 {
		t.Error("the call in flight was cut")
	}
	if _, err := http.Get(hs.base + "/healthz"); err == nil {
		t.Error("the door still answers after Serve returned")
	}
}

// The request id is the caller's when valid, else a new one; it comes back
// once, and the call is logged and counted as any RPC is.
func TestHTTPRequestIDLogsAndMetrics(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	resp, _ := hs.do(t, "POST", "/v1/countries/MX:assess", []byte(`{"as_of":"2019-01-01","applicant":{"nationality_code":"HN"}}`), "X-Request-Id: case-42")
	if got := resp.Header.Values("X-Request-Id"); !cmp.Equal(got, []string{"case-42"}) {
		t.Errorf("X-Request-Id = %q, want [case-42]", got)
	}
	resp, _ = hs.do(t, "GET", "/v1/countries/ZZ", nil, "X-Request-Id: "+strings.Repeat("x", 200))
	if got := resp.Header.Values("X-Request-Id"); len(got) != 1 || len(got[0]) != 32 {
		t.Errorf("X-Request-Id for a too-long id = %q, want one new id", got)
	}
	calls := hs.logs.FilterMessage("call").FilterField(zap.String("request_id", "case-42")).All()
	if len(calls) != 1 {
		t.Fatalf("%d log lines for request case-42, want 1", len(calls))
	}
	fields := calls[0].ContextMap()
	if fields["method"] != safethirdv1.AssessmentService_AssessCountry_FullMethodName || fields["code"] != "OK" {
		t.Errorf("log line %v", fields)
	}
	for _, e := range hs.logs.All() {
		for _, v := range e.ContextMap() {
			if s, ok := v.(string); ok && (strings.Contains(s, "2019-01-01") || strings.Contains(s, `"HN"`)) {
				t.Errorf("the log holds a request's content: %v", e.ContextMap())
			}
		}
	}
	if n := metricValue(t, hs.reg, "grpc_server_handled_total", map[string]string{"grpc_method": "GetCountry", "grpc_code": "NotFound"}); n != 1 {
		t.Errorf("GetCountry NotFound counted %v times, want 1", n)
	}
}

// Connect and gRPC-Web clients reach the same services on the same port.
func TestHTTPConnectAndGRPCWeb(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	ctx := context.Background()
	req := &safethirdv1.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC}
	want, err := hs.assess.AssessCountry(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	url := hs.base + safethirdv1.AssessmentService_AssessCountry_FullMethodName
	for name, opts := range map[string][]connect.ClientOption{
		"Connect JSON":  {connect.WithProtoJSON()},
		"Connect proto": nil,
		"gRPC-Web":      {connect.WithGRPCWeb()},
	} {
		t.Run(name, func(t *testing.T) {
			c := connect.NewClient[safethirdv1.AssessCountryRequest, safethirdv1.AssessCountryResponse](http.DefaultClient, url, opts...)
			got, err := c.CallUnary(ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(want, got.Msg, protocmp.Transform()); diff != "" {
				t.Errorf("answer differs from gRPC's (-gRPC +%s):\n%s", name, diff)
			}
			_, err = c.CallUnary(ctx, connect.NewRequest(&safethirdv1.AssessCountryRequest{CountryCode: "M1"}))
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("bad request: %v, want invalid_argument", err)
			}
		})
	}
}
