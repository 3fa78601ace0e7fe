package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

func TestGetCountry(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	for _, give := range []string{"MX", "mx", "Ca"} {
		got, err := ts.catalog.GetCountry(context.Background(), &safethirdv1.GetCountryRequest{CountryCode: give})
		if err != nil {
			t.Fatalf("GetCountry(%q): %v", give, err)
		}
		c, ok := snap.Country(strings.ToUpper(give))
		if !ok {
			t.Fatalf("the embedded dataset lacks %s", give)
		}
		if diff := cmp.Diff(&safethirdv1.GetCountryResponse{Country: c}, got, protocmp.Transform()); diff != "" {
			t.Errorf("GetCountry(%q) (-want +got):\n%s", give, diff)
		}
	}
}

func TestCatalogGetErrors(t *testing.T) {
	ts := startServer(t, serverConfig())
	ctx := context.Background()
	tests := []struct {
		name       string
		call       func() error
		wantCode   codes.Code
		wantReason string
		wantFields []string
	}{
		{"country bad shape", func() error {
			_, err := ts.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{CountryCode: "MEX"})
			return err
		}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		{"country in letters that upper-case to ASCII", func() error {
			_, err := ts.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{CountryCode: "ſv"})
			return err
		}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		{"country missing", func() error {
			_, err := ts.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{})
			return err
		}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		{"country unknown", func() error {
			_, err := ts.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{CountryCode: "xx"})
			return err
		}, codes.NotFound, "ERROR_REASON_COUNTRY_NOT_FOUND", nil},
		{"agreement unknown", func() error {
			_, err := ts.catalog.GetAgreement(ctx, &safethirdv1.GetAgreementRequest{AgreementId: "xx-none"})
			return err
		}, codes.NotFound, "ERROR_REASON_AGREEMENT_NOT_FOUND", nil},
		{"agreement missing", func() error {
			_, err := ts.catalog.GetAgreement(ctx, &safethirdv1.GetAgreementRequest{})
			return err
		}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"agreement_id"}},
		{"framework unknown", func() error {
			_, err := ts.catalog.GetFramework(ctx, &safethirdv1.GetFrameworkRequest{FrameworkId: "xx-none"})
			return err
		}, codes.NotFound, "ERROR_REASON_FRAMEWORK_NOT_FOUND", nil},
		{"framework missing", func() error {
			_, err := ts.catalog.GetFramework(ctx, &safethirdv1.GetFrameworkRequest{})
			return err
		}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"framework_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := wantStatus(t, tt.call(), tt.wantCode, tt.wantReason)
			if diff := cmp.Diff(tt.wantFields, violationFields(st)); diff != "" {
				t.Errorf("field violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetAgreementAndFramework(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	for _, id := range []string{"ca-us-stca", "us-gt-aca"} {
		got, err := ts.catalog.GetAgreement(context.Background(), &safethirdv1.GetAgreementRequest{AgreementId: id})
		if err != nil {
			t.Fatalf("GetAgreement(%q): %v", id, err)
		}
		a, _ := snap.Agreement(id)
		if diff := cmp.Diff(&safethirdv1.GetAgreementResponse{Agreement: a}, got, protocmp.Transform()); diff != "" {
			t.Errorf("GetAgreement(%q) (-want +got):\n%s", id, diff)
		}
	}
	for _, id := range []string{"us-ina-208a2a", "ca-irpa-102"} {
		got, err := ts.catalog.GetFramework(context.Background(), &safethirdv1.GetFrameworkRequest{FrameworkId: id})
		if err != nil {
			t.Fatalf("GetFramework(%q): %v", id, err)
		}
		f, _ := snap.Framework(id)
		if diff := cmp.Diff(&safethirdv1.GetFrameworkResponse{Framework: f}, got, protocmp.Transform()); diff != "" {
			t.Errorf("GetFramework(%q) (-want +got):\n%s", id, diff)
		}
	}
}

// listCountries pages through ListCountries and returns every country and
// the number of pages.
func listCountries(t *testing.T, ts *testServer, size int32, curated bool) ([]*safethirdv1.Country, int) {
	t.Helper()
	var all []*safethirdv1.Country
	token, pages := "", 0
	for {
		resp, err := ts.catalog.ListCountries(context.Background(), &safethirdv1.ListCountriesRequest{PageSize: size, PageToken: token, CuratedOnly: curated})
		if err != nil {
			t.Fatalf("ListCountries page %d: %v", pages+1, err)
		}
		pages++
		all = append(all, resp.GetCountries()...)
		if token = resp.GetNextPageToken(); token == "" {
			return all, pages
		}
		if len(resp.GetCountries()) == 0 {
			t.Fatalf("page %d is empty but has a next_page_token", pages)
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

func TestListCountries(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	all := snap.Countries()
	var curated []*safethirdv1.Country
	for _, c := range all {
		if c.GetCurated() {
			curated = append(curated, c)
		}
	}
	if len(curated) == 0 {
		t.Fatal("the embedded dataset has no curated country")
	}
	tests := []struct {
		name      string
		size      int32
		curated   bool
		want      []*safethirdv1.Country
		wantPages int
	}{
		{"default size is 100", 0, false, all, (len(all) + 99) / 100},
		{"size above 1000 is 1000", 5000, false, all, 1},
		{"small pages", 7, false, all, (len(all) + 6) / 7},
		{"curated only", 0, true, curated, 1},
		{"curated, last page exactly full", int32(len(curated)), true, curated, 1},
		{"curated, one a page", 1, true, curated, len(curated)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := listCountries(t, ts, tt.size, tt.curated)
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("countries (-want +got):\n%s", diff)
			}
			if pages != tt.wantPages {
				t.Errorf("%d pages, want %d", pages, tt.wantPages)
			}
		})
	}
}

func TestListAgreementsAndFrameworks(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	ctx := context.Background()

	var agreements []*safethirdv1.Agreement
	for token, n := "", 0; ; n++ {
		resp, err := ts.catalog.ListAgreements(ctx, &safethirdv1.ListAgreementsRequest{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatalf("ListAgreements: %v", err)
		}
		agreements = append(agreements, resp.GetAgreements()...)
		if token = resp.GetNextPageToken(); token == "" || n > 100 {
			break
		}
	}
	var wantAgreements []*safethirdv1.Agreement
	for _, id := range snap.AgreementIDs() {
		a, _ := snap.Agreement(id)
		wantAgreements = append(wantAgreements, a)
	}
	if diff := cmp.Diff(wantAgreements, agreements, protocmp.Transform()); diff != "" {
		t.Errorf("agreements (-want +got):\n%s", diff)
	}

	resp, err := ts.catalog.ListFrameworks(ctx, &safethirdv1.ListFrameworksRequest{})
	if err != nil {
		t.Fatalf("ListFrameworks: %v", err)
	}
	want := &safethirdv1.ListFrameworksResponse{}
	for _, id := range snap.FrameworkIDs() {
		f, _ := snap.Framework(id)
		want.Frameworks = append(want.Frameworks, f)
	}
	if diff := cmp.Diff(want, resp, protocmp.Transform()); diff != "" {
		t.Errorf("ListFrameworks (-want +got):\n%s", diff)
	}
}

func TestListErrors(t *testing.T) {
	ts := startServer(t, serverConfig())
	ctx := context.Background()
	first, err := ts.catalog.ListCountries(ctx, &safethirdv1.ListCountriesRequest{PageSize: 2})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("ListCountries: %v, next_page_token %q", err, first.GetNextPageToken())
	}
	token := first.GetNextPageToken()
	tests := []struct {
		name       string
		call       func() error
		wantReason string
		wantField  string
	}{
		{"negative page size", func() error {
			_, err := ts.catalog.ListCountries(ctx, &safethirdv1.ListCountriesRequest{PageSize: -1})
			return err
		}, "ERROR_REASON_INVALID_ARGUMENT", "page_size"},
		{"garbage token", func() error {
			_, err := ts.catalog.ListCountries(ctx, &safethirdv1.ListCountriesRequest{PageToken: "not a token"})
			return err
		}, "ERROR_REASON_INVALID_PAGE_TOKEN", "page_token"},
		{"token of another method", func() error {
			_, err := ts.catalog.ListAgreements(ctx, &safethirdv1.ListAgreementsRequest{PageToken: token})
			return err
		}, "ERROR_REASON_INVALID_PAGE_TOKEN", "page_token"},
		{"token of other filters", func() error {
			_, err := ts.catalog.ListCountries(ctx, &safethirdv1.ListCountriesRequest{PageToken: token, CuratedOnly: true})
			return err
		}, "ERROR_REASON_INVALID_PAGE_TOKEN", "page_token"},
		{"frameworks negative page size", func() error {
			_, err := ts.catalog.ListFrameworks(ctx, &safethirdv1.ListFrameworksRequest{PageSize: -5})
			return err
		}, "ERROR_REASON_INVALID_ARGUMENT", "page_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := wantStatus(t, tt.call(), codes.InvalidArgument, tt.wantReason)
			if diff := cmp.Diff([]string{tt.wantField}, violationFields(st)); diff != "" {
				t.Errorf("field violations (-want +got):\n%s", diff)
			}
		})
	}
}

// A request that breaks a rule declared in the protos (GetCountryRequest's
// country_code) is refused by the validate link with the same
// google.rpc.Status over gRPC and REST: INVALID_ARGUMENT, ErrorInfo, one
// BadRequest field violation per rule broken, and never the value sent.
func TestValidateLink(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	const (
		required = "value is required"
		alpha2   = "must be an ISO 3166-1 alpha-2 code: two letters, such as MX"
	)
	tests := []struct {
		name, give, wantRule string
	}{
		{"nine letters", "MEXSECRET", alpha2},
		{"a digit", "M1", alpha2},
		{"letters that upper-case to ASCII", "ſv", alpha2},
		{"empty", "", required},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "country_code", Description: tt.wantRule}}}
			_, err := hs.catalog.GetCountry(context.Background(), &safethirdv1.GetCountryRequest{CountryCode: tt.give})
			st := wantStatus(t, err, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT")
			checkRuleStatus(t, "gRPC", st, tt.give, want)
			if tt.give == "" {
				return // no REST path has an empty segment
			}
			resp, b := hs.do(t, "GET", "/v1/countries/"+url.PathEscape(tt.give), nil)
			if resp.StatusCode != 400 {
				t.Fatalf("REST: HTTP %d, want 400: %s", resp.StatusCode, b)
			}
			rest := restStatus(t, resp, b)
			checkRuleStatus(t, "REST", rest, tt.give, want)
			if diff := cmp.Diff(st.Proto(), rest.Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("REST and gRPC statuses differ (-gRPC +REST):\n%s", diff)
			}
		})
	}
	// A request that keeps the rules reaches the handler.
	if _, err := hs.catalog.GetCountry(context.Background(), &safethirdv1.GetCountryRequest{CountryCode: "mx"}); err != nil {
		t.Errorf("GetCountry(mx): %v", err)
	}
}

// checkRuleStatus checks the message and field violations of a status
// refused by the rules, and that it does not repeat the value sent.
func checkRuleStatus(t *testing.T, door string, st *status.Status, sent string, want *errdetails.BadRequest) {
	t.Helper()
	var got *errdetails.BadRequest
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			got = br
		}
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("%s: BadRequest (-want +got):\n%s", door, diff)
	}
	v := want.GetFieldViolations()[0]
	if msg := "invalid request: " + v.GetField() + ": " + v.GetDescription(); st.Message() != msg {
		t.Errorf("%s: message %q, want %q", door, st.Message(), msg)
	}
	if b, _ := proto.Marshal(st.Proto()); sent != "" && strings.Contains(string(b), sent) {
		t.Errorf("%s: the status repeats the value sent, %q", door, sent)
	}
}
