package dataset

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The matcher is what stands between a quote and a brief: these cases say
// what it forgives (typography, line breaks, omissions) and what it must
// not (a changed word, segments out of order, another document's words).
func TestQuoteMatcher(t *testing.T) {
	const statute = "Paragraph (1) shall not apply to an alien if the Attorney General determines that the alien may be removed,\n" +
		"pursuant to a bilateral or multilateral agreement, to a country (other than the country of the alien\u2019s nationality)\n" +
		"in which the alien\u2019s life or freedom would not be threatened \u2014 on account of race, religion, nationality."
	const spanish = "El gobierno de Bernardo Ar\u00e9valo no firm\u00f3 un acuerdo de tercer pa\u00eds seguro, afirm\u00f3 la Secretar\u00eda de Comunicaci\u00f3n.\n\u00abNo se firm\u00f3 absolutamente nada\u00bb, dijo."
	const greek = "\u03a4\u03bf \u03a3\u03c5\u03bc\u03b2\u03bf\u03cd\u03bb\u03b9\u03bf \u03c4\u03b7\u03c2 \u0395\u03c0\u03b9\u03ba\u03c1\u03b1\u03c4\u03b5\u03af\u03b1\u03c2 \u03b1\u03ba\u03cd\u03c1\u03c9\u03c3\u03b5 \u03c4\u03b7\u03bd \u03ba\u03bf\u03b9\u03bd\u03ae \u03c5\u03c0\u03bf\u03c5\u03c1\u03b3\u03b9\u03ba\u03ae \u03b1\u03c0\u03cc\u03c6\u03b1\u03c3\u03b7\n\u03b3\u03b9\u03b1 \u03c4\u03b7\u03bd \u03a4\u03bf\u03c5\u03c1\u03ba\u03af\u03b1."
	const xml = `<Paragraph><Label>(b.1)</Label><Text>the claimant entered Canada after June 24, 2020</Text></Paragraph>`
	tests := []struct {
		name, text, quote, missing string
	}{
		{name: "verbatim", text: statute, quote: "pursuant to a bilateral or multilateral agreement"},
		{name: "a line break in the text is a space", text: statute, quote: "may be removed, pursuant to a bilateral"},
		{name: "straight quotes for curly ones", text: statute, quote: "other than the country of the alien's nationality"},
		{name: "a hyphen or en dash for an em dash", text: statute, quote: "would not be threatened - on account of race"},
		{name: "an omission", text: statute, quote: "Paragraph (1) shall not apply [...] to a country [...] on account of race, religion, nationality."},
		{name: "an omission written with an ellipsis character", text: statute, quote: "Paragraph (1) shall not apply [\u2026] on account of race"},
		{name: "extra spaces in the quote", text: statute, quote: "  the  Attorney General\tdetermines "},
		{name: "Spanish with accents", text: spanish, quote: "no firm\u00f3 un acuerdo de tercer pa\u00eds seguro"},
		{name: "guillemets for quotation marks", text: spanish, quote: "\"No se firm\u00f3 absolutamente nada\""},
		{name: "Greek across a line break", text: greek, quote: "\u03c5\u03c0\u03bf\u03c5\u03c1\u03b3\u03b9\u03ba\u03ae \u03b1\u03c0\u03cc\u03c6\u03b1\u03c3\u03b7 \u03b3\u03b9\u03b1 \u03c4\u03b7\u03bd \u03a4\u03bf\u03c5\u03c1\u03ba\u03af\u03b1"},
		{name: "a compatibility form (NFKC)", text: "the \ufb01nal rule", quote: "the final rule"},
		{name: "a sentence across XML tags", text: xml, quote: "(b.1) the claimant entered Canada after June 24, 2020"},
		{name: "a word changed", text: statute, quote: "pursuant to a bilateral or unilateral agreement", missing: "pursuant to a bilateral or unilateral agreement"},
		{name: "segments out of order", text: statute, quote: "on account of race [...] Paragraph (1) shall not apply", missing: "Paragraph (1) shall not apply"},
		{name: "the second segment missing", text: statute, quote: "Paragraph (1) [...] to a safe country", missing: "to a safe country"},
		{name: "an accent dropped is a different word", text: spanish, quote: "no firmo un acuerdo", missing: "no firmo un acuerdo"},
		{name: "case matters", text: statute, quote: "paragraph (1) shall not apply", missing: "paragraph (1) shall not apply"},
		{name: "another document's words", text: greek, quote: "Anti-Homosexuality Act", missing: "Anti-Homosexuality Act"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newQuoteText(tt.text).missing(tt.quote); got != tt.missing {
				t.Errorf("missing(%q) = %q, want %q", tt.quote, got, tt.missing)
			}
		})
	}
}

// FuzzQuoteMatcher checks the matcher's two promises on any text: every
// run of words cut from the text is found, with omissions between runs
// taken in order; and a run the text does not hold is reported missing.
func FuzzQuoteMatcher(f *testing.F) {
	f.Add("Only 20 of the 939 asylum seekers transferred to Guatemala applied.", 2, 5, 9)
	f.Add("Τὸ Συμβούλιο\nτης Επικρατείας — ακύρωσε", 0, 2, 4)
	f.Add("¿Qué es el “tercer país seguro”?\r\n\tNo se firmó nada.", 1, 3, 6)
	f.Fuzz(func(t *testing.T, text string, a, b, c int) {
		if !utf8.ValidString(text) {
			t.Skip()
		}
		words := strings.Fields(normalizeQuoteText(text))
		if len(words) == 0 || strings.Contains(strings.Join(words, " "), omission) {
			t.Skip()
		}
		cut := func(n int) int { return ((n % (len(words) + 1)) + len(words) + 1) % (len(words) + 1) }
		i, j, k := cut(a), cut(b), cut(c)
		i, j, k = min(i, j, k), max(min(i, j), min(max(i, j), k)), max(i, j, k)
		first, second := strings.Join(words[i:j], " "), strings.Join(words[j:k], " ")
		qt := newQuoteText(text)
		if got := qt.missing(first + " " + omission + " " + second); got != "" {
			t.Fatalf("runs %q and %q of the text: missing %q", first, second, got)
		}
		absent := "\u2603 " + first
		if got := qt.missing(absent); got == "" && !strings.Contains(string(qt), normalizeQuoteText(absent)) {
			t.Fatalf("%q is not in the text but was found", absent)
		}
	})
}

// Normalizing is idempotent, so a quote copied from a normalized text is
// found in it.
func TestNormalizeQuoteTextIsIdempotent(t *testing.T) {
	for _, s := range []string{"<a<b>>c", "x <p>y</p>\u00a0z", "\ufb01 \u2014 \u201cq\u201d"} {
		once := normalizeQuoteText(s)
		if twice := normalizeQuoteText(once); twice != once {
			t.Errorf("normalizeQuoteText(%q) = %q, again %q", s, once, twice)
		}
	}
}

// collapseSpace trims and collapses white space as splitting at it and
// joining with one space does, byte for byte, whatever the runes.
func TestCollapseSpace(t *testing.T) {
	for _, s := range []string{"", " ", "a", "  a  b\t\n c ", "\u00a0x\u2003\u2003y\u3000", "a\xffb  \xfe", "é  ü\n\n"} {
		want := strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
		if got := collapseSpace(s); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	}
}
