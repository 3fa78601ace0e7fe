package dataset

import "time"

// DateLayout is the format of every date in the dataset and the API.
const DateLayout = "2006-01-02"

// ParseDate parses a YYYY-MM-DD date, refusing days that do not exist.
// Validated dates compare correctly as strings.
func ParseDate(s string) (time.Time, bool) {
	if !dateShaped(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(DateLayout, s)
	return t, err == nil
}

// dateShaped reports whether s is four digits, a hyphen, two digits, a
// hyphen and two digits; time.Parse alone would accept "2024-1-02".
func dateShaped(s string) bool {
	if len(s) != len(DateLayout) {
		return false
	}
	for i := range len(s) {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDate reports whether s is a YYYY-MM-DD date that exists.
func isDate(s string) bool {
	_, ok := ParseDate(s)
	return ok
}
