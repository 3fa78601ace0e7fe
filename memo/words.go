package memo

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// Label is an enum value as a reader sees it: CRITERION_STATUS_NOT_MET is
// "NOT MET". The enum's prefix is its zero value's name less UNSPECIFIED,
// so a value added to the schema needs no change here.
func Label(e protoreflect.Enum) string {
	d := e.Descriptor()
	v := d.Values().ByNumber(e.Number())
	if v == nil {
		return fmt.Sprintf("%d", e.Number())
	}
	prefix := strings.TrimSuffix(string(d.Values().ByNumber(0).Name()), "UNSPECIFIED")
	return strings.ReplaceAll(strings.TrimPrefix(string(v.Name()), prefix), "_", " ")
}

// Sentences joins the non-empty parts as sentences, adding a full stop
// where a part has no closing punctuation of its own.
func Sentences(parts ...string) string {
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

// Secondary flags a source that reports on the text rather than being it.
func Secondary(s *pb.Source) string {
	if s.GetKind() == pb.SourceKind_SOURCE_KIND_SECONDARY {
		return "Secondary source"
	}
	return ""
}

// Published is a source's date, or says it is not known.
func Published(s *pb.Source) string {
	if s.GetPublished() == "" {
		return "Date not recorded"
	}
	return "Published " + s.GetPublished()
}

// Read says when and where the text archived for a source was read, and
// the original a copy stands for; empty when no text was archived.
func Read(s *pb.Source) string {
	if s.GetReadOn() == "" {
		return ""
	}
	out := "Read " + s.GetReadOn()
	if s.GetReadAt() != "" {
		out += " at " + s.GetReadAt()
	}
	if s.GetOriginalUrl() != "" {
		out += ", a copy of " + s.GetOriginalUrl()
	}
	return out + "."
}
