// Package server wires the safethird server together: it serves
// safethird.v1.AssessmentService and CatalogService, grpc.health.v1 and
// (when configured) server reflection on the gRPC port, and the same
// services on the HTTP door (Config.HTTPAddr, server/httpdoor), both behind
// one interceptor chain (server/middleware) and one set of limits
// (server/limits, internal/connlimit), over one dataset store
// (server/store) that reloads atomically on SIGHUP or when the dataset
// directory changes. It owns the lifecycle (New, Serve, graceful shutdown),
// TLS, the tokens file's reloads and the /metrics endpoint, and builds the
// gRPC servers both doors hand their calls to.
//
// It holds no rule of its own: a bound belongs in server/limits, an error's
// status in server/rpcstatus, a link of the chain in server/middleware.
// Nothing below this package knows about the doors: handlers resolve one
// Snapshot at the start of a call, hand it to the engine, and encode the
// answer. Applicant facts are never logged, never stored and never put in
// an error.
package server
