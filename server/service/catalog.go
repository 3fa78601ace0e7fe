package service

import (
	"context"
	"fmt"

	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/internal/isocode"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/rpcstatus"
	"github.com/safethird/safethird/server/store"
)

var _ safethirdv1.CatalogServiceServer = (*CatalogServer)(nil)

// CatalogServer serves CatalogService from the current Snapshot.
type CatalogServer struct {
	safethirdv1.UnimplementedCatalogServiceServer
	store *store.Store
	errs  rpcstatus.Mapper
}

// current resolves the Snapshot for a call and records its revision.
func (s *CatalogServer) current(ctx context.Context) (*dataset.Snapshot, error) {
	eng, err := s.store.Current()
	if err != nil {
		return nil, err
	}
	callinfo.RecordRevision(ctx, eng.Snapshot().Revision())
	return eng.Snapshot(), nil
}

// forPage resolves the Snapshot for a page: the first page's revision
// while the server still holds it, else the current one (keyed pages stay
// correct across revisions).
func (s *CatalogServer) forPage(ctx context.Context, pr pageRequest) (*dataset.Snapshot, error) {
	cur, err := s.store.Current()
	if err != nil {
		return nil, err
	}
	eng, err := s.store.Pinned(cur, pr.token.Revision)
	if err != nil { // a revision no longer held
		eng = cur
	}
	callinfo.RecordRevision(ctx, eng.Snapshot().Revision())
	return eng.Snapshot(), nil
}

func (s *CatalogServer) GetCountry(ctx context.Context, req *safethirdv1.GetCountryRequest) (*safethirdv1.GetCountryResponse, error) {
	// The validate link has held country_code to its rules in the proto:
	// two ASCII letters, which Normalize upper-cases.
	code, _ := isocode.Normalize(req.GetCountryCode())
	snap, err := s.current(ctx)
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	c, ok := snap.Country(code)
	if !ok {
		return nil, s.errs.Err(ctx, rpcstatus.RecordNotFound(safethirdv1.ErrorReason_ERROR_REASON_COUNTRY_NOT_FOUND, "country", code))
	}
	return &safethirdv1.GetCountryResponse{Country: c}, nil
}

func (s *CatalogServer) ListCountries(ctx context.Context, req *safethirdv1.ListCountriesRequest) (*safethirdv1.ListCountriesResponse, error) {
	listing := "countries"
	if req.GetCuratedOnly() {
		listing = "countries?curated_only=true"
	}
	pr, err := parsePage(listing, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	snap, err := s.forPage(ctx, pr)
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	countries := snap.Countries()
	if req.GetCuratedOnly() {
		var curated []*safethirdv1.Country
		for _, c := range countries {
			if c.GetCurated() {
				curated = append(curated, c)
			}
		}
		countries = curated
	}
	page, next := paginate(countries, (*safethirdv1.Country).GetCode, pr, snap.Revision())
	return &safethirdv1.ListCountriesResponse{Countries: page, NextPageToken: next}, nil
}

func (s *CatalogServer) GetAgreement(ctx context.Context, req *safethirdv1.GetAgreementRequest) (*safethirdv1.GetAgreementResponse, error) {
	id := req.GetAgreementId() // set and shaped: the field rules say so
	snap, err := s.current(ctx)
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	a, ok := snap.Agreement(id)
	if !ok {
		return nil, s.errs.Err(ctx, rpcstatus.RecordNotFound(safethirdv1.ErrorReason_ERROR_REASON_AGREEMENT_NOT_FOUND, "agreement", id))
	}
	return &safethirdv1.GetAgreementResponse{Agreement: a}, nil
}

func (s *CatalogServer) ListAgreements(ctx context.Context, req *safethirdv1.ListAgreementsRequest) (*safethirdv1.ListAgreementsResponse, error) {
	pr, err := parsePage("agreements", req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	snap, err := s.forPage(ctx, pr)
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	ids, next := paginate(snap.AgreementIDs(), func(id string) string { return id }, pr, snap.Revision())
	resp := &safethirdv1.ListAgreementsResponse{NextPageToken: next}
	for _, id := range ids {
		a, _ := snap.Agreement(id)
		resp.Agreements = append(resp.Agreements, a)
	}
	return resp, nil
}

func (s *CatalogServer) GetFramework(ctx context.Context, req *safethirdv1.GetFrameworkRequest) (*safethirdv1.GetFrameworkResponse, error) {
	id := req.GetFrameworkId() // set and shaped: the field rules say so
	snap, err := s.current(ctx)
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	f, ok := snap.Framework(id)
	if !ok {
		return nil, s.errs.Err(ctx, rpcstatus.RecordNotFound(safethirdv1.ErrorReason_ERROR_REASON_FRAMEWORK_NOT_FOUND, "framework", id))
	}
	return &safethirdv1.GetFrameworkResponse{Framework: f}, nil
}

func (s *CatalogServer) ListFrameworks(ctx context.Context, req *safethirdv1.ListFrameworksRequest) (*safethirdv1.ListFrameworksResponse, error) {
	pr, err := parsePage("frameworks", req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	snap, err := s.forPage(ctx, pr)
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	ids, next := paginate(snap.FrameworkIDs(), func(id string) string { return id }, pr, snap.Revision())
	resp := &safethirdv1.ListFrameworksResponse{NextPageToken: next}
	for _, id := range ids {
		f, _ := snap.Framework(id)
		resp.Frameworks = append(resp.Frameworks, f)
	}
	return resp, nil
}

func (s *CatalogServer) ListRevisions(ctx context.Context, req *safethirdv1.ListRevisionsRequest) (*safethirdv1.ListRevisionsResponse, error) {
	pr, err := parsePage("revisions", req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	cur, err := s.store.Current()
	if err != nil {
		return nil, s.errs.Err(ctx, err)
	}
	callinfo.RecordRevision(ctx, cur.Snapshot().Revision())
	// Keyed by position in the listing's order (live, held, archived),
	// which a reload or a scan may shift: a page after one is a best effort.
	var items []*safethirdv1.DatasetRevision
	for _, r := range s.store.Revisions(cur) {
		items = append(items, &safethirdv1.DatasetRevision{Revision: r.ID, SealedOn: r.SealedOn, Sequence: r.Sequence, Live: r.Live, Archived: r.Archived})
	}
	keys := make(map[*safethirdv1.DatasetRevision]string, len(items))
	for i, r := range items {
		keys[r] = fmt.Sprintf("%06d", i)
	}
	page, next := paginate(items, func(r *safethirdv1.DatasetRevision) string { return keys[r] }, pr, cur.Snapshot().Revision())
	return &safethirdv1.ListRevisionsResponse{Revisions: page, NextPageToken: next}, nil
}
