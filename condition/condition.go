// Package condition compiles and evaluates the CEL conditions the dataset
// attaches to frameworks' applicability rules, agreements' scopes and
// exceptions, and group findings. A condition is a boolean CEL expression
// over `applicant`, a safethird.v1.Applicant, `country_code`, the
// ISO 3166-1 alpha-2 code of the country assessed, `jurisdiction_code`, that
// of the state applying the framework (the destination), and `as_of`, the
// date assessed (YYYY-MM-DD). Dates are strings that compare in date order; the
// function add_years(date, n) gives the same day n years later.
//
// A fact the caller did not give is unknown, not false: every Applicant field
// with presence that is unset is marked unknown for CEL's partial
// evaluation, so a condition that hinges on it evaluates to Unknown and
// names the fields that would decide it. The person's groups are known only
// as far as the facts say (groups.go): a condition that hinges on a group
// not listed names declared_groups.
package condition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// The names the conditions use for the applicant, the assessed country
// and the date assessed.
const (
	variable             = "applicant"
	countryVariable      = "country_code"
	jurisdictionVariable = "jurisdiction_code"
	asOfVariable         = "as_of"
	// addYearsOverload is add_years's one overload, (string, int) -> string.
	addYearsOverload = "add_years_string_int"
)

// Value is the three-valued result of a condition.
type Value int

const (
	// Unknown means the condition hinges on facts that were not given.
	Unknown Value = iota
	// True means the condition holds on the facts given.
	True
	// False means it does not hold on the facts given.
	False
)

// String returns the value's name.
func (v Value) String() string {
	switch v {
	case True:
		return "true"
	case False:
		return "false"
	default:
		return "unknown"
	}
}

// Result is the outcome of evaluating a condition for one applicant.
type Result struct {
	// Value is the condition's value.
	Value Value
	// Missing names the Applicant fields, by proto name, whose absence made
	// the value Unknown; sorted, without duplicates.
	Missing []string
}

// Env compiles conditions. It is safe for concurrent use.
type Env struct {
	env     *cel.Env
	maxCost uint64
}

// NewEnv returns an environment that declares `applicant`, `country_code`
// and the safethird.v1 types, with safethird.v1 as the container so enum
// constants may be written with or without the package prefix. Each
// condition it compiles is bounded by maxCost (see Compile); 0 means
// DefaultMaxCost.
func NewEnv(maxCost uint64) (*Env, error) {
	if maxCost == 0 {
		maxCost = DefaultMaxCost
	}
	env, err := cel.NewEnv(
		cel.Container("safethird.v1"),
		cel.Types(&safethirdv1.Applicant{}),
		cel.Variable(variable, cel.ObjectType(string((&safethirdv1.Applicant{}).ProtoReflect().Descriptor().FullName()))),
		cel.Variable(countryVariable, cel.StringType),
		cel.Variable(jurisdictionVariable, cel.StringType),
		cel.Variable(asOfVariable, cel.StringType),
		cel.Function("add_years",
			cel.Overload(addYearsOverload, []*cel.Type{cel.StringType, cel.IntType}, cel.StringType,
				cel.BinaryBinding(addYears))),
	)
	if err != nil {
		return nil, fmt.Errorf("create CEL environment: %w", err)
	}
	return &Env{env: env, maxCost: maxCost}, nil
}

// Program is a compiled condition. It is safe for concurrent use.
type Program struct {
	source string
	prg    cel.Program
	// fields are the Applicant fields with presence that the condition
	// reads; only their absence can make it unknown.
	fields []protoreflect.FieldDescriptor
	// reads is all it reads of the applicant (reads.go).
	reads Reads
	// groups is how it reads the applicant's groups (groups.go).
	groups groupUse
	// dates is what it compares the date assessed with (dates.go).
	dates datesOf
}

// Source returns the expression the program was compiled from.
func (p *Program) Source() string { return p.source }

// Compile parses and type-checks expression, which must be of type bool,
// and estimates its cost: a condition whose worst case, for an applicant
// within the sizes in estimator.go, is over the Env's limit is refused
// with a *CostError. The program it returns stops at that limit whatever
// the applicant, and when the context of Eval is done.
func (e *Env) Compile(expression string) (*Program, error) {
	ast, iss := e.env.Compile(expression)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, fmt.Errorf("condition has type %s, want bool", ast.OutputType())
	}
	est, err := e.env.EstimateCost(ast, sizeHints{})
	if err != nil {
		return nil, fmt.Errorf("estimate the condition's cost: %w", err)
	}
	if est.Max > e.maxCost {
		return nil, &CostError{Estimate: est.Max, Limit: e.maxCost}
	}
	prg, err := e.env.Program(ast, cel.EvalOptions(cel.OptPartialEval),
		cel.CostLimit(e.maxCost), cel.InterruptCheckFrequency(interruptEvery))
	if err != nil {
		return nil, fmt.Errorf("plan condition: %w", err)
	}
	return &Program{source: expression, prg: prg, fields: referencedFields(ast), reads: applicantReads(ast), groups: applicantGroupsUse(ast), dates: conditionDates(ast)}, nil
}

// referencedFields lists the Applicant fields with presence that the
// expression selects directly from `applicant`.
func referencedFields(checked *cel.Ast) []protoreflect.FieldDescriptor {
	fields := (&safethirdv1.Applicant{}).ProtoReflect().Descriptor().Fields()
	var out []protoreflect.FieldDescriptor
	for _, e := range celast.MatchDescendants(celast.NavigateAST(checked.NativeRep()), celast.KindMatcher(celast.SelectKind)) {
		sel := e.AsSelect()
		if sel.Operand().Kind() != celast.IdentKind || sel.Operand().AsIdent() != variable {
			continue
		}
		fd := fields.ByName(protoreflect.Name(sel.FieldName()))
		if fd != nil && fd.HasPresence() && !slices.Contains(out, fd) {
			out = append(out, fd)
		}
	}
	return out
}

// addYears is add_years(date, n): the YYYY-MM-DD date n years after date,
// a day that does not exist (29 February) rolling over to the next. A
// malformed date is an error, which makes the condition fail rather than
// guess.
func addYears(date, years ref.Val) ref.Val {
	d, ok := date.(types.String)
	n, okN := years.(types.Int)
	if !ok || !okN {
		return types.NewErr("add_years: want (string, int)")
	}
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return types.NewErr("add_years: %q is not a YYYY-MM-DD date", string(d))
	}
	return types.String(t.AddDate(int(n), 0, 0).Format(time.DateOnly))
}

// Input is what a condition is evaluated on.
type Input struct {
	// Applicant holds the person's facts; nil has every fact unknown.
	Applicant *safethirdv1.Applicant
	// CountryCode is the ISO 3166-1 alpha-2 code of the country assessed.
	CountryCode string
	// JurisdictionCode is that of the state applying the framework.
	JurisdictionCode string
	// AsOf is the date assessed, YYYY-MM-DD.
	AsOf string
}

// activation binds the variables without the map and pattern allocations
// of a partial activation, for the common case where every fact the
// condition reads was given.
type activation struct{ in Input }

func (a activation) ResolveName(name string) (any, bool) {
	switch name {
	case variable:
		return a.in.Applicant, true
	case countryVariable:
		return a.in.CountryCode, true
	case jurisdictionVariable:
		return a.in.JurisdictionCode, true
	case asOfVariable:
		return a.in.AsOf, true
	}
	return nil, false
}

func (activation) Parent() interpreter.Activation { return nil }

// Eval evaluates the condition on in. A nil applicant has every fact
// unknown. It stops, with an error wrapping ctx's, when ctx is done, and
// with ErrCostLimit at the Env's cost limit; either way the result is not
// the condition's value.
func (p *Program) Eval(ctx context.Context, in Input) (Result, error) {
	if in.Applicant == nil {
		in.Applicant = &safethirdv1.Applicant{}
	}
	if p.groups.reads {
		return p.evalGroups(ctx, in)
	}
	return p.eval(ctx, in, nil)
}

// eval evaluates the condition once, with the unset fields it reads, and
// those of unknown, marked unknown; it stops first if ctx is done.
func (p *Program) eval(ctx context.Context, in Input, unknown []*cel.AttributePatternType) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("evaluate %q: %w", p.source, err)
	}
	var act any = activation{in}
	if patterns := append(p.unknownPatterns(in.Applicant), unknown...); len(patterns) > 0 {
		partial, err := cel.PartialVars(map[string]any{variable: in.Applicant, countryVariable: in.CountryCode, jurisdictionVariable: in.JurisdictionCode, asOfVariable: in.AsOf}, patterns...)
		if err != nil {
			return Result{}, fmt.Errorf("bind applicant: %w", err)
		}
		act = partial
	}
	out, _, err := p.prg.ContextEval(ctx, act)
	if err != nil {
		return Result{}, evalError(ctx, p.source, err)
	}
	switch v := out.(type) {
	case types.Bool:
		if v {
			return Result{Value: True}, nil
		}
		return Result{Value: False}, nil
	case *types.Unknown:
		return Result{Value: Unknown, Missing: missingFields(v)}, nil
	default:
		return Result{}, fmt.Errorf("evaluate %q: got %s, want bool", p.source, out.Type())
	}
}

// unknownPatterns marks each unset Applicant field the condition reads as
// unknown. Repeated fields have no presence; groups are read as groups.go
// says.
func (p *Program) unknownPatterns(applicant *safethirdv1.Applicant) []*cel.AttributePatternType {
	m := applicant.ProtoReflect()
	var patterns []*cel.AttributePatternType
	for _, fd := range p.fields {
		if !m.Has(fd) {
			patterns = append(patterns, cel.AttributePattern(variable).QualString(string(fd.Name())))
		}
	}
	return patterns
}

// missingFields turns the attribute trails of an unknown into field names.
func missingFields(u *types.Unknown) []string {
	var names []string
	for _, id := range u.IDs() {
		trails, _ := u.GetAttributeTrails(id)
		for _, t := range trails {
			if path := t.QualifierPath(); len(path) > 0 {
				if name, ok := path[0].(string); ok {
					if name == string(groupsField.Name()) {
						name = DeclaredGroups // the fact that would make them known
					}
					names = append(names, name)
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// evalError says why an evaluation stopped: the context (its error is
// wrapped, so callers can tell a cancelled call from a bad condition), the
// cost limit, or the condition itself.
func evalError(ctx context.Context, source string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("evaluate %q: %w", source, cerr)
	}
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return fmt.Errorf("evaluate %q: %w", source, ErrCostLimit)
	}
	return fmt.Errorf("evaluate %q: %w", source, err)
}
