package client

import (
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// ErrorDomain is the ErrorInfo domain of every error the service returns.
const ErrorDomain = "safethird.v1"

// ErrorDetails is what a failed call says: its status, and the
// google.rpc.ErrorInfo and BadRequest details the service attaches.
type ErrorDetails struct {
	Code    codes.Code
	Message string
	// Reason is the ErrorInfo reason, an ErrorReason name such as
	// "ERROR_REASON_COUNTRY_NOT_FOUND"; empty when the error has none (it
	// did not come from the service, e.g. a connection failure).
	Reason string
	// Domain is the ErrorInfo domain: ErrorDomain for the service's own errors.
	Domain string
	// Metadata is the ErrorInfo metadata, e.g. the revision the server holds.
	Metadata map[string]string
	// FieldViolations name the request fields at fault, for bad input.
	FieldViolations []FieldViolation
}

// FieldViolation names a request field and the rule it breaks.
type FieldViolation struct {
	Field       string
	Description string
}

// Details reads the status and its details out of an error returned by a
// call. An error that is not a gRPC status reads as codes.Unknown with the
// error's text.
func Details(err error) ErrorDetails {
	s := status.Convert(err)
	d := ErrorDetails{Code: s.Code(), Message: s.Message()}
	for _, detail := range s.Details() {
		switch v := detail.(type) {
		case *errdetails.ErrorInfo:
			d.Reason, d.Domain, d.Metadata = v.GetReason(), v.GetDomain(), v.GetMetadata()
		case *errdetails.BadRequest:
			for _, fv := range v.GetFieldViolations() {
				d.FieldViolations = append(d.FieldViolations, FieldViolation{Field: fv.GetField(), Description: fv.GetDescription()})
			}
		}
	}
	return d
}

// NoServer reports whether a call failed because nothing listens at the
// address: UNAVAILABLE with the refused dial in its message, which is all
// gRPC keeps of the dial's error.
func NoServer(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.Unavailable && strings.Contains(s.Message(), "connection refused")
}

// ErrorReason returns Reason as the schema's enum, or
// ERROR_REASON_UNSPECIFIED when the error is not the service's own (a
// proxy's, say) or the name is unknown.
func (d ErrorDetails) ErrorReason() safethirdv1.ErrorReason {
	if d.Domain != ErrorDomain {
		return safethirdv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	return safethirdv1.ErrorReason(safethirdv1.ErrorReason_value[d.Reason])
}

// ItemDetails reads the deprecated error of one failed
// BatchAssessCountries item the way Details reads a failed call.
//
// Deprecated: a failed item carries its google.rpc.Status in
// BatchAssessResult.status; read it as a failed call's with
// Details(status.ErrorProto(result.GetStatus())).
func ItemDetails(e *safethirdv1.BatchItemError) ErrorDetails {
	d := ErrorDetails{Code: codes.Code(e.GetCode()), Message: e.GetMessage(), Reason: e.GetReason(), Domain: ErrorDomain}
	for _, v := range e.GetFieldViolations() {
		d.FieldViolations = append(d.FieldViolations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
	}
	return d
}
