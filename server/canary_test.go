package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// canaryApplicant has a distinctive value in every field (the same as
// test/reliability's): none may show in a log or an error.
func canaryApplicant() *safethirdv1.Applicant {
	return &safethirdv1.Applicant{
		NationalityCode:           ptr("TV"),
		Stateless:                 ptr(true),
		LastHabitualResidenceCode: ptr("NR"),
		Groups:                    []safethirdv1.ApplicantGroup{safethirdv1.ApplicantGroup_APPLICANT_GROUP_INDIGENOUS},
		Age:                       ptr[int32](117),
		Married:                   ptr(true),
		ParentOrGuardianPresent:   ptr(true),
		Family: &safethirdv1.FamilyTies{Members: []*safethirdv1.FamilyMember{{
			Relationship: safethirdv1.Relationship_RELATIONSHIP_GRANDCHILD,
			Status:       safethirdv1.FamilyStatus_FAMILY_STATUS_REMOVAL_STAYED,
			Age:          ptr[int32](143),
		}}},
		Documents:                 &safethirdv1.DocumentsHeld{Kinds: []safethirdv1.DocumentKind{safethirdv1.DocumentKind_DOCUMENT_KIND_STUDY_PERMIT}},
		CapitalCharge:             ptr(true),
		EntryType:                 safethirdv1.EntryType_ENTRY_TYPE_MARINE_PORT.Enum(),
		DaysFromCrossingToClaim:   ptr[int32](9876),
		ParentOrGuardianCountries: &safethirdv1.CountryList{CountryCodes: []string{"TK"}},
		VisaFreeCountries:         &safethirdv1.CountryList{CountryCodes: []string{"WF"}},
	}
}

// canaryTokens are the canary applicant's values as printed, and its
// boolean fields' names, which a dump of it would print.
var canaryTokens = []string{
	"TV", "NR", "TK", "WF", "117", "143", "9876",
	"APPLICANT_GROUP_INDIGENOUS", "RELATIONSHIP_GRANDCHILD", "FAMILY_STATUS_REMOVAL_STAYED",
	"DOCUMENT_KIND_STUDY_PERMIT", "ENTRY_TYPE_MARINE_PORT",
	"stateless", "married", "parent_or_guardian_present", "parentOrGuardianPresent", "capital_charge", "capitalCharge",
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// canariesIn returns the canary tokens in text, skipping those inside a
// longer word, a decimal or a source line number ("file.go:117").
func canariesIn(text string) []string {
	var found []string
	for _, c := range canaryTokens {
		for from := 0; ; {
			i := strings.Index(text[from:], c)
			if i < 0 {
				break
			}
			i += from
			end := i + len(c)
			from = end
			if i > 0 && (isWordByte(text[i-1]) || text[i-1] == '.') || end < len(text) && isWordByte(text[end]) || strings.HasSuffix(text[:i], ".go:") {
				continue
			}
			found = append(found, fmt.Sprintf("%q in ...%s...", c, text[max(0, i-60):min(len(text), end+60)]))
		}
	}
	return found
}

// The canaries are found where a leak would put them, and only there.
func TestCanariesAreDetectable(t *testing.T) {
	a := canaryApplicant()
	asJSON, err := protojson.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, dump := range []string{prototext.Format(a), a.String(), fmt.Sprintf("%v", a), string(asJSON)} {
		got := canariesIn(dump)
		if len(got) < 10+4 { // every value, and the four boolean fields by one of their names
			t.Errorf("found %d canaries in a dump of the applicant, want 14 or more:\n%s", len(got), dump)
		}
		for _, g := range got {
			found[strings.SplitN(g, `"`, 3)[1]] = true
		}
	}
	if len(found) != len(canaryTokens) {
		t.Errorf("found %d of the %d canaries in the dumps: %v", len(found), len(canaryTokens), found)
	}
	if got := canariesIn("server.go:117 +0x117 0.000117 127.0.0.1:41170 a9876b TVNR sha256:1431a"); len(got) > 0 {
		t.Errorf("false positives: %v", got)
	}
}

// A handler that panics while holding a request full of canaries: neither
// the panic's log lines (with its stack) nor the error returned may carry
// any of them, at debug level.
func TestPanicLeaksNoApplicantFacts(t *testing.T) {
	cfg := serverConfig()
	cfg.AuthTokens = []string{"canary-token"}
	cfg.AllowPlaintextTokens = true
	server.SetBeforeHandler(&cfg, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if strings.HasPrefix(info.FullMethod, "/safethird.v1.AssessmentService/") {
			var members []*safethirdv1.FamilyMember
			_ = members[proto.Size(req.(proto.Message))] // an index out of range, with the request in scope
		}
		return handler(ctx, req)
	})
	ts := startServer(t, cfg)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer canary-token")
	country := &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: canaryApplicant()}
	calls := []func(opts ...grpc.CallOption) error{
		func(opts ...grpc.CallOption) error {
			_, err := ts.assess.AssessCountry(ctx, country, opts...)
			return err
		},
		func(opts ...grpc.CallOption) error {
			_, err := ts.assess.AssessRoute(ctx, &safethirdv1.AssessRouteRequest{Legs: []*safethirdv1.RouteLeg{{CountryCode: "MX"}}, Applicant: canaryApplicant()}, opts...)
			return err
		},
		func(opts ...grpc.CallOption) error {
			_, err := ts.assess.BatchAssessCountries(ctx, &safethirdv1.BatchAssessCountriesRequest{Requests: []*safethirdv1.AssessCountryRequest{country}}, opts...)
			return err
		},
	}
	var leaks []string
	for i, call := range calls {
		var trailer metadata.MD
		err := call(grpc.Trailer(&trailer))
		st := wantStatus(t, err, codes.Internal, "ERROR_REASON_INTERNAL")
		returned := fmt.Sprintf("%s %v %v", st.Message(), st.Details(), trailer)
		for _, l := range canariesIn(returned) {
			leaks = append(leaks, fmt.Sprintf("call %d error: %s", i, l))
		}
	}
	panics := ts.logs.FilterMessage("panic in call").Len()
	if panics != len(calls) {
		t.Errorf("%d panics logged, want %d", panics, len(calls))
	}
	// The log lines as the JSON encoder of `safethird serve` writes them.
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	var logged strings.Builder
	for _, e := range ts.logs.All() {
		buf, err := enc.EncodeEntry(e.Entry, e.Context)
		if err != nil {
			t.Fatal(err)
		}
		logged.Write(buf.Bytes())
		buf.Free()
	}
	if !strings.Contains(logged.String(), `"stack":"`) {
		t.Error("the panic was logged without its stack")
	}
	for _, l := range canariesIn(logged.String()) {
		leaks = append(leaks, "log: "+l)
	}
	for _, l := range leaks {
		t.Errorf("applicant fact leaked: %s", l)
	}
	t.Logf("figure: %d panicking calls with canary applicants: %d canary occurrences in %d log lines (with stacks) and %d errors returned",
		len(calls), len(leaks), ts.logs.Len(), len(calls))
}
