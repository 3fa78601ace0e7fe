package dataset

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// omission is how a quote marks words left out. NFKC turns "…" into "...",
// so "[…]" is an omission too.
const omission = "[...]"

// foldQuote maps the characters that typing and typesetting vary
// (curly quotes, primes, dashes, the soft hyphen, the non-breaking space
// NFKC already turns into a space) to one plain form each.
var foldQuote = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201a", "'", "\u201b", "'", "\u2032", "'", "\u00b4", "'", "`", "'",
	"\u201c", `"`, "\u201d", `"`, "\u201e", `"`, "\u201f", `"`, "\u2033", `"`, "\u00ab", `"`, "\u00bb", `"`,
	"\u2010", "-", "\u2011", "-", "\u2012", "-", "\u2013", "-", "\u2014", "-", "\u2015", "-", "\u2212", "-",
	"\u00ad", "",
)

// markup is an XML or HTML tag: an archive may hold a statute as the
// publisher's XML, where a sentence runs across tags. A tag reads as a
// space.
var markup = regexp.MustCompile(`<[^<>]{0,400}>`)

// normalizeQuoteText is what quotes and archived texts are compared in:
// Unicode NFKC, tags as spaces, typographic variants folded, and every run
// of white space one space.
func normalizeQuoteText(s string) string {
	s = norm.NFKC.String(s)
	// Removing a tag can close another around it ("<a<b>>"): repeat until
	// none is left, so normalizing twice changes nothing.
	for strings.ContainsRune(s, '<') {
		t := markup.ReplaceAllString(s, " ")
		if t == s {
			break
		}
		s = t
	}
	return collapseSpace(foldQuote.Replace(s))
}

// collapseSpace trims s of white space and turns each run of it within
// into one space, in one pass: the texts archived are tens of KB, and
// splitting them into words to join them again was a tenth of a large
// dataset's load.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			pending = b.Len() > 0
		} else {
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// quoteText is a source's archived text, normalized once for every quote
// that cites it.
type quoteText string

func newQuoteText(raw string) quoteText { return quoteText(normalizeQuoteText(raw)) }

// missing returns the first segment of quote (the parts between omission
// marks) not found in the text after the previous one, or "" when every
// segment is found in order.
func (t quoteText) missing(quote string) string {
	text := string(t)
	for _, seg := range strings.Split(normalizeQuoteText(quote), omission) {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		i := strings.Index(text, seg)
		if i < 0 {
			return seg
		}
		text = text[i+len(seg):]
	}
	return ""
}
