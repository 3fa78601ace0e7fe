package client_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// fake is a stand-in safethird server that records what it was sent. The
// client's behaviour (retries, deadlines, paging, credentials) is what
// these tests check, so a fake is enough; the CLI tests drive the real one.
type fake struct {
	pb.UnimplementedAssessmentServiceServer
	pb.UnimplementedCatalogServiceServer

	name string
	// failFirst is how many AssessCountry calls fail with failCode first.
	failFirst int
	failCode  codes.Code
	// headersFirst makes those failures send response headers first, as
	// a replica that dies between its headers and its message does.
	headersFirst bool
	// failReason, when set, is the ErrorInfo reason of those failures.
	failReason pb.ErrorReason

	mu       sync.Mutex
	calls    int
	auth     []string
	deadline time.Duration // time left on the last call's deadline; 0: none
}

func (f *fake) record(ctx context.Context) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	md, _ := metadata.FromIncomingContext(ctx)
	f.auth = append(f.auth, md.Get("authorization")...)
	f.deadline = 0
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	return f.calls
}

func (f *fake) stats() (calls int, auth []string, deadline time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, append([]string(nil), f.auth...), f.deadline
}

func (f *fake) AssessCountry(ctx context.Context, req *pb.AssessCountryRequest) (*pb.AssessCountryResponse, error) {
	if n := f.record(ctx); n <= f.failFirst {
		if f.headersFirst {
			_ = grpc.SendHeader(ctx, metadata.Pairs("x-request-id", "failing"))
		}
		if f.failReason != pb.ErrorReason_ERROR_REASON_UNSPECIFIED {
			st, err := status.New(f.failCode, "try again").WithDetails(
				&errdetails.ErrorInfo{Reason: f.failReason.String(), Domain: "safethird.v1"})
			if err != nil {
				return nil, err
			}
			return nil, st.Err()
		}
		return nil, status.Error(f.failCode, "try again")
	}
	if req.GetCountryCode() == "ZZ" {
		return nil, invalidCountry()
	}
	return &pb.AssessCountryResponse{Assessment: &pb.Assessment{
		CountryCode:   req.GetCountryCode(),
		Determination: pb.Determination_DETERMINATION_DOES_NOT_QUALIFY,
		Summary:       f.name,
	}}, nil
}

func (f *fake) BatchAssessCountries(ctx context.Context, req *pb.BatchAssessCountriesRequest) (*pb.BatchAssessCountriesResponse, error) {
	f.record(ctx)
	resp := &pb.BatchAssessCountriesResponse{}
	for _, r := range req.GetRequests() {
		resp.Results = append(resp.Results, &pb.BatchAssessResult{Result: &pb.BatchAssessResult_Assessment{
			Assessment: &pb.Assessment{CountryCode: r.GetCountryCode()}}})
	}
	return resp, nil
}

func (f *fake) AssessRoute(ctx context.Context, req *pb.AssessRouteRequest) (*pb.AssessRouteResponse, error) {
	f.record(ctx)
	return &pb.AssessRouteResponse{Outcome: pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY}, nil
}

func (f *fake) GetCountry(ctx context.Context, req *pb.GetCountryRequest) (*pb.GetCountryResponse, error) {
	f.record(ctx)
	return &pb.GetCountryResponse{Country: &pb.Country{Code: req.GetCountryCode(), Name: "Mexico"}}, nil
}

// countryCodes is what ListCountries pages through, two at a time.
var countryCodes = []string{"CA", "GT", "HN", "MX", "SV"}

func (f *fake) ListCountries(ctx context.Context, req *pb.ListCountriesRequest) (*pb.ListCountriesResponse, error) {
	f.record(ctx)
	if req.GetPageToken() == "loop" {
		return &pb.ListCountriesResponse{NextPageToken: "loop"}, nil
	}
	start := 0
	if req.GetPageToken() != "" {
		for i, c := range countryCodes {
			if c == req.GetPageToken() {
				start = i
			}
		}
	}
	resp := &pb.ListCountriesResponse{}
	end := min(start+2, len(countryCodes))
	for _, c := range countryCodes[start:end] {
		resp.Countries = append(resp.Countries, &pb.Country{Code: c})
	}
	if end < len(countryCodes) {
		resp.NextPageToken = countryCodes[end]
	}
	return resp, nil
}

func (f *fake) ListFrameworks(ctx context.Context, _ *pb.ListFrameworksRequest) (*pb.ListFrameworksResponse, error) {
	f.record(ctx)
	return &pb.ListFrameworksResponse{Frameworks: []*pb.Framework{{Id: "us-ina-208a2a"}}}, nil
}

func (f *fake) ListAgreements(ctx context.Context, _ *pb.ListAgreementsRequest) (*pb.ListAgreementsResponse, error) {
	f.record(ctx)
	return &pb.ListAgreementsResponse{Agreements: []*pb.Agreement{{Id: "ca-us-stca"}}}, nil
}

// invalidCountry is an error shaped as the service shapes them.
func invalidCountry() error {
	st, err := status.New(codes.InvalidArgument, "invalid request").WithDetails(
		&errdetails.ErrorInfo{Reason: "ERROR_REASON_INVALID_ARGUMENT", Domain: "safethird.v1"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field: "country_code", Description: `"ZZ" is not an assigned ISO 3166-1 alpha-2 code`}}},
	)
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// serve starts f on a loopback port and returns its address; it stops
// when the test ends.
func serve(t *testing.T, f *fake, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return serveOn(t, lis, f, opts...)
}

// serveOn is serve on a listener the test made.
func serveOn(t *testing.T, lis net.Listener, f *fake, opts ...grpc.ServerOption) string {
	t.Helper()
	s := grpc.NewServer(opts...)
	pb.RegisterAssessmentServiceServer(s, f)
	pb.RegisterCatalogServiceServer(s, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return lis.Addr().String()
}

// mexico is the request most tests send.
func mexico() *pb.AssessCountryRequest {
	return &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}
}
