package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"

	"github.com/safethird/safethird/client"
)

// callError turns a failed call into exit code 1 with everything the
// server said: the status code, its message, the ErrorInfo reason and
// metadata, and each field at fault.
func callError(what string, err error) error {
	d := client.Details(err)
	var b strings.Builder
	fmt.Fprintf(&b, "safethird: %s: %s: %s", what, code.Code(d.Code), d.Message)
	if d.Reason != "" {
		fmt.Fprintf(&b, "\n  reason: %s", d.Reason)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Metadata)) {
		fmt.Fprintf(&b, "\n  %s: %s", k, d.Metadata[k])
	}
	for _, v := range d.FieldViolations {
		fmt.Fprintf(&b, "\n  field %s: %s", v.Field, v.Description)
	}
	return &exitError{code: 1, msg: b.String()}
}
