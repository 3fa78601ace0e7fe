// Package server is the gRPC adapter over the assessment engine: it serves
// safethird.v1.AssessmentService and CatalogService over the current dataset
// Snapshot, with grpc.health.v1, server reflection, an ordered interceptor
// chain (request id, accounting, recovery, auth, validate, responses,
// deadline cap: recovery and auth are go-grpc-middleware's, validate checks
// the field rules declared in the protos), one mapping from the server's,
// the engine's and the rules' errors to google.rpc.Status, Prometheus
// metrics on a private registry, and a dataset store that reloads
// atomically on SIGHUP or when the dataset directory changes and keeps the
// recent revisions so a request can pin one. Its HTTP door
// (Config.HTTPAddr, http.go) serves the same services as REST/JSON, Connect
// and gRPC-Web through vanguard, behind the same chain, with /openapi.yaml,
// /healthz, /readyz and the Markdown memo.
//
// Nothing below this package knows about gRPC: handlers resolve one Snapshot
// at the start of a call, hand it to the engine, and encode the answer.
// Applicant facts are never logged, never stored and never put in an error.
package server
