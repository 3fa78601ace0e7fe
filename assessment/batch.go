package assessment

import (
	"context"

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
	// The batch's own rules (1 to MaxBatchItems items); each item's are
	// checked with the item, so that it fails alone.
	v, tooMany, err := checkRules(req)
	if err != nil {
		return nil, err
	}
	if len(v) > 0 {
		return nil, &InvalidArgumentError{Violations: v, TooMany: tooMany}
	}
	out := make([]ItemResult, len(req.GetRequests()))
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
