package condition

import (
	"slices"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Reads says what of the applicant a condition reads: the top-level
// Applicant fields it selects (whatever it then reads inside them), and
// whether it may read anything else of it: it names `applicant` other
// than to select a field (binds it to another name, compares or passes it
// whole). Two applicants that agree on every field read give the condition
// the same value; with Whole, only two equal applicants do.
type Reads struct {
	Fields []protoreflect.FieldDescriptor
	Whole  bool
}

// Reads returns what of the applicant the condition reads.
func (p *Program) Reads() Reads { return p.reads }

// applicantReads finds what of the applicant a checked expression reads.
// Every use of the applicant goes through its identifier: one that is the
// operand of a field selection reads that field; any other may read all.
func applicantReads(checked *cel.Ast) Reads {
	fields := (&safethirdv1.Applicant{}).ProtoReflect().Descriptor().Fields()
	root := celast.NavigateAST(checked.NativeRep())
	var r Reads
	selected := map[int64]bool{} // ids of the applicant identifiers that are selected from
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.SelectKind)) {
		sel := e.AsSelect()
		if sel.Operand().Kind() != celast.IdentKind || sel.Operand().AsIdent() != variable {
			continue
		}
		selected[sel.Operand().ID()] = true
		fd := fields.ByName(protoreflect.Name(sel.FieldName()))
		switch {
		case fd == nil: // a name that is not the applicant's (a shadowing variable): take no chance
			r.Whole = true
		case !slices.Contains(r.Fields, fd):
			r.Fields = append(r.Fields, fd)
		}
	}
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.IdentKind)) {
		if e.AsIdent() == variable && !selected[e.ID()] {
			r.Whole = true
		}
	}
	// The groups are read with declared_groups, which says whether they
	// are all the person's (groups.go).
	if slices.Contains(r.Fields, groupsField) && !slices.Contains(r.Fields, declaredGroupsField) {
		r.Fields = append(r.Fields, declaredGroupsField)
	}
	return r
}
