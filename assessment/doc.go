// Package assessment is the rules engine: pure functions from a
// dataset.Snapshot and a request to an Assessment. It applies a framework's
// criteria (computed from agreements or designations, or decided by curated
// findings), the agreement's scope and exceptions for an applicant, and
// explains each answer with its evidence. It does no I/O and knows nothing
// of gRPC; the caller supplies today's date.
package assessment
