package server_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/internal/answertest"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// wire calls method with req and returns the response's bytes as sent.
func wire(t *testing.T, ts *testServer, method string, req proto.Message) []byte {
	t.Helper()
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := ts.conn.Invoke(context.Background(), method, &body, &got, grpc.ForceCodec(rawCodec{})); err != nil {
		t.Fatalf("%s %v: %v", method, req, err)
	}
	return got
}

// answer is eng's answer to req: a fresh one from a new Engine, a
// memoized one from the server's.
func answer(t *testing.T, eng *assessment.Engine, req *safethirdv1.AssessCountryRequest) *safethirdv1.Assessment {
	t.Helper()
	a, err := eng.AssessCountry(req, today)
	if err != nil {
		t.Fatalf("engine %v: %v", req, err)
	}
	return a
}

// engineRoute is eng's answer to req.
func engineRoute(t *testing.T, eng *assessment.Engine, req *safethirdv1.AssessRouteRequest) *safethirdv1.AssessRouteResponse {
	t.Helper()
	r, err := eng.AssessRoute(req, today)
	if err != nil {
		t.Fatalf("engine %v: %v", req, err)
	}
	return r
}

const (
	assessMethod = "/safethird.v1.AssessmentService/AssessCountry"
	batchMethod  = "/safethird.v1.AssessmentService/BatchAssessCountries"
	routeMethod  = "/safethird.v1.AssessmentService/AssessRoute"
)

// What the server sends for a request, memoized answers from the bytes it
// keeps, must be byte for byte what proto.Marshal writes for a fresh
// engine's answer: every curated country, framework, date and view, with
// and without applicants, alone and then again in batches (by then from
// the memo). The size the responses link counts for each, from the
// stored encodings, is the length sent.
func TestSentAnswersAreFreshOnes(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	reqs := answertest.Requests(snap)
	eng, err := server.CurrentEngine(ts.srv)
	if err != nil {
		t.Fatal(err)
	}
	for i, req := range reqs {
		want, err := proto.Marshal(&safethirdv1.AssessCountryResponse{Assessment: answer(t, assessment.New(snap), req)})
		if err != nil {
			t.Fatal(err)
		}
		// A memoized answer is sent from its stored encoding from the
		// first call on (assessment's TestMemoizedAnswersAreFreshOnes
		// asks each twice, for the memo's second reading).
		if got := wire(t, ts, assessMethod, req); !bytes.Equal(got, want) {
			t.Fatalf("request %d, %v: sent %d bytes, a fresh answer is %d; they differ", i, req, len(got), len(want))
		}
		if n := server.ResponseSize(ts.srv, &safethirdv1.AssessCountryResponse{Assessment: answer(t, eng, req)}); n != len(want) {
			t.Fatalf("request %d, %v: size counted %d, sent %d", i, req, n, len(want))
		}
	}
	// Batches of up to 100 of the same requests, with a bad item among them.
	for start := 0; start < len(reqs); start += assessment.MaxBatchItems - 1 {
		items := reqs[start:min(start+assessment.MaxBatchItems-1, len(reqs))]
		batch := &safethirdv1.BatchAssessCountriesRequest{Requests: append([]*safethirdv1.AssessCountryRequest{{CountryCode: "ZZ"}}, items...)}
		got := wire(t, ts, batchMethod, batch)
		var sent safethirdv1.BatchAssessCountriesResponse
		if err := proto.Unmarshal(got, &sent); err != nil {
			t.Fatal(err)
		}
		want := &safethirdv1.BatchAssessCountriesResponse{Results: []*safethirdv1.BatchAssessResult{sent.GetResults()[0]}}
		counted := &safethirdv1.BatchAssessCountriesResponse{Results: []*safethirdv1.BatchAssessResult{sent.GetResults()[0]}}
		if sent.GetResults()[0].GetError() == nil {
			t.Fatalf("batch %d: the bad item has no error", start)
		}
		for _, req := range items {
			want.Results = append(want.Results, &safethirdv1.BatchAssessResult{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: answer(t, assessment.New(snap), req)}})
			counted.Results = append(counted.Results, &safethirdv1.BatchAssessResult{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: answer(t, eng, req)}})
		}
		wantBytes, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBytes) {
			t.Fatalf("batch from request %d: sent %d bytes, fresh answers are %d; they differ", start, len(got), len(wantBytes))
		}
		if n := server.ResponseSize(ts.srv, counted); n != len(got) {
			t.Fatalf("batch from request %d: size counted %d, sent %d", start, n, len(got))
		}
	}
	t.Logf("%d requests, alone and in batches", len(reqs))
}

// routeStride thins the routes asked of the server: the engine's
// TestMemoizedRouteAnswersAreFreshOnes asks every one, and the codec
// adds only the framing of the answers' stored bytes.
const routeStride = 3

// A route's answers are sent from their stored encodings: the bytes sent
// must be the proto encoding of a fresh engine's route, decode to it, and
// be the size the responses link counts; each route is asked twice, the
// second time from the memo whole.
func TestSentRoutesAreFreshOnes(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	eng, err := server.CurrentEngine(ts.srv)
	if err != nil {
		t.Fatal(err)
	}
	reqs := answertest.Routes(snap)
	asked := 0
	for i := 0; i < len(reqs); i += routeStride {
		req := reqs[i]
		fresh := engineRoute(t, assessment.New(snap), req)
		want, err := proto.Marshal(fresh)
		if err != nil {
			t.Fatal(err)
		}
		for again := range 2 {
			got := wire(t, ts, routeMethod, req)
			if !bytes.Equal(got, want) {
				t.Fatalf("route %d, %v, ask %d: sent %d bytes, a fresh route is %d; they differ", i, req, again+1, len(got), len(want))
			}
			var sent safethirdv1.AssessRouteResponse
			if err := proto.Unmarshal(got, &sent); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&sent, fresh) {
				t.Fatalf("route %d, %v, ask %d: what was sent decodes to another route", i, req, again+1)
			}
		}
		kept := engineRoute(t, eng, req)
		for j, a := range kept.GetAssessments() {
			if _, ok := eng.Encoding(a, "proto", func(a *safethirdv1.Assessment) ([]byte, error) { return proto.Marshal(a) }); !ok {
				t.Fatalf("route %d, %v: answer %d is not memoized, so not sent from stored bytes", i, req, j)
			}
		}
		if n := server.ResponseSize(ts.srv, kept); n != len(want) {
			t.Fatalf("route %d, %v: size counted %d, sent %d", i, req, n, len(want))
		}
		asked++
	}
	t.Logf("%d routes, twice", asked)
}

// restStride thins the requests asked over REST: every combination is
// asked over gRPC above, and the JSON door adds only its encoding.
const restStride = 7

// Over REST too, an answer is byte for byte the JSON of a fresh engine's,
// as vanguard wrote it when it decoded each answer from proto and encoded
// it as JSON; memoized answers now come as their response's JSON, stored.
func TestRESTAnswersAreFreshOnes(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	snap := embedded(t)
	reqs := answertest.Requests(snap)
	for i := 0; i < len(reqs); i += restStride {
		req := reqs[i]
		want, err := protojson.Marshal(&safethirdv1.AssessCountryResponse{Assessment: answer(t, assessment.New(snap), req)})
		if err != nil {
			t.Fatal(err)
		}
		body := proto.Clone(req).(*safethirdv1.AssessCountryRequest)
		body.CountryCode = ""
		b, err := protojson.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		resp, got := hs.do(t, "POST", "/v1/countries/"+req.GetCountryCode()+":assess", b, "Content-Type: application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%v: status %d: %s", req, resp.StatusCode, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("request %d, %v: sent %d bytes of JSON, a fresh answer's is %d; they differ", i, req, len(got), len(want))
		}
	}
	// Routes, whose answers the gRPC door sends from stored bytes, come
	// over REST as the JSON of a fresh engine's route, asked twice.
	routes := answertest.Routes(snap)
	for i := 0; i < len(routes); i += restStride * routeStride {
		req := routes[i]
		want, err := protojson.Marshal(engineRoute(t, assessment.New(snap), req))
		if err != nil {
			t.Fatal(err)
		}
		body, err := protojson.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		for again := range 2 {
			resp, got := hs.do(t, "POST", "/v1/routes:assess", body, "Content-Type: application/json")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%v: status %d: %s", req, resp.StatusCode, got)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("route %d, %v, ask %d: sent %d bytes of JSON, a fresh route's is %d; they differ", i, req, again+1, len(got), len(want))
			}
		}
	}
}

// Over REST, a batch is its items' stored JSON framed as a list: decoded,
// it is a batch of a fresh engine's answers, with the bad item's error
// encoded on its own, asked twice so that the second is all memo.
func TestRESTBatchesAreFreshOnes(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	snap := embedded(t)
	reqs := answertest.Requests(snap)
	for start := 0; start < len(reqs); start += restStride * (assessment.MaxBatchItems - 1) {
		var items []*safethirdv1.AssessCountryRequest
		for i := start; i < len(reqs) && len(items) < assessment.MaxBatchItems-1; i += restStride {
			items = append(items, reqs[i])
		}
		b, err := protojson.Marshal(&safethirdv1.BatchAssessCountriesRequest{Requests: append([]*safethirdv1.AssessCountryRequest{{CountryCode: "ZZ"}}, items...)})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 2 {
			resp, got := hs.do(t, "POST", "/v1/countries:batchAssess", b, "Content-Type: application/json")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("batch %d: status %d: %.300s", start, resp.StatusCode, got)
			}
			var sent safethirdv1.BatchAssessCountriesResponse
			if err := protojson.Unmarshal(got, &sent); err != nil {
				t.Fatalf("batch %d, round %d: the JSON sent does not decode: %v", start, round, err)
			}
			if len(sent.GetResults()) != len(items)+1 || sent.GetResults()[0].GetStatus().GetCode() == 0 {
				t.Fatalf("batch %d, round %d: %d results, the first %v; want %d, the first an error", start, round, len(sent.GetResults()), sent.GetResults()[0], len(items)+1)
			}
			want := &safethirdv1.BatchAssessCountriesResponse{Results: []*safethirdv1.BatchAssessResult{sent.GetResults()[0]}}
			for _, req := range items {
				want.Results = append(want.Results, &safethirdv1.BatchAssessResult{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: answer(t, assessment.New(snap), req)}})
			}
			if !proto.Equal(&sent, want) {
				t.Fatalf("batch %d, round %d: the answers sent are not a fresh engine's", start, round)
			}
		}
	}
}
