// Package isocode reads an ISO 3166-1 alpha-2 country code as a caller
// typed it: two ASCII letters, in either case. It checks the letters before
// any case mapping, because Unicode case mapping turns other characters
// into ASCII ones: strings.ToUpper("ſv") is "SV" and ToUpper("ıd") is "ID".
package isocode

// Normalize returns code in upper case when it is two ASCII letters, and
// false for anything else.
func Normalize(code string) (string, bool) {
	if len(code) != 2 {
		return "", false
	}
	var out [2]byte
	for i := range 2 {
		c := code[i]
		switch {
		case 'A' <= c && c <= 'Z':
			out[i] = c
		case 'a' <= c && c <= 'z':
			out[i] = c - 'a' + 'A'
		default:
			return "", false
		}
	}
	return string(out[:]), true
}
