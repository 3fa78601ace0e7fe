package reliability_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// canaryApplicant has a distinctive value in every field: if any of them
// shows up in a log, an error or a file, an applicant's facts leaked.
// Booleans cannot be told apart by value; their field names stand in.
func canaryApplicant() *pb.Applicant {
	return &pb.Applicant{
		NationalityCode:           ptr("TV"), // Tuvalu
		Stateless:                 ptr(false),
		LastHabitualResidenceCode: ptr("NR"), // Nauru
		Groups:                    []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_INDIGENOUS},
		Age:                       ptr(int32(117)),
		Married:                   ptr(true),
		ParentOrGuardianPresent:   ptr(true),
		Family: &pb.FamilyTies{Members: []*pb.FamilyMember{{
			Relationship: pb.Relationship_RELATIONSHIP_GRANDCHILD,
			Status:       pb.FamilyStatus_FAMILY_STATUS_REMOVAL_STAYED,
			Age:          ptr(int32(143)),
		}}},
		Documents:                 &pb.DocumentsHeld{Kinds: []pb.DocumentKind{pb.DocumentKind_DOCUMENT_KIND_STUDY_PERMIT}},
		CapitalCharge:             ptr(true),
		EntryType:                 pb.EntryType_ENTRY_TYPE_MARINE_PORT.Enum(),
		DaysFromCrossingToClaim:   ptr(int32(9876)),
		EntryDate:                 ptr("1907-03-29"),
		ParentOrGuardianCountries: &pb.CountryList{CountryCodes: []string{"TK"}}, // Tokelau
		VisaFreeCountries:         &pb.CountryList{CountryCodes: []string{"WF"}}, // Wallis and Futuna
	}
}

// canary is a string whose presence means a leak.
type canary struct {
	s       string
	numeric bool // a number: not a part of a longer number or a decimal, nor a source line
}

// valueCanaries are the canary applicant's values, as they would be
// printed; they must appear nowhere: not in logs, errors or files.
var valueCanaries = []canary{
	{s: "TV"}, {s: "NR"}, {s: "TK"}, {s: "WF"},
	{s: "117", numeric: true}, {s: "143", numeric: true}, {s: "9876", numeric: true},
	{s: "APPLICANT_GROUP_INDIGENOUS"}, {s: "RELATIONSHIP_GRANDCHILD"}, {s: "FAMILY_STATUS_REMOVAL_STAYED"},
	{s: "DOCUMENT_KIND_STUDY_PERMIT"}, {s: "ENTRY_TYPE_MARINE_PORT"}, {s: "1907-03-29"},
}

// fieldCanaries are the applicant's field names as a dump of it would
// print them (proto and JSON names); error messages may name fields, so
// these are looked for only in logs and files.
var fieldCanaries = []canary{
	{s: "nationality_code"}, {s: "nationalityCode"}, {s: "stateless"}, {s: "Stateless"},
	{s: "last_habitual_residence_code"}, {s: "lastHabitualResidenceCode"}, {s: "married"}, {s: "Married"},
	{s: "parent_or_guardian_present"}, {s: "parentOrGuardianPresent"}, {s: "capital_charge"}, {s: "capitalCharge"},
	{s: "entry_type"}, {s: "entryType"}, {s: "days_from_crossing_to_claim"}, {s: "daysFromCrossingToClaim"},
	{s: "entry_date"}, {s: "entryDate"},
	{s: "parent_or_guardian_countries"}, {s: "parentOrGuardianCountries"}, {s: "visa_free_countries"}, {s: "visaFreeCountries"},
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// findCanaries returns every canary found in text as a token (not inside a
// longer word), with some context.
func findCanaries(text string, canaries []canary) []string {
	var found []string
	for _, c := range canaries {
		for from := 0; ; {
			i := strings.Index(text[from:], c.s)
			if i < 0 {
				break
			}
			i += from
			end := i + len(c.s)
			from = end
			if i > 0 && isWordByte(text[i-1]) || end < len(text) && isWordByte(text[end]) {
				continue
			}
			if c.numeric && (i > 0 && text[i-1] == '.' || strings.HasSuffix(text[:i], ".go:")) {
				continue // a decimal's digits or a source line number
			}
			found = append(found, fmt.Sprintf("%q in ...%s...", c.s, text[max(0, i-60):min(len(text), end+60)]))
		}
	}
	return found
}

// statusText is everything a failed call returned: code, message, details
// and trailer, as text.
func statusText(err error, trailer metadata.MD) string {
	st := status.Convert(err)
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s\n", st.Code(), st.Message())
	for _, d := range st.Details() {
		if m, ok := d.(proto.Message); ok {
			b.WriteString(prototext.Format(m))
		} else {
			fmt.Fprintf(&b, "%v\n", d)
		}
	}
	fmt.Fprintf(&b, "%v\n", trailer)
	return b.String()
}

// TestNoApplicantFactsAnywhere drives a canary applicant through calls
// that succeed, are invalid, too large, past their deadline and
// unauthenticated, against the real binary at debug log level and with its
// own HOME, TMPDIR and working directory; then looks for the canaries in
// the logs, in every error returned and in every file the process could
// have written. (The panic path is server/canary_test.go's: it needs a
// test hook.)
func TestNoApplicantFactsAnywhere(t *testing.T) {
	t.Parallel()
	keys := newPKI(t)
	root := t.TempDir()
	home, tmp, work := filepath.Join(root, "home"), filepath.Join(root, "tmp"), filepath.Join(root, "work")
	for _, d := range []string{home, tmp, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	opts := serverOptions{pki: keys, tokensFile: keys.tokensFile, logLevel: "debug", dir: work,
		env: []string{"HOME=" + home, "TMPDIR=" + tmp, "XDG_CACHE_HOME=" + filepath.Join(home, ".cache")}}
	srv := startServer(t, opts)
	// A second server caps every call at 1µs, so that calls end
	// DEADLINE_EXCEEDED in the server itself, not only in the client.
	opts.args = []string{"--max-call-duration", "1us"}
	capped := startServer(t, opts)
	good := newClient(t, srv.addr, append(keys.clientOptions(), client.WithMaxAttempts(1))...)
	cappedClient := newClient(t, capped.addr, append(keys.clientOptions(), client.WithMaxAttempts(1))...)
	noToken := newClient(t, srv.addr, client.WithTLS(keys.CAFile), client.WithMaxAttempts(1))
	wrongToken := newClient(t, srv.addr, client.WithTLS(keys.CAFile), client.WithToken("wrong-token"), client.WithMaxAttempts(1))

	withCanary := func(r *pb.AssessCountryRequest) *pb.AssessCountryRequest {
		r = proto.Clone(r).(*pb.AssessCountryRequest)
		r.Applicant = canaryApplicant()
		return r
	}
	ca := withCanary(&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01"})
	// A batch the engine cannot answer from its memo: dates no other call uses.
	bigBatch := func(call int) *pb.BatchAssessCountriesRequest {
		b := &pb.BatchAssessCountriesRequest{}
		for i := range 100 {
			b.Requests = append(b.Requests, withCanary(&pb.AssessCountryRequest{
				CountryCode: []string{"CA", "MX", "GT", "US"}[i%4],
				AsOf:        time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, call*100+i).Format(time.DateOnly)}))
		}
		return b
	}
	type path struct {
		name   string
		c      *client.Client
		call   func(ctx context.Context, c *client.Client, opts ...grpc.CallOption) (proto.Message, error)
		want   codes.Code
		within time.Duration // the call's deadline; 0: callTimeout
	}
	country := func(r *pb.AssessCountryRequest) func(context.Context, *client.Client, ...grpc.CallOption) (proto.Message, error) {
		return func(ctx context.Context, c *client.Client, opts ...grpc.CallOption) (proto.Message, error) {
			return c.Assessment().AssessCountry(ctx, r, opts...)
		}
	}
	batchOf := func(r *pb.BatchAssessCountriesRequest) func(context.Context, *client.Client, ...grpc.CallOption) (proto.Message, error) {
		return func(ctx context.Context, c *client.Client, opts ...grpc.CallOption) (proto.Message, error) {
			return c.Assessment().BatchAssessCountries(ctx, r, opts...)
		}
	}
	routeReq := &pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}, {CountryCode: "US"}}, AsOf: "2024-06-01", Applicant: canaryApplicant()}
	paths := []path{
		{name: "OK AssessCountry", c: good, call: country(ca), want: codes.OK},
		{name: "OK AssessRoute", c: good, want: codes.OK, call: func(ctx context.Context, c *client.Client, opts ...grpc.CallOption) (proto.Message, error) {
			return c.Assessment().AssessRoute(ctx, routeReq, opts...)
		}},
		{name: "OK batch, one item invalid", c: good, want: codes.OK, call: batchOf(&pb.BatchAssessCountriesRequest{Requests: []*pb.AssessCountryRequest{
			ca, withCanary(&pb.AssessCountryRequest{CountryCode: "M1", AsOf: "2024-06-01"})}})},
		{name: "invalid country", c: good, want: codes.InvalidArgument, call: country(withCanary(&pb.AssessCountryRequest{CountryCode: "M1"}))},
		{name: "invalid view and date", c: good, want: codes.InvalidArgument, call: country(withCanary(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-02-30", View: pb.AssessmentView(99)}))},
		{name: "unknown framework", c: good, want: codes.NotFound, call: country(withCanary(&pb.AssessCountryRequest{CountryCode: "MX", FrameworkId: "no-such-framework"}))},
		{name: "unknown revision", c: good, want: codes.FailedPrecondition, call: country(withCanary(&pb.AssessCountryRequest{CountryCode: "MX", DatasetRevision: "sha256:" + strings.Repeat("0", 64)}))},
		{name: "oversized", c: good, want: codes.ResourceExhausted, call: country(withCanary(&pb.AssessCountryRequest{CountryCode: "MX", FrameworkId: strings.Repeat("f", 300<<10)}))},
		{name: "no token", c: noToken, want: codes.Unauthenticated, call: country(ca)},
		{name: "wrong token", c: wrongToken, want: codes.Unauthenticated, call: country(ca)},
	}
	// Deadlines short enough to expire on the way or in the server, and the
	// capped server's own 1µs deadline.
	for i, d := range []time.Duration{time.Microsecond, 200 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond} {
		paths = append(paths, path{name: fmt.Sprintf("deadline %v", d), c: good, want: codes.DeadlineExceeded, within: d, call: batchOf(bigBatch(i))})
	}
	for i := range 3 {
		paths = append(paths, path{name: "server deadline", c: cappedClient, want: codes.DeadlineExceeded, call: batchOf(bigBatch(10 + i))})
	}

	errorsChecked := 0
	var leaks []string
	for _, p := range paths {
		within := p.within
		if within == 0 {
			within = callTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), within)
		var trailer metadata.MD
		resp, err := p.call(ctx, p.c, grpc.Trailer(&trailer))
		cancel()
		// A deadline may also be met, or be seen by the server as the
		// client cancelling.
		if got := status.Code(err); got != p.want && !(p.want == codes.DeadlineExceeded && (got == codes.OK || got == codes.Canceled)) {
			t.Errorf("%s: %v, want %v", p.name, err, p.want)
		}
		if err != nil {
			errorsChecked++
			for _, l := range findCanaries(statusText(err, trailer), valueCanaries) {
				leaks = append(leaks, p.name+" error: "+l)
			}
		}
		// A batch item's status, and its deprecated error, are errors returned too.
		if b, ok := resp.(*pb.BatchAssessCountriesResponse); ok {
			for _, r := range b.GetResults() {
				if r.GetStatus() != nil || r.GetError() != nil {
					errorsChecked++
					item := prototext.Format(r.GetStatus()) + prototext.Format(r.GetError())
					for _, l := range findCanaries(item, valueCanaries) {
						leaks = append(leaks, p.name+" item error: "+l)
					}
				}
			}
		}
	}
	metrics := srv.scrape(t) + capped.scrape(t)
	// The servers buffer their logs; a clean exit flushes them.
	for _, s := range []*serverProc{srv, capped} {
		s.signal(t, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			t.Fatal("a server did not exit after SIGTERM")
		}
	}
	if !strings.Contains(capped.stderr.String(), `"code":"DeadlineExceeded"`) {
		t.Error("no call ended DEADLINE_EXCEEDED in the server: the deadline path was not driven")
	}
	if !strings.Contains(srv.stderr.String(), `"level":"debug"`) {
		t.Error("nothing was logged at debug level")
	}
	logged := srv.stderr.String() + capped.stderr.String()
	lines := strings.Count(logged, "\n")
	for _, l := range findCanaries(logged, append(append([]canary{}, valueCanaries...), fieldCanaries...)) {
		leaks = append(leaks, "log: "+l)
	}
	for _, l := range findCanaries(metrics, append(append([]canary{}, valueCanaries...), fieldCanaries...)) {
		leaks = append(leaks, "metrics: "+l)
	}
	files := 0
	for _, dir := range []string{home, tmp, work} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, l := range findCanaries(string(b), append(append([]canary{}, valueCanaries...), fieldCanaries...)) {
				leaks = append(leaks, "file "+p+": "+l)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range leaks {
		t.Errorf("applicant fact leaked: %s", l)
	}
	figure(t, "%d canaries (%d values, %d field names) through %d calls (OK, invalid, not found, oversized, deadline, unauthenticated): %d occurrences in %d debug log lines, %d errors returned, 2 metrics pages and %d files written (HOME, TMPDIR, working dir)",
		len(valueCanaries)+len(fieldCanaries), len(valueCanaries), len(fieldCanaries), len(paths), len(leaks), lines, errorsChecked, files)
}

// The canaries are found where a leak would put them, and only there.
func TestCanariesAreDetectable(t *testing.T) {
	a := canaryApplicant()
	asJSON, err := protojson.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]canary{}, valueCanaries...), fieldCanaries...)
	found := map[string]bool{}
	for _, dump := range []string{prototext.Format(a), string(asJSON), fmt.Sprintf("%v", a)} {
		if got := findCanaries(dump, valueCanaries); len(got) < len(valueCanaries) {
			t.Errorf("found %d of %d value canaries in a dump of the applicant:\n%s", len(got), len(valueCanaries), dump)
		}
		for _, f := range findCanaries(dump, all) {
			found[strings.SplitN(f, `"`, 3)[1]] = true
		}
	}
	for _, c := range all {
		if !found[c.s] && c.s != "Stateless" && c.s != "Married" { // Go struct dumps only
			t.Errorf("canary %q not found in any dump", c.s)
		}
	}
	if got := findCanaries("server.go:117 +0x117 0.000117 127.0.0.1:41170 a9876b TVNR sha256:1431a message usage", all); len(got) > 0 {
		t.Errorf("false positives: %v", got)
	}
}
