// Package dataset loads the curated knowledge base (YAML records, one per
// file, read with protoyaml) into an immutable, validated Snapshot with a
// content revision. It does no network I/O and knows nothing of gRPC: the
// records are the safethird.v1 protobuf messages the API also returns.
//
// Each record is checked against its message's field rules (protovalidate
// annotations in the protos) while protoyaml reads it, so every problem
// keeps its file:line:column; this package adds only the checks across
// records and against the ISO list: references, ids unique and matching
// file names, order of timelines, overlapping findings, conditions that
// compile within their cost.
//
// Layout of a dataset directory:
//
//	frameworks/<id>.yaml      safethird.v1.Framework
//	agreements/<id>.yaml      safethird.v1.Agreement
//	designations/<id>.yaml    safethird.v1.Designation
//	countries/<CODE>.yaml     safethird.v1.Country (curated countries only)
//	sources/<id>.yaml         safethird.v1.Source
//	findings/<id>.yaml        safethird.v1.Finding
//	iso3166/iso_3166-1.json   the ISO 3166-1 list (Debian iso-codes)
//	manifest.json             the seal: every file's SHA-256, the counts, the revision
//	manifest.json.sig         optional: the manifest's ed25519 signature
//
// A dataset is released, not edited in place: LoadOptions.Seal writes the
// manifest, and a load with LoadOptions.Sealed accepts the directory only
// when every file matches it, none is missing or extra, every record kind
// is present and, with a public key, the signature verifies. Every file is
// read through a size limit, only if it is a regular file inside the
// directory, without blocking; YAML aliases and costly CEL conditions are
// refused.
package dataset
