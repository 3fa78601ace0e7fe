// Package data embeds the curated knowledge base: the YAML records that
// dataset.Load reads, and the ISO 3166-1 country list. See README.md.
package data

import "embed"

// FS holds the dataset. Its layout is described in README.md.
//
//go:embed frameworks agreements designations countries sources findings iso3166
var FS embed.FS
