package main

import (
	"bytes"
	"flag"
	"regexp"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
	goldenfile "github.com/safethird/safethird/internal/golden"
	"github.com/safethird/safethird/memo"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// today is fixed so the engine's answers do not move with the calendar.
const today = "2026-11-27"

var loadOnce = sync.OnceValues(func() (*dataset.Snapshot, error) { return dataset.Load(data.FS) })

func snapshot(t *testing.T) *dataset.Snapshot {
	t.Helper()
	snap, err := loadOnce()
	if err != nil {
		t.Fatalf("load embedded dataset: %v", err)
	}
	return snap
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got, *update)
}

// Fixtures: the questions the golden files answer. The applicant is a
// test fixture, not a person.
func mexico2019() *pb.AssessCountryRequest {
	return &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}
}

func canadaMinor2024() *pb.AssessCountryRequest {
	return &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: &pb.Applicant{
		NationalityCode:           proto.String("HT"),
		Age:                       proto.Int32(16),
		Married:                   proto.Bool(false),
		ParentOrGuardianCountries: &pb.CountryList{},
		EntryType:                 pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
	}}
}

// An unaccompanied minor in Greece with no tie to Türkiye, under the
// Regulation as amended in 2026.
func greeceMinor2026() *pb.AssessCountryRequest {
	none := &pb.CountryList{}
	return &pb.AssessCountryRequest{CountryCode: "TR", FrameworkId: "eu-apr-59", ApplyingStateCode: "GR", AsOf: "2026-07-01",
		Applicant: &pb.Applicant{Age: proto.Int32(16), Accompanied: proto.Bool(false),
			CountriesCrossed: none, FamilyCountries: none, PreviousStayCountries: none}}
}

func guatemalaRoute2020() *pb.AssessRouteRequest {
	return &pb.AssessRouteRequest{
		Legs:      []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}},
		AsOf:      "2020-01-15",
		View:      pb.AssessmentView_ASSESSMENT_VIEW_BASIC,
		Applicant: &pb.Applicant{NationalityCode: proto.String("HN")},
	}
}

func TestRenderAssessment(t *testing.T) {
	snap := snapshot(t)
	tests := []struct {
		name string
		give *pb.AssessCountryRequest
	}{
		{name: "assess-MX-2019-01-01", give: mexico2019()},
		{name: "assess-CA-2024-06-01-minor", give: canadaMinor2024()},
		{name: "assess-TR-2026-07-01-eu-apr-59-minor", give: greeceMinor2026()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := assessment.New(snap).AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := textAssessment(&text, a); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".txt", text.Bytes())

			f, ok := snap.Framework(a.GetFrameworkId())
			if !ok {
				t.Fatalf("framework %s not in the dataset", a.GetFrameworkId())
			}
			var md bytes.Buffer
			if err := memo.Assessment(&md, a, f); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".md", md.Bytes())
		})
	}
}

func TestRenderRoute(t *testing.T) {
	snap := snapshot(t)
	req := guatemalaRoute2020()
	resp, err := assessment.New(snap).AssessRoute(req, today)
	if err != nil {
		t.Fatal(err)
	}
	legs := []string{"GT", "MX"}
	var text bytes.Buffer
	if err := textRoute(&text, legs, resp); err != nil {
		t.Fatal(err)
	}
	golden(t, "route-GT-MX-2020-01-15.txt", text.Bytes())

	f, _ := snap.Framework(assessment.DefaultFramework)
	var md bytes.Buffer
	if err := memo.Route(&md, legs, resp, f); err != nil {
		t.Fatal(err)
	}
	golden(t, "route-GT-MX-2020-01-15.md", md.Bytes())
}

// Every quote the memo cites carries a footnote whose definition names the
// source's title, publisher and date.
func TestMarkdownFootnotes(t *testing.T) {
	snap := snapshot(t)
	a, err := assessment.New(snap).AssessCountry(canadaMinor2024(), today)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := memo.Assessment(&md, a, nil); err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`\[\^(\d+)\][^:]`).FindAllStringSubmatch(md.String(), -1)
	defs := regexp.MustCompile(`(?m)^\[\^(\d+)\]: \*.+\*\. .+\. (Published \d{4}-\d{2}-\d{2}|Date not recorded)\.`).FindAllStringSubmatch(md.String(), -1)
	if len(refs) == 0 || len(defs) == 0 {
		t.Fatalf("memo has %d footnote references and %d definitions, want some of each", len(refs), len(defs))
	}
	defined := map[string]bool{}
	for _, d := range defs {
		defined[d[1]] = true
	}
	for _, r := range refs {
		if !defined[r[1]] {
			t.Errorf("footnote [^%s] is cited but not defined", r[1])
		}
	}
	if !bytes.Contains(md.Bytes(), []byte("framework `us-ina-208a2a`")) {
		t.Error("without the framework the memo should name it by id")
	}
}

// The memo cites only what the answer cites, footnoting every source: no
// source is listed without a line of the memo resting on it. It leads with
// the two answers, and names no exception "met" while one needs facts.
func TestMarkdownCitesEverySourceItLists(t *testing.T) {
	snap := snapshot(t)
	for _, req := range []*pb.AssessCountryRequest{mexico2019(), canadaMinor2024(),
		{CountryCode: "GT", AsOf: "2020-01-01", Applicant: &pb.Applicant{NationalityCode: proto.String("HN"), EntryDate: proto.String("2019-12-01")}},
		{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01"},
		{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2026-06-01", Applicant: &pb.Applicant{
			NationalityCode: proto.String("HT"), EntryDate: proto.String("2026-05-12"),
			EntryType: pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum(), DaysFromCrossingToClaim: proto.Int32(20)}},
		{CountryCode: "HN", AsOf: "2026-06-01", Applicant: &pb.Applicant{NationalityCode: proto.String("GT"), EntryDate: proto.String("2026-01-15")}},
	} {
		a, err := assessment.New(snap).AssessCountry(req, today)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := snap.Framework(a.GetFrameworkId())
		var md bytes.Buffer
		if err := memo.Assessment(&md, a, f); err != nil {
			t.Fatal(err)
		}
		memo := md.String()
		name := a.GetCountryCode() + " " + a.GetAsOf()
		defs := regexp.MustCompile("(?m)^\\[\\^\\d+\\]: .*\\(`([a-z0-9-]+)`\\)$").FindAllStringSubmatch(memo, -1)
		footnoted := map[string]bool{}
		for _, d := range defs {
			footnoted[d[1]] = true
		}
		for _, s := range a.GetSources() {
			if !footnoted[s.GetId()] {
				t.Errorf("%s: source %s is in the answer but no line of the memo cites it", name, s.GetId())
			}
		}
		if len(footnoted) != len(a.GetSources()) {
			t.Errorf("%s: memo footnotes %d sources, the answer has %d", name, len(footnoted), len(a.GetSources()))
		}
		practice, evidence := strings.Index(memo, "### In practice: "), strings.Index(memo, "### On the evidence: ")
		if practice < 0 || evidence < practice {
			t.Errorf("%s: the short answer must give the practice, then the evidence", name)
		}
		if strings.Contains(memo, "no exception: met") {
			t.Errorf("%s: a criterion may not claim that no exception applies", name)
		}
	}
}
