package condition

import (
	"errors"
	"fmt"

	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
)

// DefaultMaxCost bounds each condition, in CEL cost units (roughly one per
// value visited or compared). The dataset's conditions are estimated at 2
// to about 2,000; reaching 100,000 takes about 17 ms on the development VM
// (BenchmarkEvalToCostLimit), so no condition can hold a call, or the
// shutdown that waits for it, for long.
const DefaultMaxCost = 100_000

// interruptEvery is how many comprehension iterations pass between two
// checks of the context: often enough to stop within a millisecond or so,
// rarely enough to cost nothing measurable.
const interruptEvery = 100

// The sizes the cost estimate assumes for what the applicant sends. They are
// far above any real person's facts (a family of 100, every group and
// document repeated). A request beyond them is not refused here: its
// evaluation stops at the cost limit, which holds whatever the sizes.
const (
	maxListItems   = 100
	maxStringBytes = 64
)

// ErrCostLimit is wrapped by Eval's error when a condition reached the cost
// limit before it had a value.
var ErrCostLimit = errors.New("the condition reached its cost limit")

// CostError refuses a condition whose estimated worst case is over the limit.
type CostError struct {
	// Estimate is the worst-case cost estimated; Limit the most allowed.
	Estimate, Limit uint64
}

func (e *CostError) Error() string {
	return fmt.Sprintf("its estimated cost, up to %d, is over the limit of %d: nested comprehensions (all, exists, map, filter) multiply their sizes, so flatten them", e.Estimate, e.Limit)
}

// sizeHints gives the cost estimator the sizes of the applicant's lists
// and strings, which it cannot know from the types; without them every
// list would count as unbounded and any comprehension over one refused.
type sizeHints struct{}

func (sizeHints) EstimateSize(node cost.AstNode) *cost.SizeEstimate {
	path := node.Path()
	if len(path) == 0 || (path[0] != variable && path[0] != countryVariable && path[0] != jurisdictionVariable && path[0] != asOfVariable) {
		return nil // a literal or a value computed in the expression: CEL sizes it
	}
	var size cost.SizeEstimate
	switch node.Type().Kind() {
	case types.ListKind, types.MapKind:
		size = cost.SizeEstimate{Min: 0, Max: maxListItems}
	case types.StringKind, types.BytesKind:
		size = cost.SizeEstimate{Min: 0, Max: maxStringBytes}
	default:
		return nil
	}
	return &size
}

// EstimateCallCost gives the cost of add_years, a date's arithmetic on a
// YYYY-MM-DD string: constant, with a date-sized result. CEL estimates its
// own functions.
func (sizeHints) EstimateCallCost(_, overloadID string, _ *cost.AstNode, _ []cost.AstNode) *cost.CallEstimate {
	if overloadID != addYearsOverload {
		return nil
	}
	return &cost.CallEstimate{CostEstimate: cost.CostEstimate{Min: 1, Max: 1}, ResultSize: &cost.SizeEstimate{Min: 10, Max: 10}}
}
