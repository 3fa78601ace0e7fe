package server

import (
	"context"

	"github.com/safethird/safethird/assessment"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

var _ safethirdv1.AssessmentServiceServer = (*assessmentServer)(nil)

// assessmentServer serves AssessmentService: it resolves the Snapshot a
// call uses, once, hands it to the engine and maps the engine's errors.
type assessmentServer struct {
	safethirdv1.UnimplementedAssessmentServiceServer
	store *store
	errs  errorMapper
	today func() string
}

func (s *assessmentServer) AssessCountry(ctx context.Context, req *safethirdv1.AssessCountryRequest) (*safethirdv1.AssessCountryResponse, error) {
	eng, err := s.store.Resolve(req.GetDatasetRevision())
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	recordRevision(ctx, eng.Snapshot().Revision())
	a, err := eng.AssessCountryContext(ctx, req, s.today())
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	return &safethirdv1.AssessCountryResponse{Assessment: a}, nil
}

// BatchAssessCountries resolves the current Snapshot once for the whole
// batch; an item that pins a revision gets that one. Each item's error is
// mapped as a whole call's would be.
func (s *assessmentServer) BatchAssessCountries(ctx context.Context, req *safethirdv1.BatchAssessCountriesRequest) (*safethirdv1.BatchAssessCountriesResponse, error) {
	cur, err := s.store.Current()
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	engineFor := func(revision string) (*assessment.Engine, error) {
		// Past the deadline the remaining items are not worth computing.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		eng, err := s.store.resolve(cur, revision)
		if err == nil {
			recordRevision(ctx, eng.Snapshot().Revision())
		}
		return eng, err
	}
	items, err := assessment.BatchAssessCountriesContext(ctx, engineFor, req, s.today())
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	resp := &safethirdv1.BatchAssessCountriesResponse{Results: make([]*safethirdv1.BatchAssessResult, len(items))}
	for i, it := range items {
		if it.Err != nil {
			resp.Results[i] = failedItem(s.errs.status(ctx, it.Err))
			continue
		}
		resp.Results[i] = &safethirdv1.BatchAssessResult{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: it.Assessment}}
	}
	return resp, nil
}

func (s *assessmentServer) AssessRoute(ctx context.Context, req *safethirdv1.AssessRouteRequest) (*safethirdv1.AssessRouteResponse, error) {
	eng, err := s.store.Resolve(req.GetDatasetRevision())
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	recordRevision(ctx, eng.Snapshot().Revision())
	resp, err := eng.AssessRouteContext(ctx, req, s.today())
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	return resp, nil
}

func (s *assessmentServer) AssessTimeline(ctx context.Context, req *safethirdv1.AssessTimelineRequest) (*safethirdv1.AssessTimelineResponse, error) {
	eng, err := s.store.Resolve(req.GetDatasetRevision())
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	recordRevision(ctx, eng.Snapshot().Revision())
	resp, err := eng.AssessTimelineContext(ctx, req, s.today())
	if err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	return resp, nil
}
