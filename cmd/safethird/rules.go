package main

import (
	"errors"
	"regexp"
	"strings"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
)

// flagOf names the flag or argument that sets a request field, so a broken
// rule is reported in the terms the user typed.
var flagOf = map[string]string{
	"country_code":                          "COUNTRY",
	"legs":                                  "--legs",
	"legs.country_code":                     "--legs",
	"as_of":                                 "--as-of",
	"start_date":                            "--from",
	"end_date":                              "--to",
	"framework_id":                          "--framework",
	"applying_state_code":                   "--applying-state",
	"view":                                  "--view",
	"applicant":                             "the applicant flags",
	"applicant.age":                         "--age",
	"applicant.entry_date":                  "--entry-date",
	"applicant.days_from_crossing_to_claim": "--days-to-claim",
	"applicant.family.members.age":          "--family",
}

var index = regexp.MustCompile(`\[\d+\]`)

// checkRules checks a request against the field rules in the protos, the
// ones the server checks, before anything is sent: a rule broken is a
// usage error naming the flag.
func checkRules(req proto.Message) error {
	err := protovalidate.Validate(req)
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return err // nil, or rules that do not compile: a bug, not a usage error
	}
	var lines []string
	for _, v := range verr.Violations {
		field := protovalidate.FieldPathString(v.Proto.GetField())
		name := flagOf[index.ReplaceAllString(field, "")]
		switch {
		case name == "" && field == "": // a rule on the request as a whole
			lines = append(lines, v.Proto.GetMessage())
			continue
		case name == "":
			name = field
		}
		lines = append(lines, name+": "+v.Proto.GetMessage())
	}
	return usageError("%s", strings.Join(lines, "; "))
}
