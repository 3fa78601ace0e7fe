package dataset

import (
	"regexp"
	"time"
)

// DateLayout is the format of every date in the dataset and the API.
const DateLayout = "2006-01-02"

var dateShape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ParseDate parses a YYYY-MM-DD date, refusing days that do not exist.
// Validated dates compare correctly as strings.
func ParseDate(s string) (time.Time, bool) {
	if !dateShape.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(DateLayout, s)
	return t, err == nil
}
