package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// AssessCountry assesses one country and returns the assessment.
func (c *Client) AssessCountry(ctx context.Context, req *safethirdv1.AssessCountryRequest, opts ...grpc.CallOption) (*safethirdv1.Assessment, error) {
	resp, err := c.assessment.AssessCountry(ctx, req, opts...)
	if err != nil {
		return nil, err
	}
	return resp.GetAssessment(), nil
}

// AssessRoute assesses every country a person who crossed req's legs could
// be sent to; the response carries the overall outcome and summary.
func (c *Client) AssessRoute(ctx context.Context, req *safethirdv1.AssessRouteRequest, opts ...grpc.CallOption) (*safethirdv1.AssessRouteResponse, error) {
	return c.assessment.AssessRoute(ctx, req, opts...)
}

// BatchAssessCountries assesses up to 100 countries in one call and returns
// one result per request, in order. An item that fails carries its own
// google.rpc.Status (BatchAssessResult.status, which Details reads with
// status.ErrorProto); only a malformed batch fails the call.
func (c *Client) BatchAssessCountries(ctx context.Context, reqs []*safethirdv1.AssessCountryRequest, opts ...grpc.CallOption) ([]*safethirdv1.BatchAssessResult, error) {
	resp, err := c.assessment.BatchAssessCountries(ctx, &safethirdv1.BatchAssessCountriesRequest{Requests: reqs}, opts...)
	if err != nil {
		return nil, err
	}
	if got, want := len(resp.GetResults()), len(reqs); got != want {
		return nil, fmt.Errorf("batch assess: server returned %d results for %d requests", got, want)
	}
	return resp.GetResults(), nil
}
