package dataset

import (
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Snapshot is one validated, immutable revision of the dataset with the
// indexes the engine needs. The messages it returns are shared by every
// caller and must be treated as read-only.
type Snapshot struct {
	revision string

	countries    map[string]*safethirdv1.Country
	countryList  []*safethirdv1.Country
	frameworks   map[string]*safethirdv1.Framework
	frameworkIDs []string
	agreements   map[string]*safethirdv1.Agreement
	agreementIDs []string
	sources      map[string]*safethirdv1.Source
	designations []*safethirdv1.Designation
	// agreementsByParty are the agreements each country is party to, and
	// designationsOf the designations by what they are looked up by; both
	// ordered by id.
	agreementsByParty map[string][]*safethirdv1.Agreement
	designationsOf    map[designationKey][]*safethirdv1.Designation
	findings          map[findingKey][]*safethirdv1.Finding
	programs          map[string]*condition.Program
	counts            Counts
	// records lists every record, by kind and id, for what compares two
	// snapshots.
	records []Record
	// tests are the files of tests/, unparsed.
	tests []TestFile
	// seal is what the manifest said of the release; nil when loaded
	// without the seal.
	seal *SealInfo
}

// Record is one record of the dataset.
type Record struct {
	// Kind is the record's directory, e.g. "findings".
	Kind string
	// ID is its id (a country's code).
	ID string
	// Message is the record, read-only.
	Message proto.Message
}

// SealInfo is what a sealed dataset's manifest says of its release.
type SealInfo struct {
	// Sequence is the release's number, higher for each release of the
	// same dataset; 0 for a manifest written before releases were numbered.
	Sequence uint64
	// SealedOn is the day it was sealed (YYYY-MM-DD, UTC); empty for a
	// manifest written before seals were dated.
	SealedOn string
}

type findingKey struct {
	country, framework, criterion string
}

// Counts is the number of records of each kind.
type Counts struct {
	Countries, CuratedCountries, Frameworks, Agreements, Designations, Sources, Findings int
}

// Revision is "sha256:" and the hex SHA-256 of the dataset's canonical
// encoding: independent of file order and formatting, changed by any
// change of content.
func (s *Snapshot) Revision() string { return s.revision }

// Counts returns the number of records of each kind.
func (s *Snapshot) Counts() Counts { return s.counts }

// Records returns every record, ordered by kind and id.
func (s *Snapshot) Records() []Record { return s.records }

// Tests returns the files of expectations in tests/, ordered by path.
func (s *Snapshot) Tests() []TestFile { return s.tests }

// Seal returns what the manifest says of the release, and false when the
// snapshot was loaded without its seal.
func (s *Snapshot) Seal() (SealInfo, bool) {
	if s.seal == nil {
		return SealInfo{}, false
	}
	return *s.seal, true
}

// Country returns the country with the upper-case ISO 3166-1 alpha-2 code.
func (s *Snapshot) Country(code string) (*safethirdv1.Country, bool) {
	c, ok := s.countries[code]
	return c, ok
}

// Countries returns every country, ordered by code.
func (s *Snapshot) Countries() []*safethirdv1.Country { return s.countryList }

// Framework returns the framework with id.
func (s *Snapshot) Framework(id string) (*safethirdv1.Framework, bool) {
	f, ok := s.frameworks[id]
	return f, ok
}

// FrameworkIDs returns every framework id, sorted.
func (s *Snapshot) FrameworkIDs() []string { return s.frameworkIDs }

// Agreement returns the agreement with id.
func (s *Snapshot) Agreement(id string) (*safethirdv1.Agreement, bool) {
	a, ok := s.agreements[id]
	return a, ok
}

// AgreementIDs returns every agreement id, sorted.
func (s *Snapshot) AgreementIDs() []string { return s.agreementIDs }

// AgreementsWith returns the agreements to which both countries are
// parties, ordered by id.
func (s *Snapshot) AgreementsWith(a, b string) []*safethirdv1.Agreement {
	var out []*safethirdv1.Agreement
	for _, ag := range s.agreementsByParty[a] {
		if hasParty(ag, b) {
			out = append(out, ag)
		}
	}
	return out
}

// PartnersOf returns, for each agreement country is party to, the other
// parties; ordered by agreement id, then as the agreement lists them.
func (s *Snapshot) PartnersOf(country string) []string {
	var out []string
	seen := map[string]bool{}
	for _, ag := range s.agreementsByParty[country] {
		for _, p := range ag.GetPartyCodes() {
			if p != country && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func hasParty(a *safethirdv1.Agreement, code string) bool {
	for _, p := range a.GetPartyCodes() {
		if p == code {
			return true
		}
	}
	return false
}

// Designations returns the designations of country made for framework by
// the designating state (the framework's jurisdiction, or the applying
// state of a framework several states apply), ordered by id. The slice is
// the snapshot's own: read it, never change it.
func (s *Snapshot) Designations(framework, designating, country string) []*safethirdv1.Designation {
	return s.designationsOf[designationKey{framework, designating, country}]
}

// designationKey is what designations are looked up by: the framework,
// the designating state and the country designated.
type designationKey struct{ framework, designating, country string }

// Findings returns the findings on one criterion of a framework for a
// country, ordered by id.
func (s *Snapshot) Findings(country, framework, criterion string) []*safethirdv1.Finding {
	return s.findings[findingKey{country, framework, criterion}]
}

// Source returns the source with id.
func (s *Snapshot) Source(id string) (*safethirdv1.Source, bool) {
	src, ok := s.sources[id]
	return src, ok
}

// Program returns the compiled form of a condition that appears in the
// dataset; every condition is compiled once, when the snapshot is built.
func (s *Snapshot) Program(expression string) (*condition.Program, bool) {
	p, ok := s.programs[expression]
	return p, ok
}
