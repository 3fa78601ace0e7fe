package memo_test

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
	"github.com/safethird/safethird/internal/golden"
	"github.com/safethird/safethird/memo"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

var update = flag.Bool("update", false, "rewrite the golden memos under testdata/")

// today is fixed so the answers do not move with the calendar.
const today = "2026-11-27"

var loadOnce = sync.OnceValues(func() (*dataset.Snapshot, error) { return dataset.Load(data.FS) })

func engine(t *testing.T) *assessment.Engine {
	t.Helper()
	snap, err := loadOnce()
	if err != nil {
		t.Fatalf("load the embedded dataset: %v", err)
	}
	return assessment.New(snap)
}

// hondurasWoman is a Honduran woman who crossed Guatemala and Mexico and
// first entered the United States on entered; whether she is in any other
// group is not given. A test fixture, not a person.
func hondurasWoman(entered string) *pb.Applicant {
	return &pb.Applicant{NationalityCode: proto.String("HN"), EntryDate: proto.String(entered),
		Groups:           []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_WOMEN_AND_GIRLS},
		CountriesCrossed: &pb.CountryList{CountryCodes: []string{"GT", "MX"}}}
}

// The memos a lawyer would file, read and kept as golden files: Uganda on
// 2026-06-01 for the Honduran woman who entered on 2026-03-01, and
// Guatemala on 2020-01-01 for her had she entered on 2019-12-01, with the
// answer over time to 2021.
func TestGoldenMemos(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name     string
		give     *pb.AssessCountryRequest
		timeline *pb.AssessTimelineRequest
	}{
		{"UG-2026-06-01-honduran-woman.md", &pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2026-06-01", Applicant: hondurasWoman("2026-03-01")}, nil},
		{"GT-2020-01-01-honduran-woman-timeline.md", &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01", Applicant: hondurasWoman("2019-12-01")},
			&pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "2019-12-01", EndDate: "2021-12-31", Applicant: hondurasWoman("2019-12-01")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := eng.Snapshot().Framework(a.GetFrameworkId())
			var opts []memo.Option
			if tt.timeline != nil {
				tl, err := eng.AssessTimeline(tt.timeline, today)
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, memo.WithTimeline(tl))
			}
			var md bytes.Buffer
			if err := memo.Assessment(&md, a, f, opts...); err != nil {
				t.Fatal(err)
			}
			checkTidy(t, md.String(), a)
			golden.Check(t, tt.name, md.Bytes(), *update)
		})
	}
}

// heading matches a Markdown heading line.
var heading = regexp.MustCompile(`(?m)^#+ .*$`)

// checkTidy checks what the issue asked of a memo: the summary once; the
// short answer, the grounds to contest, then the analysis; no section
// without content; no open window as "to :"; the agreement by its title;
// no enum value as its schema name.
func checkTidy(t *testing.T, md string, a *pb.Assessment) {
	t.Helper()
	if n := strings.Count(md, memoText(a.GetSummary())); n != 1 {
		t.Errorf("the summary appears %d times, want once", n)
	}
	short, grounds, analysis := strings.Index(md, "## Short answer"), strings.Index(md, "## Grounds to contest"), strings.Index(md, "## Analysis")
	if short < 0 || analysis < short || (len(a.GetContestGrounds()) > 0 && (grounds < short || grounds > analysis)) {
		t.Errorf("want the short answer, the grounds to contest, then the analysis (at %d, %d, %d)", short, grounds, analysis)
	}
	hs := heading.FindAllStringIndex(md, -1)
	for i := 1; i < len(hs); i++ {
		if strings.TrimSpace(md[hs[i-1][1]:hs[i][0]]) == "" && strings.Count(md[hs[i-1][0]:hs[i-1][1]], "#") >= strings.Count(md[hs[i][0]:hs[i][1]], "#") {
			t.Errorf("empty section: %s", md[hs[i-1][0]:hs[i-1][1]])
		}
	}
	for _, bad := range []string{" to :", "UNSPECIFIED", "–open"} {
		if strings.Contains(md, bad) {
			t.Errorf("the memo holds %q", bad)
		}
	}
	if a.GetAgreementTitle() != "" && !strings.Contains(md, "(`"+a.GetAgreementId()+"`)") {
		t.Errorf("the agreement %s is not named by its title with its id beside it", a.GetAgreementId())
	}
}

// memoText is text as the memo escapes it.
func memoText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`, "|", `\|`).Replace(s)
}
