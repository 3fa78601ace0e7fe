package condition

import (
	"context"
	"slices"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// A person's groups are known only in part: Applicant.groups lists groups
// the person belongs to, and whether they belong to any other is unknown
// unless Applicant.declared_groups lists them all. CEL's partial
// evaluation marks whole fields unknown, not members of a list, so a
// condition on groups is evaluated for each membership the facts leave
// open, and its value is known only when every one gives the same.

// DeclaredGroups is the fact that makes the groups known; a condition that
// hinges on a group's membership names it among its missing facts.
const DeclaredGroups = "declared_groups"

var (
	groupsField         = applicantFields().ByName("groups")
	declaredGroupsField = applicantFields().ByName(DeclaredGroups)
)

func applicantFields() protoreflect.FieldDescriptors {
	return (&safethirdv1.Applicant{}).ProtoReflect().Descriptor().Fields()
}

// groupUse is how a condition reads the applicant's groups.
type groupUse struct {
	// reads is set when it reads applicant.groups at all.
	reads bool
	// membership is set when it reads them only as `G in applicant.groups`
	// for constant groups G, listed in mentioned: then only the membership
	// of those can change its value.
	membership bool
	mentioned  []safethirdv1.ApplicantGroup
}

// applicantGroupsUse finds how a checked expression reads applicant.groups.
func applicantGroupsUse(checked *cel.Ast) groupUse {
	native := checked.NativeRep()
	root := celast.NavigateAST(native)
	var use groupUse
	asMember := map[int64]bool{} // ids of applicant.groups selections tested for a constant member
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.CallKind)) {
		call := e.AsCall()
		if call.FunctionName() != operators.In || len(call.Args()) != 2 || !isApplicantGroups(call.Args()[1]) {
			continue
		}
		ref := native.ReferenceMap()[call.Args()[0].ID()]
		if ref == nil || ref.Value == nil {
			continue
		}
		n, ok := ref.Value.(types.Int)
		if !ok {
			continue
		}
		asMember[call.Args()[1].ID()] = true
		if g := safethirdv1.ApplicantGroup(n); !slices.Contains(use.mentioned, g) {
			use.mentioned = append(use.mentioned, g)
		}
	}
	use.membership = true
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.SelectKind)) {
		if isApplicantGroups(e) {
			use.reads = true
			use.membership = use.membership && asMember[e.ID()]
		}
	}
	return use
}

// isApplicantGroups reports whether e is the selection applicant.groups.
func isApplicantGroups(e celast.Expr) bool {
	if e.Kind() != celast.SelectKind {
		return false
	}
	sel := e.AsSelect()
	return sel.FieldName() == string(groupsField.Name()) && sel.Operand().Kind() == celast.IdentKind && sel.Operand().AsIdent() == variable
}

// evalGroups evaluates a condition that reads the applicant's groups.
// With declared_groups set, the groups are known: those of groups and of
// declared_groups. Otherwise the membership of each group the condition
// tests and the facts do not list is open: the condition is evaluated for
// every combination, and is known only if all agree; where they differ,
// declared_groups is among the missing facts. A condition that reads the
// groups other than by testing constant members may depend on any of
// them: the groups are then unknown as a whole unless declared.
func (p *Program) evalGroups(ctx context.Context, in Input) (Result, error) {
	a := in.Applicant
	known := slices.Clone(a.GetGroups())
	for _, g := range a.GetDeclaredGroups().GetGroups() {
		if !slices.Contains(known, g) {
			known = append(known, g)
		}
	}
	if a.GetDeclaredGroups() != nil || !p.groups.membership {
		if len(known) != len(a.GetGroups()) {
			in.Applicant = withGroups(a, known)
		}
		var unknown []*cel.AttributePatternType
		if a.GetDeclaredGroups() == nil {
			unknown = append(unknown, cel.AttributePattern(variable).QualString(string(groupsField.Name())))
		}
		return p.eval(ctx, in, unknown)
	}
	var open []safethirdv1.ApplicantGroup
	for _, g := range p.groups.mentioned {
		if !slices.Contains(known, g) {
			open = append(open, g)
		}
	}
	if len(open) == 0 {
		return p.eval(ctx, in, nil)
	}
	var first Result
	agree := true
	var missing []string
	c := withGroups(a, nil)
	in.Applicant = c
	for set := range 1 << len(open) {
		c.Groups = slices.Clone(known)
		for i, g := range open {
			if set&(1<<i) != 0 {
				c.Groups = append(c.Groups, g)
			}
		}
		r, err := p.eval(ctx, in, nil)
		if err != nil {
			return Result{}, err
		}
		if set == 0 {
			first = r
		}
		agree = agree && r.Value == first.Value && slices.Equal(r.Missing, first.Missing)
		missing = append(missing, r.Missing...)
	}
	if agree {
		return first, nil
	}
	missing = append(missing, DeclaredGroups)
	slices.Sort(missing)
	return Result{Value: Unknown, Missing: slices.Compact(missing)}, nil
}

// withGroups is a copy of the applicant with the groups given; the
// caller's applicant is never changed.
func withGroups(a *safethirdv1.Applicant, groups []safethirdv1.ApplicantGroup) *safethirdv1.Applicant {
	c := proto.Clone(a).(*safethirdv1.Applicant)
	c.Groups = groups
	return c
}

// Groups returns the groups whose membership the condition can turn on:
// those it tests with `G in applicant.groups`, or all (every is true) when
// it reads the groups otherwise; none when it does not read them.
func (p *Program) Groups() (groups []safethirdv1.ApplicantGroup, every bool) {
	if !p.groups.reads {
		return nil, false
	}
	return p.groups.mentioned, !p.groups.membership
}
