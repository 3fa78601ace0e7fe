package answerdiff

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/dataset"
)

// celDate finds a date a CEL condition compares with ("2019-11-19").
var celDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// changePoints returns the sorted dates of the grid for the snapshots,
// within [from, to] when they are set, and with from itself.
func changePoints(from, to string, snaps ...*dataset.Snapshot) []string {
	seen := map[string]bool{}
	for _, s := range snaps {
		for _, r := range s.Records() {
			datesIn(r.Message.ProtoReflect(), func(d string) {
				seen[d] = true
				seen[addDays(d, 1)] = true
			})
		}
	}
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	if len(out) > 0 {
		out = append([]string{addDays(out[0], -1)}, out...)
	}
	if from != "" {
		out = slices.DeleteFunc(out, func(d string) bool { return d < from })
		if len(out) == 0 || out[0] != from {
			out = append([]string{from}, out...)
		}
	}
	if to != "" {
		out = slices.DeleteFunc(out, func(d string) bool { return d > to })
	}
	return out
}

// datesIn calls found for every date in m: a string field whose value is a
// date, and the dates a condition (a field named *condition) compares with.
func datesIn(m protoreflect.Message, found func(string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				datesIn(v.List().Get(i).Message(), found)
			}
		case fd.IsList() && fd.Kind() == protoreflect.StringKind:
			for i := range v.List().Len() {
				dateValue(fd, v.List().Get(i).String(), found)
			}
		case fd.IsMap():
		case fd.Message() != nil:
			datesIn(v.Message(), found)
		case fd.Kind() == protoreflect.StringKind:
			dateValue(fd, v.String(), found)
		}
		return true
	})
}

func dateValue(fd protoreflect.FieldDescriptor, s string, found func(string)) {
	if _, ok := dataset.ParseDate(s); ok {
		found(s)
		return
	}
	if strings.HasSuffix(string(fd.Name()), "condition") {
		for _, d := range celDate.FindAllString(s, -1) {
			if _, ok := dataset.ParseDate(d); ok {
				found(d)
			}
		}
	}
}

// addDays returns the date n days after d (before, for negative n).
func addDays(d string, n int) string {
	t, _ := dataset.ParseDate(d) // every date here was parsed
	return t.Add(time.Duration(n) * 24 * time.Hour).Format(dataset.DateLayout)
}
