package main

import (
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// textWidth is where text reports wrap.
const textWidth = 80

// label is an enum value as a reader sees it: CRITERION_STATUS_NOT_MET is
// "NOT MET".
func label(e protoreflect.Enum) string {
	c := newChoices(e, "", nil)
	return strings.ToUpper(strings.ReplaceAll(c.long(e.Number()), "-", " "))
}

// para writes s as a paragraph wrapped at textWidth, every line starting
// with indent; a word longer than a line stands on its own.
func para(b *strings.Builder, indent, s string) {
	hang(b, indent, indent, s)
}

// hang is para with a different prefix on the first line, for list items.
func hang(b *strings.Builder, first, rest, s string) {
	n := 0 // runes on the current line, prefix included
	prefix := first
	for _, w := range strings.Fields(s) {
		wl := utf8.RuneCountInString(w)
		switch {
		case n == 0:
		case n+1+wl > textWidth:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		if n == 0 {
			b.WriteString(prefix)
			n = utf8.RuneCountInString(prefix)
			prefix = rest
		}
		b.WriteString(w)
		n += wl
	}
	if n > 0 {
		b.WriteByte('\n')
	}
}

// sentences joins the non-empty parts as sentences, adding a full stop
// where a part has no closing punctuation of its own.
func sentences(parts ...string) string {
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		// Emphasis markers do not end a sentence: look past them.
		if t := strings.TrimRight(p, "*"); t != "" && !strings.ContainsAny(t[len(t)-1:], ".?!") {
			p += "."
		}
		out = append(out, p)
	}
	return strings.Join(out, " ")
}
