package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/assessment"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// AssessTimeline answers over gRPC what the engine answers, over REST
// (POST /v1/countries/{country_code}:timeline, through the HTTP door's
// transcoding) what it answers over gRPC, and refuses a bad range with
// the field named.
func TestAssessTimeline(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	req := &safethirdv1.AssessTimelineRequest{CountryCode: "gt", StartDate: "2019-01-01", EndDate: "2021-12-31",
		Applicant: &safethirdv1.Applicant{NationalityCode: ptr("HN")}}
	got, err := hs.assess.AssessTimeline(context.Background(), req)
	if err != nil {
		t.Fatalf("AssessTimeline: %v", err)
	}
	want, err := assessment.New(embedded(t)).AssessTimeline(req, today)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("AssessTimeline (-engine +gRPC):\n%s", diff)
	}
	if len(got.GetSegments()) < 2 {
		t.Errorf("Guatemala 2019-2021 in %d segments, want the agreement's changes", len(got.GetSegments()))
	}

	resp, body := hs.do(t, "POST", "/v1/countries/gt:timeline", []byte(`{"startDate":"2019-01-01","end_date":"2021-12-31","applicant":{"nationalityCode":"HN"}}`),
		"Content-Type: application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST status %d: %s", resp.StatusCode, body)
	}
	var rest safethirdv1.AssessTimelineResponse
	if err := protojson.Unmarshal(body, &rest); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if diff := cmp.Diff(got, &rest, protocmp.Transform()); diff != "" {
		t.Errorf("REST answer differs from gRPC (-gRPC +REST):\n%s", diff)
	}

	_, err = hs.assess.AssessTimeline(context.Background(), &safethirdv1.AssessTimelineRequest{CountryCode: "GT", StartDate: "1980-01-01", EndDate: "2021-12-31"})
	st := wantStatus(t, err, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT")
	if diff := cmp.Diff([]string{"end_date"}, violationFields(st)); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
	resp, body = hs.do(t, "POST", "/v1/countries/GT:timeline", []byte(`{"startDate":"2021-01-01","endDate":"2019-01-01"}`), "Content-Type: application/json")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("REST status %d for an end before the start, want 400: %s", resp.StatusCode, body)
	}
	restStatus(t, resp, body)
}
