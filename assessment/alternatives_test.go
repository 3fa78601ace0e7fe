package assessment_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/internal/answertest"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

const lgbtqi = "declared_groups=APPLICANT_GROUP_LGBTQI"

// hondurasToUganda is the person of the issue: a Honduran national who
// crossed Guatemala and Mexico and entered the United States on
// 2026-03-01, asked about Uganda on 2026-06-01, with her groups as given.
func hondurasToUganda(groups []pb.ApplicantGroup, declared *pb.GroupList) *pb.AssessCountryRequest {
	return &pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2026-06-01", Applicant: &pb.Applicant{
		NationalityCode: proto.String("HN"), EntryDate: proto.String("2026-03-01"),
		CountriesCrossed: &pb.CountryList{CountryCodes: []string{"GT", "MX"}}, Groups: groups, DeclaredGroups: declared}}
}

func alternativeFor(a *pb.Assessment, fact string) *pb.AlternativeAnswer {
	for _, alt := range a.GetAlternatives() {
		if slices.Contains(alt.GetFacts(), fact) {
			return alt
		}
	}
	return nil
}

// Groups are unknown unless declared. These rest on the findings
// ug-no-persecution-lgbtqi (NOT_MET for LGBTQI people, general risk, from
// 2023-05-29) and ug-no-persecution (INDETERMINATE for everyone), and on
// us-ug-2025, whose entry into force the sources leave open from
// 2025-07-29 (practice INDETERMINATE).
func TestUnknownGroupsAreAskedFor(t *testing.T) {
	eng := engine(t)
	lgbt := []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI}
	tests := []struct {
		name            string
		give            *pb.AssessCountryRequest
		wantDet         pb.Determination
		wantMissing     bool   // declared_groups among no-persecution's missing facts
		wantAlternative bool   // the LGBTQI alternative, DOES_NOT_QUALIFY
		wantGroundFacts string // the ground on no-persecution holds under these facts ("-": no ground)
	}{
		{"groups not given", hondurasToUganda(nil, nil), detIndet, true, true, lgbtqi},
		{"declared: none", hondurasToUganda(nil, &pb.GroupList{}), detIndet, false, false, "-"},
		{"declared: LGBTQI", hondurasToUganda(nil, &pb.GroupList{Groups: lgbt}), doesNotQualify, false, false, ""},
		{"groups lists LGBTQI, the others unknown", hondurasToUganda(lgbt, nil), doesNotQualify, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			if a.GetDetermination() != tt.wantDet {
				t.Errorf("determination = %v, want %v: %s", a.GetDetermination(), tt.wantDet, a.GetSummary())
			}
			c := criterion(t, a, "no-persecution")
			if got := slices.Contains(c.GetMissingFacts(), "declared_groups"); got != tt.wantMissing {
				t.Errorf("no-persecution names declared_groups missing: %v, want %v (%v)", got, tt.wantMissing, c.GetMissingFacts())
			}
			// A caller who read an empty groups list as "none", as before
			// declared_groups, is told why the answer asks.
			warned := slices.ContainsFunc(a.GetWarnings(), func(w string) bool { return strings.Contains(w, "not as the complete list") })
			if warned != tt.wantMissing {
				t.Errorf("warned that groups is not the complete list: %v, want %v (%q)", warned, tt.wantMissing, a.GetWarnings())
			}
			alt := alternativeFor(a, lgbtqi)
			if got := alt.GetDetermination() == doesNotQualify && alt.GetCriterionId() == "no-persecution"; got != tt.wantAlternative {
				t.Errorf("LGBTQI alternative DOES_NOT_QUALIFY on no-persecution: %v, want %v (%v)", got, tt.wantAlternative, a.GetAlternatives())
			}
			if !tt.wantMissing && slices.ContainsFunc(a.GetAlternatives(), func(x *pb.AlternativeAnswer) bool {
				return strings.HasPrefix(x.GetFacts()[0], "declared_groups=")
			}) {
				t.Errorf("an alternative on the groups, though they are known: %v", a.GetAlternatives())
			}
			i := slices.IndexFunc(a.GetContestGrounds(), func(g *pb.ContestGround) bool { return g.GetCriterionId() == "no-persecution" })
			switch {
			case tt.wantGroundFacts == "-" && i >= 0:
				t.Errorf("a ground on no-persecution: %v", a.GetContestGrounds()[i])
			case tt.wantGroundFacts != "-" && i < 0:
				t.Errorf("no ground on no-persecution: %v", a.GetContestGrounds())
			case i >= 0:
				g := a.GetContestGrounds()[i]
				if strings.Join(g.GetFacts(), ",") != tt.wantGroundFacts || !slices.Equal(g.GetFindingIds(), []string{"ug-no-persecution-lgbtqi"}) {
					t.Errorf("ground under %v on %v, want under %q on ug-no-persecution-lgbtqi", g.GetFacts(), g.GetFindingIds(), tt.wantGroundFacts)
				}
				if len(g.GetEvidence()) == 0 || strings.Count(a.GetSummary(), g.GetStatement()) != 1 {
					t.Errorf("the ground needs its evidence and its statement once in the summary:\n%s", a.GetSummary())
				}
			}
		})
	}
}

// withFact is the applicant with an alternative's fact, "field=value".
func withFact(t *testing.T, app *pb.Applicant, fact string) *pb.Applicant {
	t.Helper()
	name, value, _ := strings.Cut(fact, "=")
	c := proto.Clone(app).(*pb.Applicant)
	fd := c.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
	switch {
	case name == "declared_groups":
		g := pb.ApplicantGroup(pb.ApplicantGroup_value[value])
		c.DeclaredGroups = &pb.GroupList{Groups: []pb.ApplicantGroup{g}}
	case fd != nil && fd.Kind() == protoreflect.BoolKind:
		c.ProtoReflect().Set(fd, protoreflect.ValueOfBool(value == "true"))
	case fd != nil && fd.Kind() == protoreflect.EnumKind:
		c.ProtoReflect().Set(fd, protoreflect.ValueOfEnum(fd.Enum().Values().ByName(protoreflect.Name(value)).Number()))
	default:
		t.Fatalf("alternative fact %q names no fact that can be supposed", fact)
	}
	return c
}

// Every alternative is the engine's own answer with its fact given, and
// differs from the answer; there are at most 20, and none without an
// applicant or in a route.
func TestAlternativesAreTheEngineAnswers(t *testing.T) {
	eng := engine(t)
	snap := eng.Snapshot()
	seen := 0
	reqs := append(answertest.Requests(snap), hondurasToUganda(nil, nil),
		&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: &pb.Applicant{}})
	for _, req := range reqs {
		a, err := eng.AssessCountry(req, today)
		if err != nil {
			t.Fatal(err)
		}
		if req.GetApplicant() == nil && len(a.GetAlternatives()) > 0 {
			t.Fatalf("%v: alternatives without an applicant", req)
		}
		if len(a.GetAlternatives()) > 20 {
			t.Fatalf("%v: %d alternatives, at most 20", req, len(a.GetAlternatives()))
		}
		for _, alt := range a.GetAlternatives() {
			seen++
			if len(alt.GetFacts()) != 1 || alt.GetReason() == "" {
				t.Fatalf("%v: alternative %v needs one fact and a reason", req, alt)
			}
			if alt.GetDetermination() == a.GetDetermination() && alt.GetApplicantOutcome() == a.GetApplicantOutcome() {
				t.Errorf("%v: alternative %v changes nothing", req, alt)
			}
			supposed := proto.Clone(req).(*pb.AssessCountryRequest)
			supposed.Applicant = withFact(t, req.GetApplicant(), alt.GetFacts()[0])
			other, err := eng.AssessCountry(supposed, today)
			if err != nil {
				t.Fatal(err)
			}
			if other.GetDetermination() != alt.GetDetermination() || other.GetApplicantOutcome() != alt.GetApplicantOutcome() {
				t.Errorf("%v with %s: AssessCountry answers %v, %v; the alternative says %v, %v", req, alt.GetFacts()[0],
					other.GetDetermination(), other.GetApplicantOutcome(), alt.GetDetermination(), alt.GetApplicantOutcome())
			}
		}
	}
	if seen == 0 {
		t.Fatal("no request gave an alternative")
	}
	t.Logf("%d alternatives checked", seen)
	resp, err := eng.AssessRoute(&pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}, AsOf: "2026-06-01",
		Applicant: &pb.Applicant{NationalityCode: proto.String("HN")}}, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range resp.GetAssessments() {
		if len(a.GetAlternatives()) > 0 {
			t.Errorf("%s: a route's answer works out no alternatives", a.GetCountryCode())
		}
	}
}

// A ground names the framework's limits on contesting its criterion: the
// loader's fixture, whose tribunal may not review safety under aa-bb, and
// whose finding of NOT_MET for LGBTQI people beats the one of safety for
// everyone.
func TestGroundsCarryTheContestLimits(t *testing.T) {
	eng := assessment.New(loaderFixture(t))
	ask := func(app *pb.Applicant) *pb.Assessment {
		a, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "BB", FrameworkId: "fw-aa", AsOf: "2012-06-01", Applicant: app}, "2026-12-06")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tt := range []struct {
		name      string
		give      *pb.Applicant
		wantFacts []string
	}{
		{"LGBTQI", &pb.Applicant{NationalityCode: proto.String("CC"), Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI}}, nil},
		{"groups not given", &pb.Applicant{NationalityCode: proto.String("CC")}, []string{lgbtqi}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := ask(tt.give)
			if len(a.GetContestGrounds()) != 1 {
				t.Fatalf("grounds %v, want one", a.GetContestGrounds())
			}
			g := a.GetContestGrounds()[0]
			if g.GetCriterionId() != "safety" || !slices.Equal(g.GetFacts(), tt.wantFacts) || !slices.Equal(g.GetContestLimitIds(), []string{"no-review"}) {
				t.Errorf("ground on %s under %v with limits %v, want safety under %v with no-review", g.GetCriterionId(), g.GetFacts(), g.GetContestLimitIds(), tt.wantFacts)
			}
			if !strings.Contains(g.GetStatement(), "The tribunal may not review safety.") {
				t.Errorf("the ground does not say the limit: %s", g.GetStatement())
			}
			if strings.Count(a.GetSummary(), "The tribunal may not review safety.") != 1 {
				t.Errorf("the summary must say the limit once, in the ground:\n%s", a.GetSummary())
			}
		})
	}
	if a := ask(&pb.Applicant{NationalityCode: proto.String("CC"), DeclaredGroups: &pb.GroupList{}}); len(a.GetContestGrounds()) != 0 {
		t.Errorf("safe for a person in no group, yet grounds %v", a.GetContestGrounds())
	}
}

// The person's own country: the question does not arise, and removal
// there is for the merits, as us-ina-208a2a's nationality rule records
// (8 U.S.C. §1158(a)(1), read at findlaw-8-usc-1158).
func TestOwnCountryIsForTheMerits(t *testing.T) {
	a, err := engine(t).AssessCountry(&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2026-06-01",
		Applicant: &pb.Applicant{NationalityCode: proto.String("HN")}}, today)
	if err != nil {
		t.Fatal(err)
	}
	if a.GetPractice().GetStatus() != pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLICABLE {
		t.Errorf("practice = %v, want NOT_APPLICABLE", a.GetPractice().GetStatus())
	}
	if len(a.GetContestGrounds()) != 1 || !strings.Contains(a.GetContestGrounds()[0].GetStatement(), "question for the merits") {
		t.Fatalf("grounds %v, want the merits", a.GetContestGrounds())
	}
	g := a.GetContestGrounds()[0]
	if len(g.GetEvidence()) == 0 || g.GetEvidence()[0].GetSourceId() != "findlaw-8-usc-1158" || !strings.Contains(a.GetSummary(), g.GetStatement()) {
		t.Errorf("the merits need their source and a place in the summary: %v\n%s", g, a.GetSummary())
	}
}

// A scope condition the facts decide is tested; one they cannot is a
// premise naming the fact. From us-ug-2025's scope (Uganda's statement, as
// reported: no unaccompanied minors, no criminal records, a preference for
// Africans) and us-bz-2025's (no Guatemalans, as reported).
func TestScopeFactsDecided(t *testing.T) {
	eng := engine(t)
	adult := &pb.Applicant{NationalityCode: proto.String("HN"), EntryDate: proto.String("2026-03-01"), Age: proto.Int32(30), Accompanied: proto.Bool(false)}
	child := &pb.Applicant{NationalityCode: proto.String("HN"), EntryDate: proto.String("2026-03-01"), Age: proto.Int32(15), Accompanied: proto.Bool(false)}
	guatemalan := &pb.Applicant{NationalityCode: proto.String("GT"), EntryDate: proto.String("2026-03-01")}
	tests := []struct {
		name, country string
		give          *pb.Applicant
		want          pb.ScopeStatus
		wantPremise   string
	}{
		{"Uganda, an adult: the rest is premised", "UG", adult, pb.ScopeStatus_SCOPE_STATUS_UNKNOWN, "Not among the facts an applicant can give: a criminal record."},
		{"Uganda, an unaccompanied child: outside", "UG", child, pb.ScopeStatus_SCOPE_STATUS_OUTSIDE, ""},
		{"Belize, a Guatemalan: outside", "BZ", guatemalan, pb.ScopeStatus_SCOPE_STATUS_OUTSIDE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: tt.country, AsOf: "2026-06-01", Applicant: tt.give}, today)
			if err != nil {
				t.Fatal(err)
			}
			if a.GetScope().GetStatus() != tt.want {
				t.Errorf("scope = %v, want %v: %s", a.GetScope().GetStatus(), tt.want, a.GetScope().GetReason())
			}
			if strings.Contains(a.GetScope().GetReason(), "check them") {
				t.Errorf("the scope leaves facts to check: %s", a.GetScope().GetReason())
			}
			if tt.wantPremise != "" && !slices.ContainsFunc(a.GetPremises(), func(p string) bool { return strings.Contains(p, tt.wantPremise) }) {
				t.Errorf("premises %q lack %q", a.GetPremises(), tt.wantPremise)
			}
		})
	}
}
