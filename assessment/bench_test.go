package assessment_test

import (
	"testing"

	"github.com/safethird/safethird/assessment"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func BenchmarkAssessCountry(b *testing.B) {
	snap := snapshot(b)
	cases := []struct {
		name string
		req  *pb.AssessCountryRequest
	}{
		{"basic", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC}},
		{"full", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}},
		{"applicant", &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: adult()}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := assessment.AssessCountry(snap, c.req, today); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
