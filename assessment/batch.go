package assessment

import (
	"context"
	"fmt"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// ItemResult is one item of a batch: an assessment or an error.
type ItemResult struct {
	Assessment *safethirdv1.Assessment
	Err        error
}

// EngineFor resolves the Engine over the snapshot an item pins by
// dataset_revision (empty: the current one); the caller owns the set of
// revisions.
type EngineFor func(revision string) (*Engine, error)

// BatchAssessCountries assesses each request on its own, in order: a bad
// item gets its own error and does not fail the batch. Only a batch that is
// empty or over MaxBatchItems fails as a whole.
func BatchAssessCountries(engineFor EngineFor, req *safethirdv1.BatchAssessCountriesRequest, today string) ([]ItemResult, error) {
	return BatchAssessCountriesContext(context.Background(), engineFor, req, today)
}

// BatchAssessCountriesContext is BatchAssessCountries for a call: when ctx
// is done, the item being assessed stops and gets ctx's error.
func BatchAssessCountriesContext(ctx context.Context, engineFor EngineFor, req *safethirdv1.BatchAssessCountriesRequest, today string) ([]ItemResult, error) {
	n := len(req.GetRequests())
	switch {
	case n == 0:
		return nil, &InvalidArgumentError{Violations: []FieldViolation{{Field: "requests", Description: "is required: 1 to 100 requests"}}}
	case n > MaxBatchItems:
		return nil, &InvalidArgumentError{TooMany: true, Violations: []FieldViolation{{
			Field: "requests", Description: fmt.Sprintf("has %d items; at most %d are allowed", n, MaxBatchItems)}}}
	}
	out := make([]ItemResult, n)
	for i, r := range req.GetRequests() {
		e, err := engineFor(r.GetDatasetRevision())
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Assessment, out[i].Err = e.AssessCountryContext(ctx, r, today)
	}
	return out, nil
}
