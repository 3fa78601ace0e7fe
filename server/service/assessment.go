// Package service implements safethird.v1's AssessmentService and
// CatalogService over the dataset store: each call resolves one Snapshot
// at its start, hands it to the engine or reads it, records the revision
// served, and maps its errors with rpcstatus. It knows nothing of the
// doors, the interceptor chain or the wire: whatever the protocol, a call
// reaches it as a gRPC handler call.
package service

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/assessment"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/rpcstatus"
	"github.com/safethird/safethird/server/store"
)

// Services are the service implementations, one of each, registered on
// every gRPC server of both doors.
type Services struct {
	Assessment *AssessmentServer
	Catalog    *CatalogServer
}

// New returns the services over st, mapping errors with errs; today gives
// the default as_of.
func New(st *store.Store, errs rpcstatus.Mapper, today func() string) Services {
	return Services{
		Assessment: &AssessmentServer{store: st, errs: errs, today: today},
		Catalog:    &CatalogServer{store: st, errs: errs},
	}
}

// Register registers both services on r.
func (svc Services) Register(r grpc.ServiceRegistrar) {
	safethirdv1.RegisterAssessmentServiceServer(r, svc.Assessment)
	safethirdv1.RegisterCatalogServiceServer(r, svc.Catalog)
}

var _ safethirdv1.AssessmentServiceServer = (*AssessmentServer)(nil)

// AssessmentServer serves AssessmentService: it resolves the Snapshot a
// call uses, once, hands it to the engine and maps the engine's errors.
type AssessmentServer struct {
	safethirdv1.UnimplementedAssessmentServiceServer
	store *store.Store
	errs  rpcstatus.Mapper
	today func() string
}

func (s *AssessmentServer) AssessCountry(ctx context.Context, req *safethirdv1.AssessCountryRequest) (*safethirdv1.AssessCountryResponse, error) {
	eng, err := s.store.Resolve(req.GetDatasetRevision())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	callinfo.RecordRevision(ctx, eng.Snapshot().Revision())
	a, err := eng.AssessCountryContext(ctx, req, s.today())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	return &safethirdv1.AssessCountryResponse{Assessment: a}, nil
}

// BatchAssessCountries resolves the current Snapshot once for the whole
// batch; an item that pins a revision gets that one. Each item's error is
// mapped as a whole call's would be.
func (s *AssessmentServer) BatchAssessCountries(ctx context.Context, req *safethirdv1.BatchAssessCountriesRequest) (*safethirdv1.BatchAssessCountriesResponse, error) {
	cur, err := s.store.Current()
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	engineFor := func(revision string) (*assessment.Engine, error) {
		// Past the deadline the remaining items are not worth computing.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		eng, err := s.store.ResolveFrom(cur, revision)
		if err == nil {
			callinfo.RecordRevision(ctx, eng.Snapshot().Revision())
		}
		return eng, err
	}
	items, err := assessment.BatchAssessCountriesContext(ctx, engineFor, req, s.today())
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	resp := &safethirdv1.BatchAssessCountriesResponse{Results: make([]*safethirdv1.BatchAssessResult, len(items))}
	for i, it := range items {
		if it.Err != nil {
			resp.Results[i] = failedItem(s.errs.Status(ctx, it.Err))
			continue
		}
		resp.Results[i] = &safethirdv1.BatchAssessResult{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: it.Assessment}}
	}
	return resp, nil
}

func (s *AssessmentServer) AssessRoute(ctx context.Context, req *safethirdv1.AssessRouteRequest) (*safethirdv1.AssessRouteResponse, error) {
	eng, err := s.store.Resolve(req.GetDatasetRevision())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	callinfo.RecordRevision(ctx, eng.Snapshot().Revision())
	resp, err := eng.AssessRouteContext(ctx, req, s.today())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	return resp, nil
}

func (s *AssessmentServer) AssessTimeline(ctx context.Context, req *safethirdv1.AssessTimelineRequest) (*safethirdv1.AssessTimelineResponse, error) {
	eng, err := s.store.Resolve(req.GetDatasetRevision())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	callinfo.RecordRevision(ctx, eng.Snapshot().Revision())
	resp, err := eng.AssessTimelineContext(ctx, req, s.today())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	return resp, nil
}

// failedItem is the result of a batch item that failed with st: st itself,
// with the details a whole call would carry, and the deprecated error that
// says the same to clients written before status.
func failedItem(st *status.Status) *safethirdv1.BatchAssessResult {
	return &safethirdv1.BatchAssessResult{Status: st.Proto(), Result: &safethirdv1.BatchAssessResult_Error{Error: itemError(st)}}
}

// itemError encodes a status as a batch item's deprecated error, with its
// code, message, reason and field violations.
func itemError(st *status.Status) *safethirdv1.BatchItemError {
	out := &safethirdv1.BatchItemError{Code: int32(st.Code()), Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			out.Reason = d.GetReason()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out.FieldViolations = append(out.FieldViolations, &safethirdv1.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return out
}
