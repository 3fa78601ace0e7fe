// Package assessment is the rules engine: pure functions from a
// dataset.Snapshot and a request to an Assessment. It applies a framework's
// criteria (computed from agreements or designations, or decided by curated
// findings), the agreement's scope and exceptions for an applicant, and
// explains each answer with its evidence. It does no I/O and knows nothing
// of gRPC; the caller supplies today's date.
//
// Every reading of a record's dates against the date assessed lives in
// dated.go, so the days on which an answer can change are read from one
// place. The criteria are evaluated in criteria.go (those computed from
// agreements and designations in records.go, those decided by findings in
// findings.go), and the evidence an answer cites is gathered in evidence.go.
package assessment
