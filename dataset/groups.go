package dataset

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// groupTerms are the words by which evidence names each group, folded
// (lower case, no accents). A finding for a group rests on evidence about
// that group: each of its quotes names it by its label or one of these
// words, so a finding cannot be carried by a general statement on the
// country. Add the words of a new group here, in English and the languages
// the sources are in; a word matches as the start of a word in the quote.
var groupTerms = map[safethirdv1.ApplicantGroup][]string{
	safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI: {
		"lgbt", "lesbian", "gay", "bisexual", "transgender", "trans ", "queer", "intersex", "homosexual",
		"same-sex", "same sex", "sexual orientation", "gender identity", "sexual minorit", "sexual and gender minorit",
		"diversidad sexual", "disidencias sexuales", "personas trans", "mujeres trans", "sogi",
	},
	safethirdv1.ApplicantGroup_APPLICANT_GROUP_INDIGENOUS: {
		"indigenous", "indigena", "pueblos originarios", "afro-", "garifuna", "lenca", "maya", "native",
	},
	safethirdv1.ApplicantGroup_APPLICANT_GROUP_WOMEN_AND_GIRLS: {
		"women", "woman", "girl", "female", "femicid", "feminicid", "gender-based", "gender based",
		"mujer", "nina", "violencia de genero", "violencia contra las mujeres",
		"mulher", "menina",
	},
	safethirdv1.ApplicantGroup_APPLICANT_GROUP_CHILDREN: {
		"child", "minor", "boy", "girl", "adolescent", "unaccompanied", "nino", "nina", "ninez", "menor",
	},
	safethirdv1.ApplicantGroup_APPLICANT_GROUP_POLITICAL_OPPONENTS: {
		"opposition", "opponent", "political", "critic", "dissident", "activist", "journalist", "candidate",
		"protester", "human rights defender", "oposicion", "opositor", "candidat", "periodista", "activista",
	},
}

// groupRef is an ApplicantGroup constant in a group condition.
var groupRef = regexp.MustCompile(`APPLICANT_GROUP_[A-Z_]+`)

// codeRef is a country code literal in a group condition, e.g. a nationality.
var codeRef = regexp.MustCompile(`"([A-Z]{2})"`)

// termsFor lists the folded words that name the people a group condition
// selects: its label, the words of each ApplicantGroup it names, and the
// names of the countries it names (a group of nationals is named by its
// country, "Eritrea" for "ER", matched by stem so "Eritrean" counts).
func (v *validator) termsFor(condition, label string) []string {
	terms := []string{fold(label)}
	for _, name := range groupRef.FindAllString(condition, -1) {
		terms = append(terms, groupTerms[safethirdv1.ApplicantGroup(safethirdv1.ApplicantGroup_value[name])]...)
	}
	for _, m := range codeRef.FindAllStringSubmatch(condition, -1) {
		if c, ok := v.snap.countries[m[1]]; ok {
			terms = append(terms, nameStems(c.GetName())...)
		}
	}
	return terms
}

// nameStems are the stems by which a text names a country: the first five
// letters of each word of four letters or more of its name, so that
// "Honduras" is found in "hondureños" and "Mexico" in "Mexican".
func nameStems(name string) []string {
	var stems []string
	for _, w := range strings.FieldsFunc(fold(name), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) < 4 || slices.Contains([]string{"republic", "state", "states", "united", "plurinational", "kingdom"}, w) {
			continue
		}
		if r := []rune(w); len(r) > 5 {
			w = string(r[:5])
		}
		stems = append(stems, w)
	}
	return stems
}

// names reports whether text, folded, holds one of terms at the start of a
// word.
func names(text string, terms []string) bool {
	t := " " + fold(text)
	for _, term := range terms {
		if term == "" {
			continue
		}
		for i := strings.Index(t, term); i >= 0; i = nextIndex(t, term, i) {
			if r := rune(t[i-1]); !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return true
			}
		}
	}
	return false
}

func nextIndex(t, term string, i int) int {
	j := strings.Index(t[i+1:], term)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// fold lower-cases s and drops its accents, for matching names and words
// across languages ("Indígena", "indigena").
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(normalizeQuoteText(s))) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
