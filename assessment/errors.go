package assessment

import (
	"fmt"
	"slices"
	"strings"
)

// FieldViolation names a request field and the rule it breaks. Descriptions
// never contain the applicant's facts.
type FieldViolation struct {
	Field       string
	Description string
}

// InvalidArgumentError reports every rule a request breaks.
type InvalidArgumentError struct {
	Violations []FieldViolation
	// TooMany is set when the request exceeds an item limit (batch size,
	// route legs), so callers can give that its own reason.
	TooMany bool
}

func (e *InvalidArgumentError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Kind names a kind of record a request can refer to.
type Kind string

// The kinds a NotFoundError can name.
const (
	KindCountry   Kind = "country"
	KindAgreement Kind = "agreement"
	KindFramework Kind = "framework"
)

// NotFoundError reports a reference to something the dataset does not hold.
type NotFoundError struct {
	// Kind is what was looked up.
	Kind Kind
	// ID is the id or code looked up; never an applicant fact.
	ID string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q not found", e.Kind, e.ID)
}

// violations collects field violations while a request is checked.
type violations []FieldViolation

// add records a violation of field, unless it has one already: the field
// rules' come first, and a value that breaks them is not judged again.
func (v *violations) add(field, format string, args ...any) {
	if v.has(field) {
		return
	}
	*v = append(*v, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

func (v violations) has(field string) bool {
	return slices.ContainsFunc(v, func(fv FieldViolation) bool { return fv.Field == field })
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return &InvalidArgumentError{Violations: v}
}
