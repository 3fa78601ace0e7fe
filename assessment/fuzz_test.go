package assessment_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// fuzzToday is the date the fuzz targets pass as today.
const fuzzToday = "2026-01-16"

// fuzzEngine loads the embedded dataset once for a fuzz target.
func fuzzEngine(f *testing.F) (*assessment.Engine, *dataset.Snapshot) {
	f.Helper()
	snap, err := dataset.Load(data.FS)
	if err != nil {
		f.Fatalf("load the embedded dataset: %v", err)
	}
	return assessment.New(snap), snap
}

// wantEngineError fails unless err is one of the engine's two documented
// errors, well formed.
func wantEngineError(t *testing.T, err error) {
	t.Helper()
	var invalid *assessment.InvalidArgumentError
	var notFound *assessment.NotFoundError
	switch {
	case errors.As(err, &invalid):
		if len(invalid.Violations) == 0 {
			t.Fatalf("InvalidArgumentError without violations: %v", err)
		}
		for _, v := range invalid.Violations {
			if v.Field == "" || v.Description == "" {
				t.Fatalf("violation without a field or description: %+v", v)
			}
		}
	case errors.As(err, &notFound):
		if notFound.Kind != assessment.KindCountry && notFound.Kind != assessment.KindFramework && notFound.Kind != assessment.KindAgreement {
			t.Fatalf("NotFoundError of kind %q", notFound.Kind)
		}
	default:
		t.Fatalf("error %T %v is neither *InvalidArgumentError nor *NotFoundError", err, err)
	}
}

// wantAssessment checks the invariants of any assessment the engine gives.
func wantAssessment(t *testing.T, a *safethirdv1.Assessment, revision string) {
	t.Helper()
	switch {
	case a == nil:
		t.Fatal("nil assessment without an error")
	case a.GetDatasetRevision() != revision:
		t.Fatalf("assessment of revision %q, want %q", a.GetDatasetRevision(), revision)
	case a.GetDetermination() == safethirdv1.Determination_DETERMINATION_UNSPECIFIED:
		t.Fatal("assessment without a determination")
	case len(a.GetCountryCode()) != 2 || a.GetCountryCode() != strings.ToUpper(a.GetCountryCode()):
		t.Fatalf("assessment of country %q", a.GetCountryCode())
	case a.GetAsOf() == "" || a.GetFrameworkId() == "":
		t.Fatalf("assessment without as_of or framework: %q, %q", a.GetAsOf(), a.GetFrameworkId())
	}
}

// FuzzAssessCountry decodes arbitrary bytes as an AssessCountryRequest and,
// when they decode, validates and assesses it against the embedded
// dataset: no panic; an error is *InvalidArgumentError or *NotFoundError;
// an answer is well formed and the same from a fresh Engine as from the
// shared one, whose memo has seen every earlier input.
func FuzzAssessCountry(f *testing.F) {
	eng, snap := fuzzEngine(f)
	for _, r := range []*safethirdv1.AssessCountryRequest{
		{CountryCode: "MX", AsOf: "2019-01-01"},
		{CountryCode: "ca", AsOf: "2024-06-01", Applicant: &safethirdv1.Applicant{Age: proto.Int32(16)}},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req safethirdv1.AssessCountryRequest
		if proto.Unmarshal(b, &req) != nil {
			return // the server refuses what does not decode before any handler runs
		}
		a, err := eng.AssessCountry(&req, fuzzToday)
		fresh, freshErr := assessment.New(snap).AssessCountry(&req, fuzzToday)
		if (err == nil) != (freshErr == nil) {
			t.Fatalf("shared engine: %v; fresh engine: %v", err, freshErr)
		}
		if err != nil {
			wantEngineError(t, err)
			return
		}
		wantAssessment(t, a, snap.Revision())
		if !proto.Equal(a, fresh) {
			t.Fatalf("the shared engine's answer differs from a fresh engine's for %v", &req)
		}
	})
}

// FuzzAssessRoute is FuzzAssessCountry for AssessRouteRequest.
func FuzzAssessRoute(f *testing.F) {
	eng, snap := fuzzEngine(f)
	for _, r := range []*safethirdv1.AssessRouteRequest{
		{Legs: []*safethirdv1.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}, AsOf: "2020-01-15"},
		{Legs: []*safethirdv1.RouteLeg{{CountryCode: "US"}}, FrameworkId: "ca-irpa-102", AsOf: "2024-06-01"},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req safethirdv1.AssessRouteRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		resp, err := eng.AssessRoute(&req, fuzzToday)
		fresh, freshErr := assessment.New(snap).AssessRoute(&req, fuzzToday)
		if (err == nil) != (freshErr == nil) {
			t.Fatalf("shared engine: %v; fresh engine: %v", err, freshErr)
		}
		if err != nil {
			wantEngineError(t, err)
			return
		}
		switch {
		case resp == nil:
			t.Fatal("nil response without an error")
		case resp.GetDatasetRevision() != snap.Revision():
			t.Fatalf("response of revision %q", resp.GetDatasetRevision())
		case resp.GetOutcome() == safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED:
			t.Fatal("response without an outcome")
		case len(resp.GetAssessments()) == 0 || resp.GetSummary() == "":
			t.Fatalf("response with %d assessments and summary %q", len(resp.GetAssessments()), resp.GetSummary())
		}
		for _, a := range resp.GetAssessments() {
			wantAssessment(t, a, snap.Revision())
		}
		if !proto.Equal(resp, fresh) {
			t.Fatalf("the shared engine's answer differs from a fresh engine's for %v", &req)
		}
	})
}
