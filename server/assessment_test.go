package server_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/assessment"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// The server is an adapter: over the wire it must answer exactly what the
// engine answers on the same Snapshot and date.
func TestAssessCountry(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	tests := []struct {
		name string
		give *safethirdv1.AssessCountryRequest
		// wantDetermination is checked on top of the engine's answer, as
		// the facts the sources establish.
		wantDetermination safethirdv1.Determination
	}{
		{
			name:              "MX before any agreement does not qualify",
			give:              &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"},
			wantDetermination: safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY,
		},
		{
			name: "CA on the default framework",
			give: &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2010-01-01"},
		},
		{
			name: "lower case code, basic view, with an applicant",
			give: &safethirdv1.AssessCountryRequest{CountryCode: "gt", AsOf: "2020-01-10", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC,
				Applicant: &safethirdv1.Applicant{NationalityCode: ptr("HN"), Age: ptr[int32](30)}},
		},
		{
			name: "as_of defaults to today in UTC",
			give: &safethirdv1.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ts.assess.AssessCountry(context.Background(), tt.give)
			if err != nil {
				t.Fatalf("AssessCountry: %v", err)
			}
			want, err := assessment.New(snap).AssessCountry(tt.give, today)
			if err != nil {
				t.Fatalf("engine: %v", err)
			}
			if diff := cmp.Diff(&safethirdv1.AssessCountryResponse{Assessment: want}, got, protocmp.Transform()); diff != "" {
				t.Errorf("AssessCountry (-want +got):\n%s", diff)
			}
			a := got.GetAssessment()
			if a.GetDatasetRevision() != snap.Revision() {
				t.Errorf("dataset_revision = %q, want %q", a.GetDatasetRevision(), snap.Revision())
			}
			if len(a.GetCriteria()) == 0 {
				t.Errorf("no criteria")
			}
			if tt.wantDetermination != 0 && a.GetDetermination() != tt.wantDetermination {
				t.Errorf("determination = %s, want %s", a.GetDetermination(), tt.wantDetermination)
			}
			if tt.give.GetAsOf() == "" && a.GetAsOf() != today {
				t.Errorf("as_of = %q, want today %q", a.GetAsOf(), today)
			}
		})
	}
}

func TestAssessCountryErrors(t *testing.T) {
	ts := startServer(t, serverConfig())
	tests := []struct {
		name       string
		give       *safethirdv1.AssessCountryRequest
		wantCode   codes.Code
		wantReason string
		wantFields []string
	}{
		{"bad country code", &safethirdv1.AssessCountryRequest{CountryCode: "M1"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		{"missing country code", &safethirdv1.AssessCountryRequest{}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		// Regression: Unicode case mapping made "ſv" SV and "ıd" ID.
		{"long s", &safethirdv1.AssessCountryRequest{CountryCode: "ſv"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		{"dotless i", &safethirdv1.AssessCountryRequest{CountryCode: "ıd"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"country_code"}},
		{"bad date and age", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-02-30", Applicant: &safethirdv1.Applicant{Age: ptr[int32](-1)}},
			codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", []string{"as_of", "applicant.age"}},
		{"unknown framework", &safethirdv1.AssessCountryRequest{CountryCode: "MX", FrameworkId: "xx-none"}, codes.NotFound, "ERROR_REASON_FRAMEWORK_NOT_FOUND", nil},
		{"unknown revision", &safethirdv1.AssessCountryRequest{CountryCode: "MX", DatasetRevision: "sha256:" + zeros64}, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.assess.AssessCountry(context.Background(), tt.give)
			st := wantStatus(t, err, tt.wantCode, tt.wantReason)
			if diff := cmp.Diff(tt.wantFields, violationFields(st)); diff != "" {
				t.Errorf("field violations (-want +got):\n%s", diff)
			}
		})
	}
}

// An unknown revision names the one served, in the message and metadata.
func TestUnknownRevisionNamesCurrent(t *testing.T) {
	ts := startServer(t, serverConfig())
	rev := embedded(t).Revision()
	_, err := ts.assess.AssessCountry(context.Background(), &safethirdv1.AssessCountryRequest{CountryCode: "MX", DatasetRevision: "sha256:" + zeros64})
	st := wantStatus(t, err, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH")
	if got := errorInfo(st).GetMetadata()["current_revision"]; got != rev {
		t.Errorf("metadata current_revision = %q, want %q", got, rev)
	}
	if !contains(st.Message(), rev) {
		t.Errorf("message %q does not name the current revision", st.Message())
	}
}

// Error messages never repeat an applicant's facts.
func TestErrorsDoNotEchoApplicantFacts(t *testing.T) {
	ts := startServer(t, serverConfig())
	_, err := ts.assess.AssessCountry(context.Background(), &safethirdv1.AssessCountryRequest{
		CountryCode: "MX",
		Applicant:   &safethirdv1.Applicant{NationalityCode: ptr("Zq"), Age: ptr[int32](987)},
	})
	st := wantStatus(t, err, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT")
	for _, fact := range []string{"Zq", "ZQ", "987"} {
		if contains(st.Message(), fact) {
			t.Errorf("message %q repeats the applicant fact %q", st.Message(), fact)
		}
	}
	// The field rules' violations first, then the dataset's.
	if diff := cmp.Diff([]string{"applicant.age", "applicant.nationality_code"}, violationFields(st)); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
}

func TestBatchAssessCountries(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	ok1 := &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}
	ok2 := &safethirdv1.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-10", DatasetRevision: snap.Revision()}
	req := &safethirdv1.BatchAssessCountriesRequest{Requests: []*safethirdv1.AssessCountryRequest{
		ok1,
		{CountryCode: "M1"},
		{CountryCode: "CA", FrameworkId: "xx-none"},
		{CountryCode: "MX", DatasetRevision: "sha256:" + zeros64},
		ok2,
	}}
	got, err := ts.assess.BatchAssessCountries(context.Background(), req)
	if err != nil {
		t.Fatalf("BatchAssessCountries: %v", err)
	}
	a1, _ := assessment.New(snap).AssessCountry(ok1, today)
	a2, _ := assessment.New(snap).AssessCountry(ok2, today)
	want := &safethirdv1.BatchAssessCountriesResponse{Results: []*safethirdv1.BatchAssessResult{
		{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: a1}},
		{Result: &safethirdv1.BatchAssessResult_Error{Error: &safethirdv1.BatchItemError{
			Code: int32(codes.InvalidArgument), Reason: "ERROR_REASON_INVALID_ARGUMENT",
			FieldViolations: []*safethirdv1.FieldViolation{{Field: "country_code", Description: "must be an ISO 3166-1 alpha-2 code: two letters, such as MX"}}}}},
		{Result: &safethirdv1.BatchAssessResult_Error{Error: &safethirdv1.BatchItemError{Code: int32(codes.NotFound), Reason: "ERROR_REASON_FRAMEWORK_NOT_FOUND"}}},
		{Result: &safethirdv1.BatchAssessResult_Error{Error: &safethirdv1.BatchItemError{Code: int32(codes.FailedPrecondition), Reason: "ERROR_REASON_DATASET_REVISION_MISMATCH"}}},
		{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: a2}},
	}}
	if diff := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&safethirdv1.BatchItemError{}, "message"),
		protocmp.IgnoreFields(&safethirdv1.BatchAssessResult{}, "status")); diff != "" {
		t.Errorf("BatchAssessCountries (-want +got):\n%s", diff)
	}
	// A failed item's status is the one a call for the item alone fails
	// with; the deprecated error says the same.
	for i, r := range got.GetResults() {
		_, callErr := ts.assess.AssessCountry(context.Background(), req.GetRequests()[i])
		if callErr == nil {
			if r.GetStatus() != nil {
				t.Errorf("item %d succeeded with a status: %v", i, r.GetStatus())
			}
			continue
		}
		if diff := cmp.Diff(status.Convert(callErr).Proto(), r.GetStatus(), protocmp.Transform()); diff != "" {
			t.Errorf("item %d status (-the call's +the item's):\n%s", i, diff)
		}
		if e := r.GetError(); e.GetMessage() != r.GetStatus().GetMessage() || e.GetCode() != r.GetStatus().GetCode() {
			t.Errorf("item %d: deprecated error %v, status %v; want the same code and message", i, e, r.GetStatus())
		}
	}
}

func TestBatchAssessCountriesLimits(t *testing.T) {
	ts := startServer(t, serverConfig())
	tooMany := make([]*safethirdv1.AssessCountryRequest, assessment.MaxBatchItems+1)
	for i := range tooMany {
		tooMany[i] = &safethirdv1.AssessCountryRequest{CountryCode: "MX"}
	}
	tests := []struct {
		name       string
		give       []*safethirdv1.AssessCountryRequest
		wantReason string
	}{
		{"empty", nil, "ERROR_REASON_INVALID_ARGUMENT"},
		{"too many", tooMany, "ERROR_REASON_TOO_MANY_ITEMS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.assess.BatchAssessCountries(context.Background(), &safethirdv1.BatchAssessCountriesRequest{Requests: tt.give})
			st := wantStatus(t, err, codes.InvalidArgument, tt.wantReason)
			if diff := cmp.Diff([]string{"requests"}, violationFields(st)); diff != "" {
				t.Errorf("field violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssessRoute(t *testing.T) {
	ts := startServer(t, serverConfig())
	snap := embedded(t)
	req := &safethirdv1.AssessRouteRequest{
		Legs:      []*safethirdv1.RouteLeg{{CountryCode: "GT"}, {CountryCode: "mx"}},
		AsOf:      "2020-01-10",
		Applicant: &safethirdv1.Applicant{NationalityCode: ptr("HN")},
		View:      safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC,
	}
	got, err := ts.assess.AssessRoute(context.Background(), req)
	if err != nil {
		t.Fatalf("AssessRoute: %v", err)
	}
	want, err := assessment.New(snap).AssessRoute(req, today)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("AssessRoute (-want +got):\n%s", diff)
	}
	if got.GetDatasetRevision() != snap.Revision() {
		t.Errorf("dataset_revision = %q, want %q", got.GetDatasetRevision(), snap.Revision())
	}
}

func TestAssessRouteErrors(t *testing.T) {
	ts := startServer(t, serverConfig())
	tooMany := make([]*safethirdv1.RouteLeg, assessment.MaxRouteLegs+1)
	for i := range tooMany {
		tooMany[i] = &safethirdv1.RouteLeg{CountryCode: "MX"}
	}
	tests := []struct {
		name       string
		give       *safethirdv1.AssessRouteRequest
		wantCode   codes.Code
		wantReason string
	}{
		{"no legs", &safethirdv1.AssessRouteRequest{}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT"},
		{"too many legs", &safethirdv1.AssessRouteRequest{Legs: tooMany}, codes.InvalidArgument, "ERROR_REASON_TOO_MANY_ITEMS"},
		{"unknown framework", &safethirdv1.AssessRouteRequest{Legs: tooMany[:1], FrameworkId: "xx-none"}, codes.NotFound, "ERROR_REASON_FRAMEWORK_NOT_FOUND"},
		{"unknown revision", &safethirdv1.AssessRouteRequest{Legs: tooMany[:1], DatasetRevision: "sha256:" + zeros64}, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.assess.AssessRoute(context.Background(), tt.give)
			wantStatus(t, err, tt.wantCode, tt.wantReason)
		})
	}
}
