package main

import (
	"strings"
	"unicode/utf8"
)

// textWidth is where text reports wrap.
const textWidth = 80

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
