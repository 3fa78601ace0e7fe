package dataset

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// yearShape is a treaty date given as a year alone.
var yearShape = regexp.MustCompile(`^\d{4}$`)

// build validates the records against each other and indexes them. It
// records every problem it finds and returns a snapshot that is only
// meaningful when there are none.
func (l *loader) build(iso []isoCountry, records map[string][]*record) *Snapshot {
	s := &Snapshot{
		countries:  map[string]*safethirdv1.Country{},
		frameworks: map[string]*safethirdv1.Framework{},
		agreements: map[string]*safethirdv1.Agreement{},
		sources:    map[string]*safethirdv1.Source{},
		findings:   map[findingKey][]*safethirdv1.Finding{},
		programs:   map[string]*condition.Program{},
	}
	for _, c := range iso {
		s.countries[c.Alpha2] = &safethirdv1.Country{Code: c.Alpha2, Name: c.Name}
	}
	for _, r := range records["sources"] {
		src := r.msg.(*safethirdv1.Source)
		l.checkID(r, src.GetId())
		s.sources[src.GetId()] = src
	}
	v := &validator{loader: l, snap: s}
	v.quotes = v.archive(records["sources"])
	for _, r := range records["countries"] {
		v.country(r)
	}
	for _, r := range records["frameworks"] {
		v.framework(r)
	}
	for _, r := range records["agreements"] {
		v.agreement(r)
	}
	v.contestLimitAgreements(records["frameworks"])
	for _, r := range records["designations"] {
		v.designation(r)
	}
	for _, r := range records["findings"] {
		v.finding(r)
	}
	v.findingOverlaps()
	s.index()
	s.records = recordList(records)
	s.revision = revision(records, l.texts, iso)
	s.counts = Counts{
		Countries:        len(s.countries),
		CuratedCountries: len(records["countries"]),
		Frameworks:       len(s.frameworks),
		Agreements:       len(s.agreements),
		Designations:     len(s.designations),
		Sources:          len(s.sources),
		Findings:         len(records["findings"]),
	}
	return s
}

// index sorts the lists the snapshot serves.
func (s *Snapshot) index() {
	for _, c := range s.countries {
		s.countryList = append(s.countryList, c)
	}
	slices.SortFunc(s.countryList, func(a, b *safethirdv1.Country) int { return strings.Compare(a.GetCode(), b.GetCode()) })
	for id := range s.frameworks {
		s.frameworkIDs = append(s.frameworkIDs, id)
	}
	slices.Sort(s.frameworkIDs)
	for id := range s.agreements {
		s.agreementIDs = append(s.agreementIDs, id)
	}
	slices.Sort(s.agreementIDs)
	slices.SortFunc(s.designations, func(a, b *safethirdv1.Designation) int { return strings.Compare(a.GetId(), b.GetId()) })
	// What a question looks up by country, indexed once: a scan of every
	// agreement or designation a call grows with the dataset (a route's
	// partners were 8% of its CPU with 181 agreements).
	s.agreementsByParty = map[string][]*safethirdv1.Agreement{}
	for _, id := range s.agreementIDs {
		ag := s.agreements[id]
		for _, p := range slices.Compact(slices.Sorted(slices.Values(ag.GetPartyCodes()))) {
			s.agreementsByParty[p] = append(s.agreementsByParty[p], ag)
		}
	}
	s.designationsOf = map[designationKey][]*safethirdv1.Designation{}
	for _, d := range s.designations {
		k := designationKey{d.GetFrameworkId(), d.GetDesignatingCode(), d.GetCountryCode()}
		s.designationsOf[k] = append(s.designationsOf[k], d)
	}
	for _, fs := range s.findings {
		slices.SortFunc(fs, func(a, b *safethirdv1.Finding) int { return strings.Compare(a.GetId(), b.GetId()) })
	}
}

// recordList lists the records read, ordered by kind and id.
func recordList(records map[string][]*record) []Record {
	var out []Record
	for _, k := range kinds {
		for _, r := range records[k.dir] {
			out = append(out, Record{Kind: k.dir, ID: r.id, Message: r.msg})
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
	})
	return out
}

// checkID checks that a record's id, whose shape the field rules check,
// names its file.
func (l *loader) checkID(r *record, id string) {
	if id != "" && id != r.id {
		l.at(r, []any{"id"}, "id %q does not match the file name %q", id, r.id+".yaml")
	}
}

// pathString renders a field path as "evidence[2].source_id".
func pathString(p []any) string {
	var b strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		}
	}
	return b.String()
}
