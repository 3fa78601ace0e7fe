// Package dataset loads the curated knowledge base (YAML records, one per
// file, read with protoyaml) into an immutable, validated Snapshot with a
// content revision. It does no network I/O and knows nothing of gRPC: the
// records are the safethird.v1 protobuf messages the API also returns.
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
package dataset
