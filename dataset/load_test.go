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
		give map[string]string // file -> new content; "" deletes the file
		want []string
	}{
		{
			name: "unknown field",
			give: map[string]string{"sources/src-one.yaml": "id: src-one\ntitle: T\npublisher: P\nkind: SOURCE_KIND_PRIMARY\ncolour: red\n"},
			want: []string{`sources/src-one.yaml:5:1: unknown field "colour", expected one of [id title publisher url published kind note ...]`},
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
			want: []string{`findings/bb-safety.yaml:11:16: evidence[0].source_id "src-none" names no source in sources/`},
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
			want: []string{"sources/src-one.yaml:7:7: kind: value is required (required)"},
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
		"# reordered\nkind: SOURCE_KIND_PRIMARY\npublished: 2020-01-02\nid: src-one\npublisher: Test Publisher\ntitle: 'Fixture source'\nurl: https://example.org/one\n")}
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
