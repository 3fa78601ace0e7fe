package assessment_test

import (
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"

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

// BenchmarkAssessRoute measures the route of make bench's "AssessRoute,
// 5 legs": five legs ending in Mexico, for an applicant with a few facts
// given, asked again of a warm Engine (the case system's retry or
// refresh), and once of a new Engine (cold).
func BenchmarkAssessRoute(b *testing.B) {
	eng := engine(b)
	req := &pb.AssessRouteRequest{AsOf: "2024-01-01", Applicant: &pb.Applicant{NationalityCode: proto.String("HN"), Age: proto.Int32(30)}}
	for _, c := range []string{"HN", "SV", "GT", "BZ", "MX"} {
		req.Legs = append(req.Legs, &pb.RouteLeg{CountryCode: c})
	}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		snap := eng.Snapshot()
		for b.Loop() {
			if _, err := assessment.New(snap).AssessRoute(req, today); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := eng.AssessRoute(req, today); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAlternatives measures an answer to an applicant whose groups,
// age and way of travelling are not given, for Uganda on 2026-06-01: the
// answer, then each alternative the engine works out. cold starts a new
// Engine each time; new-applicant asks a warm Engine about an applicant it
// has not seen (the age changes each time, and the scope reads it).
func BenchmarkAlternatives(b *testing.B) {
	eng := engine(b)
	req := func(age int32) *pb.AssessCountryRequest {
		return &pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2026-06-01", Applicant: &pb.Applicant{
			NationalityCode: proto.String("HN"), EntryDate: proto.String("2026-03-01"), Age: proto.Int32(age),
			CountriesCrossed: &pb.CountryList{CountryCodes: []string{"GT", "MX"}}}}
	}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		snap := eng.Snapshot()
		for b.Loop() {
			a, err := assessment.New(snap).AssessCountry(req(30), today)
			if err != nil || len(a.GetAlternatives()) == 0 {
				b.Fatalf("%v, %d alternatives", err, len(a.GetAlternatives()))
			}
		}
	})
	for _, c := range []struct {
		name  string
		facts func(*pb.Applicant)
	}{
		{"new-applicant", func(*pb.Applicant) {}},
		// The same question with every fact the answer turns on given: no
		// alternative to work out, the cost of the answer alone.
		{"new-applicant-all-facts-given", func(a *pb.Applicant) {
			a.Accompanied, a.DeclaredGroups = proto.Bool(true), &pb.GroupList{}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			age := int32(0)
			for b.Loop() {
				age = (age + 1) % 150
				r := req(age)
				c.facts(r.GetApplicant())
				if _, err := eng.AssessCountry(r, today); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAssessTimeline measures five years of answers: Guatemala
// without an applicant over the Asylum Cooperative Agreement's life, and
// Uganda for an applicant over its 2025 agreement's.
func BenchmarkAssessTimeline(b *testing.B) {
	eng := engine(b)
	for _, c := range []struct {
		name string
		req  *pb.AssessTimelineRequest
	}{
		{"GT-5y", &pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "2017-01-01", EndDate: "2021-12-31"}},
		{"UG-5y-applicant", &pb.AssessTimelineRequest{CountryCode: "UG", StartDate: "2021-06-01", EndDate: "2026-05-31",
			Applicant: &pb.Applicant{NationalityCode: proto.String("HN"), EntryDate: proto.String("2021-06-01")}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eng.AssessTimeline(c.req, today); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDistinctQuestions asks one engine a question it has not seen
// at each iteration, as a case system does: every curated country on a
// new day. SAFETHIRD_BENCH_DATASET names a dataset directory to ask
// instead of the embedded one (a synthetic one from bench/gendata, for
// how the cost grows with the dataset).
func BenchmarkDistinctQuestions(b *testing.B) {
	snap, err := loadOnce()
	if dir := os.Getenv("SAFETHIRD_BENCH_DATASET"); dir != "" {
		snap, err = dataset.LoadDir(dir)
	}
	if err != nil {
		b.Fatal(err)
	}
	var countries []string
	for _, c := range snap.Countries() {
		if c.GetCurated() {
			countries = append(countries, c.GetCode())
		}
	}
	first := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	question := func(i int) *pb.AssessCountryRequest {
		return &pb.AssessCountryRequest{CountryCode: countries[i%len(countries)], AsOf: first.AddDate(0, 0, i/len(countries)).Format(time.DateOnly)}
	}
	for _, c := range []struct {
		name      string
		applicant func(int) *pb.Applicant
	}{
		{"full", func(int) *pb.Applicant { return nil }},
		{"applicant", func(i int) *pb.Applicant {
			return &pb.Applicant{NationalityCode: proto.String("HN"), Age: proto.Int32(int32(i % 90))}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			eng := assessment.New(snap)
			i := 0
			for b.Loop() {
				req := question(i)
				req.Applicant = c.applicant(i)
				if _, err := eng.AssessCountry(req, today); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
