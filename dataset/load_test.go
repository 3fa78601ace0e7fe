package dataset_test

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
)

// fixture reads testdata/valid into a MapFS the cases can edit.
func fixture(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	root := "testdata/valid"
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path.Join(root, p))
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEmbeddedDatasetValidates(t *testing.T) {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		t.Fatalf("embedded dataset: %v", err)
	}
	if !strings.HasPrefix(snap.Revision(), "sha256:") || len(snap.Revision()) != len("sha256:")+64 {
		t.Errorf("Revision() = %q, want sha256:<64 hex>", snap.Revision())
	}
	if _, ok := snap.Country("MX"); !ok {
		t.Error("Country(MX) not found")
	}
}

// The embedded dataset is sealed when the binary is built: data/manifest.json
// is embedded with it and must match every file. An edit to data/ without
// `make seal` fails here (and in make checkseal), not at a server's start.
func TestEmbeddedDatasetIsSealed(t *testing.T) {
	_, err := dataset.LoadOptions{Sealed: true}.Load(data.FS)
	if err != nil {
		t.Fatalf("the embedded dataset does not match data/manifest.json; after editing data/, run make seal and commit data/manifest.json:\n%v", err)
	}
}

func TestLoadFixture(t *testing.T) {
	snap, err := dataset.Load(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	want := dataset.Counts{Countries: 3, CuratedCountries: 1, Frameworks: 1, Agreements: 1, Designations: 1, Sources: 1, Findings: 2}
	if diff := cmp.Diff(want, snap.Counts()); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if got := len(snap.Findings("BB", "fw-aa", "safety")); got != 2 {
		t.Errorf("Findings(BB, fw-aa, safety) has %d, want 2", got)
	}
	if _, ok := snap.Program("applicant.age < 18"); !ok {
		t.Error("exception condition was not compiled into the snapshot")
	}
}

// TestLoadRejects is the golden list of bad data: each case edits the valid
// fixture and wants exactly these problems.
func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		give map[string]string // file -> new content
		drop []string          // files deleted
		want []string
	}{
		{
			name: "unknown field",
			give: map[string]string{"sources/src-one.yaml": "id: src-one\ntitle: T\npublisher: P\nkind: SOURCE_KIND_PRIMARY\npublisher_kind: PUBLISHER_KIND_NGO\ncolour: red\n"},
			want: []string{`sources/src-one.yaml:6:1: unknown field "colour", expected one of [id title publisher url published kind note ...]`},
		},
		{
			name: "broken YAML",
			give: map[string]string{"sources/src-one.yaml": "id: src-one\ntitle: [unclosed\n"},
			// The YAML parser places this error at the line its flow starts from.
			want: []string{`sources/src-one.yaml:1:1: invalid YAML: did not find expected ',' or ']'`},
		},
		{
			name: "empty file",
			give: map[string]string{"sources/src-one.yaml": ""},
			want: []string{"sources/src-one.yaml: file is empty"},
		},
		{
			name: "dangling source",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "source_id: src-one", "source_id: src-none", 1)},
			want: []string{
				`findings/bb-safety.yaml:11:16: evidence[0].source_id "src-none" names no source in sources/`,
				`findings/bb-safety.yaml:17:23: conclusion_source_id "src-one": the publisher's conclusion is quoted in the finding's evidence; no evidence item quotes that source`,
			},
		},
		{
			name: "dangling reference",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "criterion_id: safety", "criterion_id: safty", 1)},
			want: []string{`findings/bb-safety.yaml:4:15: criterion_id "safty" names no criterion of framework "fw-aa"`},
		},
		{
			name: "impossible date",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), `valid_until: "2015-12-31"`, `valid_until: "2015-02-30"`, 1)},
			want: []string{`findings/bb-safety.yaml:7:14: valid_until: must be a real date in the form YYYY-MM-DD, from 1900-01-01 to 2100-12-31 (string.date)`},
		},
		{
			name: "overlapping findings",
			give: map[string]string{"findings/bb-safety-2.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "id: bb-safety", "id: bb-safety-2", 1)},
			want: []string{`findings/bb-safety.yaml:6:13: period 2011-01-01..2015-12-31 overlaps finding "bb-safety-2" (2011-01-01..2015-12-31) for the same country, framework, criterion and group`},
		},
		{
			name: "bad CEL",
			give: map[string]string{"findings/bb-safety-group.yaml": strings.Replace(readFixture(t, "findings/bb-safety-group.yaml"), "in applicant.groups", "in applicant.grups", 1)},
			want: []string{"findings/bb-safety-group.yaml:8:18: group_condition does not compile as a bool CEL condition over applicant and country_code: ERROR: <input>:1:51: undefined field 'grups'"},
		},
		{
			name: "oversize file",
			give: map[string]string{"sources/big.yaml": "id: big\n" + strings.Repeat("#", dataset.MaxFileSize)},
			want: []string{"sources/big.yaml: cannot read: larger than the 1048576-byte limit"},
		},
		{
			name: "id does not match file name",
			give: map[string]string{"sources/src-two.yaml": strings.Replace(readFixture(t, "sources/src-one.yaml"), "id: src-one", "id: src-one", 1)},
			want: []string{`sources/src-two.yaml:2:5: id "src-one" does not match the file name "src-two.yaml"`},
		},
		{
			name: "events out of order",
			give: map[string]string{"agreements/aa-bb.yaml": strings.Replace(readFixture(t, "agreements/aa-bb.yaml"), `"2011-01-01"
    kind: AGREEMENT_EVENT_KIND_ENTERED_INTO_FORCE`, `"2009-01-01"
    kind: AGREEMENT_EVENT_KIND_ENTERED_INTO_FORCE`, 1)},
			want: []string{"agreements/aa-bb.yaml:7:11: events[1].date 2009-01-01 is before the previous event's 2010-01-01: events must be in order"},
		},
		{
			name: "a finding of safety without a review date",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), `review_by: "2025-01-01"
`, "", 1)},
			want: []string{"findings/bb-safety.yaml:1:1: review_by is required for a finding that concludes MET: conditions can worsen (finding.review_by)"},
		},
		{
			name: "applicability rule without a condition or evidence",
			give: map[string]string{"frameworks/fw-aa.yaml": strings.Replace(strings.Replace(readFixture(t, "frameworks/fw-aa.yaml"),
				`    condition: 'country_code == "AA"'
`, "", 1), `    evidence:
      - source_id: src-one
        statement: Alpha's bar sends people elsewhere.
        support: SUPPORT_CONFIRMED
`, "", 1)},
			want: []string{
				"frameworks/fw-aa.yaml:14:5: applicability[0].condition: value is required (required)",
				"frameworks/fw-aa.yaml:14:5: applicability[0].evidence: must contain at least 1 item(s) (repeated.min_items)",
			},
		},
		{
			name: "an event with no date and no window",
			give: map[string]string{"agreements/aa-bb.yaml": strings.Replace(readFixture(t, "agreements/aa-bb.yaml"), `  - date: "2010-01-01"
    kind: AGREEMENT_EVENT_KIND_SIGNED`, `  - kind: AGREEMENT_EVENT_KIND_SIGNED`, 1)},
			want: []string{"agreements/aa-bb.yaml:5:5: events[0]: an event needs a date, or an earliest_date for a window still open; earliest_date must not be after date (event.window)"},
		},
		{
			name: "a framework applied by several states with a jurisdiction of its own",
			give: map[string]string{"frameworks/fw-aa.yaml": strings.Replace(readFixture(t, "frameworks/fw-aa.yaml"), "jurisdiction_code: AA", "jurisdiction_code: AA\napplying_state_required: true", 1)},
			want: []string{"frameworks/fw-aa.yaml:1:1: jurisdiction_code is required, and must be empty when applying_state_required is set: then each request names the applying state (framework.jurisdiction)"},
		},
		{
			name: "a record's field rule broken: the record still counts for the others",
			give: map[string]string{"sources/src-one.yaml": strings.Replace(readFixture(t, "sources/src-one.yaml"), "kind: SOURCE_KIND_PRIMARY", "kind: SOURCE_KIND_UNSPECIFIED", 1)},
			want: []string{"sources/src-one.yaml:9:7: kind: value is required (required)"},
		},
		{
			name: "contest limit naming no criterion and no agreement",
			give: map[string]string{"frameworks/fw-aa.yaml": strings.Replace(strings.Replace(readFixture(t, "frameworks/fw-aa.yaml"),
				"criterion_ids: [safety]", "criterion_ids: [safty]", 1), "agreement_ids: [aa-bb]", "agreement_ids: [aa-cc]", 1)},
			want: []string{
				`frameworks/fw-aa.yaml:26:21: contest_limits[0].criterion_ids[0] "safty" names no criterion of this framework`,
				`frameworks/fw-aa.yaml:27:21: contest_limits[0].agreement_ids[0] "aa-cc" names no agreement in agreements/`,
			},
		},
		{
			name: "a quote with one word changed",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "quote: safe", "quote: Beta is secure for most people", 1)},
			want: []string{`findings/bb-safety.yaml:13:12: evidence[0].quote is not in the text of source "src-one" (sources/src-one.txt): not found: "Beta is secure for most people"`},
		},
		{
			name: "a quote's segments out of order",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "quote: safe", `quote: "LGBTQI people face violence [...] Beta is safe"`, 1)},
			want: []string{`findings/bb-safety.yaml:13:12: evidence[0].quote is not in the text of source "src-one" (sources/src-one.txt): not found: "Beta is safe"`},
		},
		{
			name: "a quote whose source has no archived text",
			give: map[string]string{
				"sources/src-one.yaml":    strings.Replace(readFixture(t, "sources/src-one.yaml"), "read_on: \"2024-01-01\"\n", "", 1),
				"findings/bb-safety.yaml": strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "SUPPORT_CONFIRMED", "SUPPORT_SECONDARY", 1),
			},
			drop: []string{"sources/src-one.txt"},
			want: []string{
				`agreements/aa-bb.yaml:24:18: exceptions[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" has no archived text (sources/src-one.txt): a statement is confirmed only by a text read`,
				`countries/BB.yaml:11:18: treaties[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" has no archived text (sources/src-one.txt): a statement is confirmed only by a text read`,
				`findings/bb-safety-group.yaml:14:12: evidence[0].quote cannot be checked: source "src-one" has no archived text (sources/src-one.txt); archive the passage read, or remove the quote`,
				`findings/bb-safety-group.yaml:15:14: evidence[0].support SUPPORT_CONFIRMED, but source "src-one" has no archived text (sources/src-one.txt): a statement is confirmed only by a text read`,
				`findings/bb-safety.yaml:13:12: evidence[0].quote cannot be checked: source "src-one" has no archived text (sources/src-one.txt); archive the passage read, or remove the quote`,
				`frameworks/fw-aa.yaml:21:18: applicability[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" has no archived text (sources/src-one.txt): a statement is confirmed only by a text read`,
				`frameworks/fw-aa.yaml:32:18: contest_limits[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" has no archived text (sources/src-one.txt): a statement is confirmed only by a text read`,
			},
		},
		{
			name: "an archived text without its record, and a text read without its day",
			give: map[string]string{
				"sources/src-two.txt":  "Words read somewhere.\n",
				"sources/src-one.yaml": strings.Replace(readFixture(t, "sources/src-one.yaml"), "read_on: \"2024-01-01\"\n", "", 1),
			},
			want: []string{
				`sources/src-one.yaml:2:5: read_on is required: sources/src-one.txt holds the text read, so say the day it was read`,
				`sources/src-two.txt: no record sources/src-two.yaml: an archived text belongs to a source record`,
			},
		},
		{
			name: "a news article marked as the primary text",
			give: map[string]string{"sources/src-one.yaml": strings.Replace(readFixture(t, "sources/src-one.yaml"), "PUBLISHER_KIND_INTERGOVERNMENTAL", "PUBLISHER_KIND_NEWS", 1)},
			want: []string{"sources/src-one.yaml:2:1: a news article, a tracker or a law firm's page is never the primary text: kind must be SOURCE_KIND_SECONDARY (source.mark)"},
		},
		{
			name: "a copy read elsewhere marked as the primary text without its original",
			give: map[string]string{"sources/src-one.yaml": strings.Replace(readFixture(t, "sources/src-one.yaml"), "read_on:", "read_at: https://mirror.example.net/one\nread_on:", 1)},
			want: []string{"sources/src-one.yaml:10:7: kind SOURCE_KIND_PRIMARY, but it was read in a copy at mirror.example.net: set original_url to the official original, or mark it SOURCE_KIND_SECONDARY"},
		},
		{
			name: "confirmed evidence on a secondary source",
			give: map[string]string{"sources/src-one.yaml": strings.Replace(readFixture(t, "sources/src-one.yaml"), "kind: SOURCE_KIND_PRIMARY", "kind: SOURCE_KIND_SECONDARY", 1)},
			want: []string{
				`agreements/aa-bb.yaml:24:18: exceptions[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" is SOURCE_KIND_SECONDARY: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary`,
				`countries/BB.yaml:11:18: treaties[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" is SOURCE_KIND_SECONDARY: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary`,
				`findings/bb-safety-group.yaml:15:14: evidence[0].support SUPPORT_CONFIRMED, but source "src-one" is SOURCE_KIND_SECONDARY: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary`,
				`findings/bb-safety.yaml:14:14: evidence[0].support SUPPORT_CONFIRMED, but source "src-one" is SOURCE_KIND_SECONDARY: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary`,
				`frameworks/fw-aa.yaml:21:18: applicability[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" is SOURCE_KIND_SECONDARY: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary`,
				`frameworks/fw-aa.yaml:32:18: contest_limits[0].evidence[0].support SUPPORT_CONFIRMED, but source "src-one" is SOURCE_KIND_SECONDARY: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary`,
			},
		},
		{
			name: "a group finding whose evidence never names its group",
			give: map[string]string{"findings/bb-safety-group.yaml": strings.Replace(readFixture(t, "findings/bb-safety-group.yaml"),
				`quote: "LGBTQI people face violence in general; the publisher concludes Beta is not safe for them."`, `quote: "Beta is safe for most people"`, 1)},
			want: []string{
				`findings/bb-safety-group.yaml:14:12: evidence[0].quote does not name the group: a finding for "LGBTQI people" rests on evidence about that group; quote words that name it (its label or a word listed for it in dataset/groups.go)`,
			},
		},
		{
			name: "an inferred NOT_MET from one publisher",
			give: map[string]string{"findings/bb-safety-group.yaml": strings.Replace(strings.Replace(readFixture(t, "findings/bb-safety-group.yaml"),
				"basis: FINDING_BASIS_PUBLISHER_CONCLUSION", "basis: FINDING_BASIS_CURATOR_INFERENCE", 1), "conclusion_source_id: src-one\n", "", 1)},
			want: []string{"findings/bb-safety-group.yaml:17:8: basis FINDING_BASIS_CURATOR_INFERENCE for CRITERION_STATUS_NOT_MET needs evidence read from at least two independent publishers; it has one: test publisher"},
		},
		{
			name: "a group-wide NOT_MET without a risk in general",
			give: map[string]string{"findings/bb-safety-group.yaml": strings.Replace(readFixture(t, "findings/bb-safety-group.yaml"), "RISK_LEVEL_GENERAL", "RISK_LEVEL_INDIVIDUAL_CIRCUMSTANCES", 1)},
			want: []string{
				"findings/bb-safety-group.yaml:1:1: a NOT_MET finding needs risk_level RISK_LEVEL_GENERAL: a risk only in individual circumstances makes the criterion depend on the person (status CRITERION_STATUS_INDETERMINATE with risk_factors) (finding.risk_level)",
				"findings/bb-safety-group.yaml:1:1: a finding with risk_level RISK_LEVEL_INDIVIDUAL_CIRCUMSTANCES has status CRITERION_STATUS_INDETERMINATE and names its circumstances in risk_factors (finding.individual_circumstances)",
			},
		},
		{
			name: "a conclusion without its basis",
			give: map[string]string{"findings/bb-safety.yaml": strings.Replace(strings.Replace(readFixture(t, "findings/bb-safety.yaml"),
				"basis: FINDING_BASIS_PUBLISHER_CONCLUSION\n", "", 1), "conclusion_source_id: src-one\n", "", 1)},
			want: []string{"findings/bb-safety.yaml:1:1: a finding that concludes MET or NOT_MET says its basis: FINDING_BASIS_PUBLISHER_CONCLUSION or FINDING_BASIS_CURATOR_INFERENCE (finding.basis)"},
		},
		{
			name: "unknown country code",
			give: map[string]string{"frameworks/fw-aa.yaml": strings.Replace(readFixture(t, "frameworks/fw-aa.yaml"), "jurisdiction_code: AA", "jurisdiction_code: ZZ", 1)},
			want: []string{
				`designations/aa-designates-bb.yaml:4:19: designating_code "AA" is not the framework's jurisdiction "ZZ"`,
				`frameworks/fw-aa.yaml:4:20: jurisdiction_code "ZZ" is not an ISO 3166-1 alpha-2 country code`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fixture(t)
			for file, content := range tt.give {
				if content == "" && fsys[file] == nil {
					t.Fatalf("case edits %s, which the fixture lacks", file)
				}
				fsys[file] = &fstest.MapFile{Data: []byte(content)}
			}
			for _, file := range tt.drop {
				delete(fsys, file)
			}
			_, err := dataset.Load(fsys)
			var verr *dataset.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Load error = %v, want a *ValidationError", err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func readFixture(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(path.Join("testdata/valid", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRevision(t *testing.T) {
	base, err := dataset.Load(fixture(t))
	if err != nil {
		t.Fatal(err)
	}

	reformatted := fixture(t)
	// Comments, key order and quoting are formatting, not content.
	reformatted["sources/src-one.yaml"] = &fstest.MapFile{Data: []byte(
		"# reordered\nkind: SOURCE_KIND_PRIMARY\npublisher_kind: PUBLISHER_KIND_INTERGOVERNMENTAL\nread_on: 2024-01-01\npublished: 2020-01-02\nid: src-one\npublisher: Test Publisher\ntitle: 'Fixture source'\nurl: https://example.org/one\n")}
	// A file under another name that sorts differently does not matter
	// either: ids decide order, and they are tied to names.
	got, err := dataset.Load(reformatted)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision() != base.Revision() {
		t.Errorf("reformatting changed the revision: %s != %s", got.Revision(), base.Revision())
	}

	changed := fixture(t)
	changed["findings/bb-safety.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(readFixture(t, "findings/bb-safety.yaml"), "Beta is safe.", "Beta is safe!", 1))}
	got, err = dataset.Load(changed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision() == base.Revision() {
		t.Error("changing a statement did not change the revision")
	}

	again, err := dataset.Load(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if again.Revision() != base.Revision() {
		t.Error("loading the same data twice gave two revisions")
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"2024-02-29", true},
		{"2023-02-29", false},
		{"2024-1-02", false},
		{"2024/01/02", false},
		{"20240102", false},
		{"", false},
		{"2024-01-02T00:00:00Z", false},
	}
	for _, tt := range tests {
		if _, got := dataset.ParseDate(tt.give); got != tt.want {
			t.Errorf("ParseDate(%q) ok = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// TestLineBreaks checks that a record written with CRLF or CR line breaks
// means what it means with LF.
func TestLineBreaks(t *testing.T) {
	base, err := dataset.Load(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, br := range []string{"\r\n", "\r"} {
		fsys := fixture(t)
		fsys["findings/bb-safety.yaml"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(readFixture(t, "findings/bb-safety.yaml"), "\n", br))}
		got, err := dataset.Load(fsys)
		if err != nil {
			t.Fatalf("line break %q: %v", br, err)
		}
		if got.Revision() != base.Revision() {
			t.Errorf("line break %q changed the revision", br)
		}
	}
}
