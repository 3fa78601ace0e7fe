// Package openapi holds the OpenAPI 3 document of the REST/JSON door,
// openapi.yaml, generated from the protos' google.api.http annotations and
// comments by `make generate` (protoc-gen-safethird-openapi, in this
// directory, over gnostic's generator, both in go.mod's tool block) and
// committed, so `make checkgenerate` fails when it drifts from the protos.
// The server embeds it and serves it at GET /openapi.yaml.
package openapi

import _ "embed" // for the document

//go:embed openapi.yaml
var document string

// Document returns the OpenAPI document as YAML.
func Document() string { return document }
