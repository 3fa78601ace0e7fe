// Package client is the Go client for the safethird gRPC service: the
// library the safethird CLI uses, and the one other Go programs should use.
//
// New connects to one address, a DNS name whose records are balanced
// round-robin (dns:///host:port), or a comma-separated list of addresses.
// Options add TLS (a CA file, a client certificate for mTLS, or the system
// roots), a bearer token, a default per-call deadline and retries; the
// connection always retries UNAVAILABLE with backoff and keeps itself alive
// within the server's ping policy.
//
// The typed helpers (AssessCountry, AssessRoute, BatchAssessCountries,
// GetCountry, ListCountries, ...) unwrap responses and page through lists;
// Assessment and Catalog return the generated clients for anything else.
// Details turns an error into its status code, ErrorInfo reason and
// BadRequest field violations.
//
// Applicant facts are sensitive: this package never logs them.
package client
