package client_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// dial returns a client for addr, closed when the test ends.
func dial(t *testing.T, target string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(t.Context(), target, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", target, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestHelpers(t *testing.T) {
	f := &fake{}
	c := dial(t, serve(t, f))
	ctx := t.Context()

	a, err := c.AssessCountry(ctx, mexico())
	if err != nil || a.GetDetermination() != pb.Determination_DETERMINATION_DOES_NOT_QUALIFY {
		t.Errorf("AssessCountry = %v, %v; want DOES_NOT_QUALIFY", a.GetDetermination(), err)
	}
	results, err := c.BatchAssessCountries(ctx, []*pb.AssessCountryRequest{{CountryCode: "MX"}, {CountryCode: "CA"}})
	if err != nil || len(results) != 2 || results[1].GetAssessment().GetCountryCode() != "CA" {
		t.Errorf("BatchAssessCountries = %v, %v; want MX then CA", results, err)
	}
	route, err := c.AssessRoute(ctx, &pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "CA"}}})
	if err != nil || route.GetOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY {
		t.Errorf("AssessRoute = %v, %v", route.GetOutcome(), err)
	}
	country, err := c.GetCountry(ctx, "MX")
	if err != nil || country.GetName() != "Mexico" {
		t.Errorf("GetCountry = %v, %v", country, err)
	}
	frameworks, err := c.ListFrameworks(ctx, nil)
	if err != nil || len(frameworks) != 1 {
		t.Errorf("ListFrameworks = %v, %v", frameworks, err)
	}
	agreements, err := c.ListAgreements(ctx, nil)
	if err != nil || len(agreements) != 1 {
		t.Errorf("ListAgreements = %v, %v", agreements, err)
	}
	// The generated clients stay reachable for everything else.
	if _, err := c.Catalog().GetCountry(ctx, &pb.GetCountryRequest{CountryCode: "MX"}); err != nil {
		t.Errorf("Catalog().GetCountry: %v", err)
	}
	if _, err := c.Assessment().AssessCountry(ctx, mexico()); err != nil {
		t.Errorf("Assessment().AssessCountry: %v", err)
	}
}

func TestListCountriesPagesThroughAll(t *testing.T) {
	f := &fake{}
	c := dial(t, serve(t, f))

	req := &pb.ListCountriesRequest{PageSize: 2}
	got, err := c.ListCountries(t.Context(), req)
	if err != nil {
		t.Fatalf("ListCountries: %v", err)
	}
	var codes []string
	for _, country := range got {
		codes = append(codes, country.GetCode())
	}
	if diff := cmp.Diff(countryCodes, codes); diff != "" {
		t.Errorf("ListCountries codes (-want +got):\n%s", diff)
	}
	if calls, _, _ := f.stats(); calls != 3 {
		t.Errorf("ListCountries made %d calls, want 3 pages", calls)
	}
	if req.GetPageToken() != "" {
		t.Errorf("ListCountries wrote page token %q into the caller's request", req.GetPageToken())
	}

	if _, err := c.ListCountries(t.Context(), &pb.ListCountriesRequest{PageToken: "loop"}); err == nil {
		t.Error("ListCountries with a server that repeats its token: want an error, got none")
	}
}

func TestRetriesUnavailable(t *testing.T) {
	tests := []struct {
		name        string
		give        codes.Code
		maxAttempts int
		wantCalls   int
		wantCode    codes.Code
	}{
		{name: "unavailable is retried", give: codes.Unavailable, maxAttempts: 4, wantCalls: 3, wantCode: codes.OK},
		{name: "retries stop at max attempts", give: codes.Unavailable, maxAttempts: 2, wantCalls: 2, wantCode: codes.Unavailable},
		{name: "one attempt turns retries off", give: codes.Unavailable, maxAttempts: 1, wantCalls: 1, wantCode: codes.Unavailable},
		{name: "other codes are not retried", give: codes.Internal, maxAttempts: 4, wantCalls: 1, wantCode: codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{failFirst: 2, failCode: tt.give}
			c := dial(t, serve(t, f), client.WithMaxAttempts(tt.maxAttempts))
			_, err := c.AssessCountry(t.Context(), mexico())
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("code = %v, want %v (err %v)", got, tt.wantCode, err)
			}
			if calls, _, _ := f.stats(); calls != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// Regression: gRPC does not retry a call once response headers have
// arrived, so a call on a replica killed between its headers and its
// message failed UNAVAILABLE although every method is safe to retry. Found
// by test/reliability's TestReplicaLoss.
func TestRetriesUnavailableAfterHeaders(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		wantCalls   int
		wantCode    codes.Code
	}{
		{name: "retried", maxAttempts: 4, wantCalls: 3, wantCode: codes.OK},
		{name: "retries stop at max attempts", maxAttempts: 2, wantCalls: 2, wantCode: codes.Unavailable},
		{name: "one attempt turns retries off", maxAttempts: 1, wantCalls: 1, wantCode: codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{failFirst: 2, failCode: codes.Unavailable, headersFirst: true}
			c := dial(t, serve(t, f), client.WithMaxAttempts(tt.maxAttempts))
			_, err := c.AssessCountry(t.Context(), mexico())
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("code = %v, want %v (err %v)", got, tt.wantCode, err)
			}
			if calls, _, _ := f.stats(); calls != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestDefaultDeadline(t *testing.T) {
	f := &fake{}
	addr := serve(t, f)

	c := dial(t, addr, client.WithTimeout(5*time.Second))
	if _, err := c.AssessCountry(context.Background(), mexico()); err != nil {
		t.Fatal(err)
	}
	if _, _, left := f.stats(); left <= 0 || left > 5*time.Second {
		t.Errorf("call without a deadline reached the server with %v left, want (0, 5s]", left)
	}

	// A caller's own deadline wins, even a longer one.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.AssessCountry(ctx, mexico()); err != nil {
		t.Fatal(err)
	}
	if _, _, left := f.stats(); left <= 5*time.Second {
		t.Errorf("call with a 1m deadline reached the server with %v left, want more than 5s", left)
	}

	none := dial(t, addr, client.WithTimeout(0))
	if _, err := none.AssessCountry(context.Background(), mexico()); err != nil {
		t.Fatal(err)
	}
	if _, _, left := f.stats(); left != 0 {
		t.Errorf("WithTimeout(0): call reached the server with a deadline (%v left)", left)
	}
}

func TestToken(t *testing.T) {
	f := &fake{}
	c := dial(t, serve(t, f), client.WithToken("s3cret"))
	if _, err := c.AssessCountry(t.Context(), mexico()); err != nil {
		t.Fatal(err)
	}
	if _, auth, _ := f.stats(); !cmp.Equal(auth, []string{"Bearer s3cret"}) {
		t.Errorf("authorization metadata = %q, want [Bearer s3cret]", auth)
	}
}

func TestTokenNeverOverPlaintextToRemote(t *testing.T) {
	tests := []struct {
		give    string
		opts    []client.Option
		wantErr bool
	}{
		{give: "127.0.0.1:50051"},
		{give: "localhost:50051"},
		{give: "[::1]:50051"},
		{give: "dns:///localhost:50051"},
		{give: "127.0.0.1:1,127.0.0.2:2"},
		{give: "unix:///run/safethird.sock"},
		{give: "safethird.example:50051", wantErr: true},
		{give: "10.0.0.7:50051", wantErr: true},
		{give: "dns:///safethird.example:50051", wantErr: true},
		{give: "127.0.0.1:1,10.0.0.7:2", wantErr: true},
		{give: "safethird.example:443", opts: []client.Option{client.WithTLS("")}},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			c, err := client.New(t.Context(), tt.give, append(tt.opts, client.WithToken("s3cret"))...)
			if err == nil {
				c.Close()
			}
			if got := errors.Is(err, client.ErrTokenOverPlaintext); got != tt.wantErr {
				t.Errorf("New(%q) = %v; want ErrTokenOverPlaintext: %v", tt.give, err, tt.wantErr)
			}
		})
	}
}

func TestNewRejectsBadTargets(t *testing.T) {
	for _, give := range []string{"", "  ", "127.0.0.1:1,", "a,b", "dns:///"} {
		t.Run(give, func(t *testing.T) {
			c, err := client.New(t.Context(), give)
			if err == nil {
				c.Close()
				t.Errorf("New(%q): want an error, got none", give)
			}
		})
	}
}

func TestRoundRobinOverList(t *testing.T) {
	a, b := &fake{name: "a"}, &fake{name: "b"}
	c := dial(t, serve(t, a)+","+serve(t, b), client.WithBlock())
	// round_robin picks among the connections that are ready, and the
	// second may still be connecting when the first is: keep calling,
	// within a bound, until both have answered.
	seen := map[string]int{}
	deadline := time.Now().Add(5 * time.Second)
	for (seen["a"] == 0 || seen["b"] == 0) && time.Now().Before(deadline) {
		got, err := c.AssessCountry(t.Context(), mexico())
		if err != nil {
			t.Fatal(err)
		}
		seen[got.GetSummary()]++
		time.Sleep(10 * time.Millisecond)
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("calls per server = %v, want both servers used", seen)
	}
}

// closedPort is a free loopback address with nothing listening, until a
// test listens there.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

func TestWaitForReadyWaitsForTheServer(t *testing.T) {
	addr := closedPort(t)

	failFast := dial(t, addr, client.WithMaxAttempts(1))
	if _, err := failFast.AssessCountry(t.Context(), mexico()); status.Code(err) != codes.Unavailable {
		t.Fatalf("without WithWaitForReady, a call with no server: %v, want UNAVAILABLE at once", err)
	}

	waiting := dial(t, addr, client.WithWaitForReady(), client.WithTimeout(10*time.Second))
	if err := callBeforeTheServerStarts(t, waiting, addr); err != nil {
		t.Errorf("with WithWaitForReady, a call made before the server started: %v", err)
	}
}

// callBeforeTheServerStarts makes a call with c, starts a server at addr
// 200 ms later, and returns the call's error.
func callBeforeTheServerStarts(t *testing.T, c *client.Client, addr string) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := c.AssessCountry(context.Background(), mexico())
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		<-errc
		t.Skipf("port %s was taken in the meantime: %v", addr, err)
	}
	serveOn(t, lis, &fake{})
	return <-errc
}

// WithStartupWait rides over a server that starts during the wait, and
// past it fails with the refused connection (UNAVAILABLE, which NoServer
// reads), not with the call's deadline as WithWaitForReady would.
func TestStartupWaitWaitsForAStartingServerOnly(t *testing.T) {
	addr := closedPort(t)
	nobody := dial(t, addr, client.WithStartupWait(200*time.Millisecond), client.WithTimeout(time.Minute))
	_, err := nobody.AssessCountry(t.Context(), mexico())
	if status.Code(err) != codes.Unavailable || !client.NoServer(err) {
		t.Fatalf("no server at %s: %v, want UNAVAILABLE that NoServer reads as a refused connection", addr, err)
	}

	starting := dial(t, addr, client.WithStartupWait(time.Minute), client.WithTimeout(time.Minute))
	if err := callBeforeTheServerStarts(t, starting, addr); err != nil {
		t.Errorf("a call made while the server started: %v", err)
	}
	if client.NoServer(status.Error(codes.Unavailable, "dataset not loaded")) {
		t.Error("NoServer reads an UNAVAILABLE from the server as no server")
	}
}

// A server that has just started answers UNAVAILABLE while its dataset
// loads: WithStartupWait tries again until the load is done, well past the
// retry policy's attempts, which alone give up.
func TestStartupWaitWaitsForTheDatasetToLoad(t *testing.T) {
	loading := func() *fake {
		return &fake{failFirst: 8, failCode: codes.Unavailable, failReason: pb.ErrorReason_ERROR_REASON_DATASET_NOT_LOADED}
	}
	f := loading()
	c := dial(t, serve(t, f), client.WithStartupWait(time.Second), client.WithTimeout(time.Minute))
	if _, err := c.AssessCountry(t.Context(), mexico()); err != nil {
		t.Fatalf("a call while the dataset loads: %v", err)
	}
	if calls, _, _ := f.stats(); calls != 9 {
		t.Errorf("calls = %d, want the 8 refused and the one answered", calls)
	}
	plain := dial(t, serve(t, loading()), client.WithTimeout(time.Minute))
	if _, err := plain.AssessCountry(t.Context(), mexico()); status.Code(err) != codes.Unavailable {
		t.Errorf("without WithStartupWait: %v, want UNAVAILABLE once the retry policy gives up", err)
	}
}

func TestBlockFailsWhenNothingListens(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	// Port 1 on loopback has nothing listening.
	c, err := client.New(ctx, "127.0.0.1:1", client.WithBlock())
	if err == nil {
		c.Close()
		t.Fatal("New with nothing listening: want an error, got none")
	}
}

func TestDetails(t *testing.T) {
	c := dial(t, serve(t, &fake{}))
	_, err := c.AssessCountry(t.Context(), &pb.AssessCountryRequest{CountryCode: "ZZ"})
	got := client.Details(err)
	want := client.ErrorDetails{
		Code:    codes.InvalidArgument,
		Message: "invalid request",
		Reason:  "ERROR_REASON_INVALID_ARGUMENT",
		Domain:  "safethird.v1",
		FieldViolations: []client.FieldViolation{{
			Field: "country_code", Description: `"ZZ" is not an assigned ISO 3166-1 alpha-2 code`}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Details (-want +got):\n%s", diff)
	}
	if got.ErrorReason() != pb.ErrorReason_ERROR_REASON_INVALID_ARGUMENT {
		t.Errorf("ErrorReason() = %v", got.ErrorReason())
	}

	plain := client.Details(errors.New("boom"))
	if plain.Code != codes.Unknown || plain.Reason != "" || plain.ErrorReason() != pb.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Errorf("Details(plain error) = %+v", plain)
	}
}

func TestItemDetails(t *testing.T) {
	got := client.ItemDetails(&pb.BatchItemError{
		Code:            int32(codes.InvalidArgument),
		Message:         "invalid request",
		Reason:          "ERROR_REASON_INVALID_ARGUMENT",
		FieldViolations: []*pb.FieldViolation{{Field: "country_code", Description: "is required"}},
	})
	want := client.ErrorDetails{
		Code:            codes.InvalidArgument,
		Message:         "invalid request",
		Reason:          "ERROR_REASON_INVALID_ARGUMENT",
		Domain:          "safethird.v1",
		FieldViolations: []client.FieldViolation{{Field: "country_code", Description: "is required"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ItemDetails (-want +got):\n%s", diff)
	}
}
