package dataset

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// textSuffix names a source's archived text: the passages of the document
// as an editor read them, verbatim, beside sources/<id>.yaml.
const textSuffix = ".txt"

// readText reads one archived text through the loader's limits, so it is
// sealed like every other file, and returns it; false after recording the
// problem of a text that cannot be used.
func (l *loader) readText(file string) (string, bool) {
	data := l.read(file)
	if data == nil {
		return "", false
	}
	if !utf8.Valid(data) {
		l.problem(file, 0, 0, "not UTF-8: an archived text is the document's words in UTF-8")
		return "", false
	}
	id := strings.TrimSuffix(path.Base(file), textSuffix)
	if strings.TrimSpace(string(data)) == "" {
		l.problem(file, 0, 0, "empty: an archived text holds the passages read; delete it if nothing was read")
		return "", false
	}
	l.texts[id] = string(data)
	return l.texts[id], true
}

// archive checks each source against its archived text: a text belongs to
// a record, and read_on says when it was read. It returns the texts,
// normalized for matching quotes, by source id.
func (v *validator) archive(records []*record) map[string]quoteText {
	texts := make(map[string]quoteText, len(v.texts))
	for id := range v.texts {
		if _, ok := v.snap.sources[id]; !ok && !v.broken["sources/"+id] {
			v.problem("sources/"+id+textSuffix, 0, 0, "no record sources/%s.yaml: an archived text belongs to a source record", id)
			continue
		}
		texts[id] = v.normalized[id]
	}
	for _, r := range records {
		src := r.msg.(*safethirdv1.Source)
		_, archived := v.texts[src.GetId()]
		switch {
		case archived && src.GetReadOn() == "":
			v.at(r, []any{"id"}, "read_on is required: sources/%s%s holds the text read, so say the day it was read", src.GetId(), textSuffix)
		case !archived && src.GetReadOn() != "":
			v.at(r, []any{"read_on"}, "read_on %s, but sources/%s%s holds no text: archive the passages read, or clear read_on", src.GetReadOn(), src.GetId(), textSuffix)
		}
		v.copyMark(r, src)
	}
	return texts
}

// copyMark refuses a source marked as the primary text that was read in a
// copy on another site without naming the original: only a faithful copy
// of an official text, whose original is named, stands for the text itself.
// A variant address on the publisher's own site (a frame, a language
// parameter) is not a copy.
func (v *validator) copyMark(r *record, src *safethirdv1.Source) {
	if src.GetKind() != safethirdv1.SourceKind_SOURCE_KIND_PRIMARY || src.GetReadAt() == "" || src.GetOriginalUrl() != "" {
		return
	}
	if host(src.GetReadAt()) != host(src.GetUrl()) {
		v.at(r, []any{"kind"}, "kind SOURCE_KIND_PRIMARY, but it was read in a copy at %s: set original_url to the official original, or mark it SOURCE_KIND_SECONDARY", host(src.GetReadAt()))
	}
}

// host is an address's host name without "www.", or the address when it
// does not parse.
func host(address string) string {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return address
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}
