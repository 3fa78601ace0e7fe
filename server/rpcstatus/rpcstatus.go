// Package rpcstatus is the one place that turns errors into statuses: the
// engine's, the field rules', the store's and the server's own become a
// google.rpc.Status with ErrorInfo (and BadRequest for bad input), and a
// status becomes the HTTP status the HTTP door answers with. Both doors and
// every handler use it, so a refusal has one shape whichever door it came
// through. It must never put a request's values in a message: they may be
// an applicant's facts.
package rpcstatus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"buf.build/go/protovalidate"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/assessment"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/store"
)

// errorDomain is google.rpc.ErrorInfo.domain on every error the service returns.
const errorDomain = "safethird.v1"

// Errors the server itself raises, for what it checks before the engine or
// instead of it: the transport's rules, auth and the HTTP door. The
// engine's own (assessment.InvalidArgumentError, NotFoundError), the
// store's (store.ErrNotLoaded, *store.RevisionError) and protovalidate's
// (the validate link) are the others that Mapper.Status maps; nothing else
// makes a status.
var (
	// ErrNoToken and ErrBadToken are the two ways auth fails.
	ErrNoToken  = errors.New("missing bearer token: send the header \"authorization: Bearer <token>\"")
	ErrBadToken = errors.New("invalid bearer token")
)

// TooLargeError is a request body over the size limit on the HTTP door;
// grpc-go raises its own for the gRPC port.
type TooLargeError struct {
	// Limit is the largest body accepted, in bytes.
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("request body larger than the limit of %d bytes", e.Limit)
}

// RequestError is a request the server refuses on its own, without the
// engine: a page_token a listing cannot take, a Get for a record the
// dataset does not hold, or on the HTTP door a body, query or path that
// makes no call. It names the field and the rule, never the value found
// there: a value may be an applicant's fact.
type RequestError struct {
	// Reason is ERROR_REASON_INVALID_ARGUMENT unless set.
	Reason safethirdv1.ErrorReason
	// NotFound makes it NOT_FOUND rather than INVALID_ARGUMENT: a record
	// the dataset does not hold, or a REST path no RPC has.
	NotFound bool
	// Field and Rule are the field violation, when Field is set.
	Field, Rule string
	Msg         string
}

func (e *RequestError) Error() string { return e.Msg }

// RecordNotFound is the RequestError of a Get for a record the dataset
// does not hold: kind names the record, reason is its ErrorReason.
func RecordNotFound(reason safethirdv1.ErrorReason, kind, id string) *RequestError {
	return &RequestError{NotFound: true, Reason: reason, Msg: notFoundMessage(kind, id)}
}

// notFoundMessage says that the kind of record with id is not found,
// repeating at most maxIDInMessage bytes of the id.
func notFoundMessage(kind, id string) string {
	return fmt.Sprintf("%s %q not found", kind, Clip(id))
}

// Clip returns at most maxIDInMessage bytes of what a caller sent (an id,
// a path), for a message that names it.
func Clip(s string) string {
	if len(s) > maxIDInMessage {
		return s[:maxIDInMessage] + "..."
	}
	return s
}

// notFoundReasons maps assessment.NotFoundError.Kind to its reason.
var notFoundReasons = map[assessment.Kind]safethirdv1.ErrorReason{
	assessment.KindCountry:   safethirdv1.ErrorReason_ERROR_REASON_COUNTRY_NOT_FOUND,
	assessment.KindAgreement: safethirdv1.ErrorReason_ERROR_REASON_AGREEMENT_NOT_FOUND,
	assessment.KindFramework: safethirdv1.ErrorReason_ERROR_REASON_FRAMEWORK_NOT_FOUND,
}

// maxIDInMessage bounds how much of a looked-up id an error message
// repeats, so a huge id does not come back in the error.
const maxIDInMessage = 64

// Mapper is the one place that turns errors into statuses. Every status
// carries ErrorInfo with domain "safethird.v1" and the ErrorReason name;
// bad input adds BadRequest field violations. Messages never repeat an
// applicant's facts: the engine's violation descriptions name fields and
// rules, never values. An error it does not know is INTERNAL, and logged
// once, with the call's request id.
type Mapper struct {
	Logger *zap.Logger
}

// Err maps err (nil gives nil) to a status error.
func (m Mapper) Err(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return m.Status(ctx, err).Err()
}

// Status maps a non-nil err to a status.
func (m Mapper) Status(ctx context.Context, err error) *status.Status {
	var (
		invalid    *assessment.InvalidArgumentError
		notFound   *assessment.NotFoundError
		validation *protovalidate.ValidationError
		revision   *store.RevisionError
		request    *RequestError
		tooLarge   *TooLargeError
		grpcErr    interface{ GRPCStatus() *status.Status }
	)
	switch {
	case errors.As(err, &grpcErr):
		// Already a status, e.g. from grpc-go or a nested call: pass it on.
		return grpcErr.GRPCStatus()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err)
	case errors.As(err, &validation):
		return badRequest(safethirdv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT, ruleViolations(validation))
	case errors.As(err, &invalid):
		reason := safethirdv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT
		if invalid.TooMany {
			reason = safethirdv1.ErrorReason_ERROR_REASON_TOO_MANY_ITEMS
		}
		return badRequest(reason, engineViolations(invalid))
	case errors.As(err, &notFound):
		reason, ok := notFoundReasons[notFound.Kind]
		if !ok {
			break // an engine kind this table lacks is a bug: INTERNAL below
		}
		return newStatus(codes.NotFound, reason, notFoundMessage(string(notFound.Kind), notFound.ID), nil, nil)
	case errors.As(err, &revision):
		return newStatus(codes.FailedPrecondition, safethirdv1.ErrorReason_ERROR_REASON_DATASET_REVISION_MISMATCH,
			revision.Error(), map[string]string{"current_revision": revision.Current}, nil)
	case errors.Is(err, store.ErrNotLoaded):
		return newStatus(codes.Unavailable, safethirdv1.ErrorReason_ERROR_REASON_DATASET_NOT_LOADED,
			"no dataset is loaded yet; retry shortly", nil, nil)
	case errors.As(err, &request):
		code, reason := codes.InvalidArgument, request.Reason
		if request.NotFound {
			code = codes.NotFound
		}
		if reason == safethirdv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
			reason = safethirdv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT
		}
		var violations []*errdetails.BadRequest_FieldViolation
		if request.Field != "" {
			violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: request.Field, Description: request.Rule})
		}
		return newStatus(code, reason, request.Msg, nil, violations)
	case errors.As(err, &tooLarge):
		return newStatus(codes.ResourceExhausted, safethirdv1.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE, err.Error(), nil, nil)
	case errors.Is(err, ErrNoToken), errors.Is(err, ErrBadToken):
		return newStatus(codes.Unauthenticated, safethirdv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED, err.Error(), nil, nil)
	}
	m.Logger.Error("internal error", zap.String("request_id", callinfo.RequestID(ctx)), zap.Error(err))
	return Internal()
}

// engineViolations are the engine's field violations, as BadRequest's.
func engineViolations(err *assessment.InvalidArgumentError) []*errdetails.BadRequest_FieldViolation {
	out := make([]*errdetails.BadRequest_FieldViolation, len(err.Violations))
	for i, v := range err.Violations {
		out[i] = &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description}
	}
	return out
}

// ruleViolations are the rules a request broke, as BadRequest's field
// violations: the field's path and the rule's message. Never the field's
// value, which protovalidate also reports: it may be an applicant's fact.
// A rule without a message (a CEL rule may leave it out) is named by its id.
func ruleViolations(err *protovalidate.ValidationError) []*errdetails.BadRequest_FieldViolation {
	out := make([]*errdetails.BadRequest_FieldViolation, len(err.Violations))
	for i, v := range err.Violations {
		desc := v.Proto.GetMessage()
		if desc == "" {
			desc = "breaks the rule " + v.Proto.GetRuleId()
		}
		if fd := v.FieldDescriptor; v.Proto.GetRuleId() == "enum.defined_only" && fd != nil && fd.Enum() != nil {
			desc += ": " + EnumNames(fd.Enum())
		}
		out[i] = &errdetails.BadRequest_FieldViolation{Field: protovalidate.FieldPathString(v.Proto.GetField()), Description: desc}
	}
	return out
}

// EnumNames lists the names an enum field accepts, for a message that
// says what to send instead.
func EnumNames(ed protoreflect.EnumDescriptor) string {
	names := make([]string, ed.Values().Len())
	for i := range names {
		names[i] = string(ed.Values().Get(i).Name())
	}
	return strings.Join(names, ", ")
}

// badRequest is INVALID_ARGUMENT with reason and violations, whose message
// lists each as "field: rule".
func badRequest(reason safethirdv1.ErrorReason, violations []*errdetails.BadRequest_FieldViolation) *status.Status {
	parts := make([]string, len(violations))
	for i, v := range violations {
		parts[i] = v.GetField() + ": " + v.GetDescription()
	}
	return newStatus(codes.InvalidArgument, reason, "invalid request: "+strings.Join(parts, "; "), nil, violations)
}

// HTTPStatus is the HTTP status of a REST call that failed with st: the
// standard mapping of gRPC codes (google.rpc.Code, as grpc-gateway and
// vanguard apply it), made exact in two places. FAILED_PRECONDITION, which
// this API raises only for a pinned dataset_revision the server does not
// hold, is 412 Precondition Failed rather than 400; RESOURCE_EXHAUSTED is
// 413 Content Too Large for a request over the size limit, 429 otherwise.
func HTTPStatus(st *status.Status) int {
	switch st.Code() {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // client closed request, as nginx and grpc-gateway write it
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		if ReasonOf(st) == safethirdv1.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE.String() {
			return http.StatusRequestEntityTooLarge
		}
		return http.StatusTooManyRequests
	case codes.FailedPrecondition:
		return http.StatusPreconditionFailed
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	default: // Unknown, Internal, DataLoss
		return http.StatusInternalServerError
	}
}

// Internal is what the caller sees of a failure inside the server;
// the details are in the server's log.
func Internal() *status.Status {
	return newStatus(codes.Internal, safethirdv1.ErrorReason_ERROR_REASON_INTERNAL, "internal error", nil, nil)
}

// newStatus builds a status with ErrorInfo and, when there are
// violations, BadRequest.
func newStatus(code codes.Code, reason safethirdv1.ErrorReason, msg string, metadata map[string]string, violations []*errdetails.BadRequest_FieldViolation) *status.Status {
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason.String(), Domain: errorDomain, Metadata: metadata}}
	if len(violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: violations})
	}
	st, err := status.New(code, msg).WithDetails(details...)
	if err != nil {
		// Only a detail that cannot be marshaled fails, and these are plain messages.
		return status.New(code, msg)
	}
	return st
}

// ReasonOf returns the ErrorInfo reason of a status, or "".
func ReasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
