package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// GetCountry returns one country by its ISO 3166-1 alpha-2 code.
func (c *Client) GetCountry(ctx context.Context, code string, opts ...grpc.CallOption) (*safethirdv1.Country, error) {
	resp, err := c.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{CountryCode: code}, opts...)
	return resp.GetCountry(), err
}

// GetAgreement returns one agreement by id, e.g. "ca-us-stca".
func (c *Client) GetAgreement(ctx context.Context, id string, opts ...grpc.CallOption) (*safethirdv1.Agreement, error) {
	resp, err := c.catalog.GetAgreement(ctx, &safethirdv1.GetAgreementRequest{AgreementId: id}, opts...)
	return resp.GetAgreement(), err
}

// GetFramework returns one framework by id, e.g. "us-ina-208a2a".
func (c *Client) GetFramework(ctx context.Context, id string, opts ...grpc.CallOption) (*safethirdv1.Framework, error) {
	resp, err := c.catalog.GetFramework(ctx, &safethirdv1.GetFrameworkRequest{FrameworkId: id}, opts...)
	return resp.GetFramework(), err
}

// ListCountries returns every country, ordered by code, paging from req's
// page token (the first page when req is nil or has none). Set
// req.CuratedOnly for only the countries with curated data.
func (c *Client) ListCountries(ctx context.Context, req *safethirdv1.ListCountriesRequest, opts ...grpc.CallOption) ([]*safethirdv1.Country, error) {
	r := cloneOrNew(req)
	return collect(ctx, "list countries", r.GetPageToken(), func(ctx context.Context, token string) ([]*safethirdv1.Country, string, error) {
		r.PageToken = token
		resp, err := c.catalog.ListCountries(ctx, r, opts...)
		return resp.GetCountries(), resp.GetNextPageToken(), err
	})
}

// ListAgreements returns every agreement, ordered by id, paging as
// ListCountries does.
func (c *Client) ListAgreements(ctx context.Context, req *safethirdv1.ListAgreementsRequest, opts ...grpc.CallOption) ([]*safethirdv1.Agreement, error) {
	r := cloneOrNew(req)
	return collect(ctx, "list agreements", r.GetPageToken(), func(ctx context.Context, token string) ([]*safethirdv1.Agreement, string, error) {
		r.PageToken = token
		resp, err := c.catalog.ListAgreements(ctx, r, opts...)
		return resp.GetAgreements(), resp.GetNextPageToken(), err
	})
}

// ListFrameworks returns every framework, ordered by id, paging as
// ListCountries does.
func (c *Client) ListFrameworks(ctx context.Context, req *safethirdv1.ListFrameworksRequest, opts ...grpc.CallOption) ([]*safethirdv1.Framework, error) {
	r := cloneOrNew(req)
	return collect(ctx, "list frameworks", r.GetPageToken(), func(ctx context.Context, token string) ([]*safethirdv1.Framework, string, error) {
		r.PageToken = token
		resp, err := c.catalog.ListFrameworks(ctx, r, opts...)
		return resp.GetFrameworks(), resp.GetNextPageToken(), err
	})
}

// cloneOrNew copies req so paging never writes to the caller's message.
func cloneOrNew[M interface {
	proto.Message
	*T
}, T any](req M) M {
	if req == nil {
		return M(new(T))
	}
	return proto.Clone(req).(M)
}

// collect calls page until the server returns an empty next_page_token
// (AIP-158). A token the server hands back twice would loop forever, so it
// is an error.
func collect[T any](ctx context.Context, what, token string, page func(ctx context.Context, token string) ([]T, string, error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for {
		items, next, err := page(ctx, token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("%s: server repeated page token %q", what, next)
		}
		seen[next] = true
		token = next
	}
}
