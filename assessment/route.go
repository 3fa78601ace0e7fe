package assessment

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// AssessRoute answers an AssessRouteRequest: it assesses every country
// crossed and every partner of an agreement of the framework's
// jurisdiction, with the last leg as the country of last presence, and
// gives the overall outcome for the applicant. A request without an
// applicant is taken as an applicant whose facts are all unknown.
func (e *Engine) AssessRoute(req *safethirdv1.AssessRouteRequest, today string) (*safethirdv1.AssessRouteResponse, error) {
	return e.AssessRouteContext(context.Background(), req, today)
}

// AssessRouteContext is AssessRoute for a call: when ctx is done, the
// evaluation stops and ctx's error is returned.
func (e *Engine) AssessRouteContext(ctx context.Context, req *safethirdv1.AssessRouteRequest, today string) (*safethirdv1.AssessRouteResponse, error) {
	v, tooMany, err := e.checkRules(ctx, req)
	if err != nil {
		return nil, err
	}
	if tooMany {
		return nil, &InvalidArgumentError{Violations: v, TooMany: true}
	}
	snap := e.snap
	var crossed []*safethirdv1.Country
	for i, leg := range req.GetLegs() {
		if c := checkCountry(snap, &v, "legs["+strconv.Itoa(i)+"].country_code", leg.GetCountryCode()); c != nil {
			crossed = append(crossed, c)
		}
	}
	base, err := checkCommon(snap, &v, req, today)
	if err != nil {
		return nil, err
	}
	if base.applicant == nil {
		base.applicant = &safethirdv1.Applicant{}
	}
	base.applicant = withCountriesCrossed(base.applicant, crossed)
	// Every answer of the route is looked up under the same applicant's
	// facts: encoded once (an applicant that cannot be encoded is left to
	// each lookup, which then keeps nothing).
	base.facts, _ = encodeFacts(base.applicant)
	base.lastPresence = crossed[len(crossed)-1].GetCode()
	base.ctx = ctx
	f := base.framework

	var candidates []*safethirdv1.Country
	seen := map[string]bool{}
	add := func(c *safethirdv1.Country) {
		if !seen[c.GetCode()] {
			seen[c.GetCode()] = true
			candidates = append(candidates, c)
		}
	}
	for _, c := range crossed {
		add(c)
	}
	partners := snap.PartnersOf(base.jurisdiction)
	slices.Sort(partners)
	for _, code := range partners {
		if c, ok := snap.Country(code); ok {
			add(c)
		}
	}

	resp := &safethirdv1.AssessRouteResponse{DatasetRevision: snap.Revision()}
	for _, c := range candidates {
		q := *base
		q.country = c
		resp.Assessments = append(resp.Assessments, e.assess(&q))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp.Outcome, resp.Summary = routeOutcome(f, base.asOf, resp.Assessments)
	return resp, nil
}

// routeOutcome: the bar may apply if any country allows it; else facts
// are missing; else the evidence does not decide; else it does not apply.
func routeOutcome(f *safethirdv1.Framework, asOf string, as []*safethirdv1.Assessment) (safethirdv1.ApplicantOutcome, string) {
	byOutcome := map[safethirdv1.ApplicantOutcome][]string{}
	for _, a := range as {
		byOutcome[a.GetApplicantOutcome()] = append(byOutcome[a.GetApplicantOutcome()], fmt.Sprintf("%s (%s)", a.GetCountryName(), a.GetCountryCode()))
	}
	head := fmt.Sprintf("As of %s, under %s, for the route given:", asOf, f.GetCitation())
	for _, o := range []struct {
		outcome safethirdv1.ApplicantOutcome
		text    string
	}{
		{safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY, "the bar may apply, because the person could be sent to %s under an agreement and nothing given rules it out."},
		{safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS, "whether the bar applies depends on facts not given, for %s; see each assessment's missing facts."},
		{safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE, "the dataset's evidence does not decide whether the bar applies, for %s."},
	} {
		if names := byOutcome[o.outcome]; len(names) > 0 {
			return o.outcome, strings.Join([]string{head, fmt.Sprintf(o.text, strings.Join(names, ", ")), sentence(f.GetDiscretion()), Disclaimer}, " ")
		}
	}
	return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY,
		strings.Join([]string{head, "the bar does not apply: no country assessed could receive the person under an agreement that covers them.", Disclaimer}, " ")
}
