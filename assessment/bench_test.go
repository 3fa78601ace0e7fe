package assessment_test

import (
	"testing"

	"github.com/safethird/safethird/assessment"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func BenchmarkAssessCountry(b *testing.B) {
	eng := engine(b)
	cases := []struct {
		name string
		req  *pb.AssessCountryRequest
	}{
		{"basic", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC}},
		{"full", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}},
		{"applicant", &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: adult()}},
	}
	// cold measures an answer with nothing memoized: a new Engine each time.
	b.Run("full-cold", func(b *testing.B) {
		b.ReportAllocs()
		snap := eng.Snapshot()
		for b.Loop() {
			if _, err := assessment.New(snap).AssessCountry(cases[1].req, today); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eng.AssessCountry(c.req, today); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
