// Package data embeds the curated knowledge base: the YAML records that
// dataset.Load reads, the ISO 3166-1 country list, the expectations in
// tests/, and manifest.json, the seal that `make seal` writes and the
// server checks. See README.md.
package data

import "embed"

// FS holds the dataset. Its layout is described in README.md.
//
//go:embed frameworks agreements designations countries sources findings iso3166 tests manifest.json
var FS embed.FS
