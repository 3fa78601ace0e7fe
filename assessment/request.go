package assessment

import (
	"cmp"
	"context"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/internal/isocode"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// DefaultFramework is the framework applied when a request names none.
const DefaultFramework = "us-ina-208a2a"

// query is a validated, normalized question for one country.
type query struct {
	// ctx is the call's: conditions stop when it is done.
	ctx       context.Context
	country   *safethirdv1.Country
	framework *safethirdv1.Framework
	// jurisdiction is the state applying the framework: its own
	// jurisdiction, or the request's applying state where several apply it.
	jurisdiction string
	asOf         string
	applicant    *safethirdv1.Applicant // nil when none was given
	// facts is the applicant's encodeFacts when made once for many
	// answers (a route's), the key of each in the memo; nil otherwise.
	facts []byte
	full  bool
	// lastPresence is the country of last presence when known from a route;
	// empty means the assessed country is taken to be it.
	lastPresence string
	// alternatives asks for the answer under each value of the facts not
	// given that would change it (alternatives.go): for AssessCountry's
	// answers to an applicant, not for those a route, a timeline or an
	// alternative itself works out.
	alternatives bool
	// decideOnly stops an answer at its outcome, without the text, the
	// sources or the grounds to contest: all an alternative or a day of a
	// timeline needs.
	decideOnly bool
	// transient keeps the criteria it evaluates out of the Engine's memo:
	// a timeline asks about many days once each, and would crowd out the
	// questions asked again.
	transient bool
}

// frameworkFor resolves a framework id, applying the default.
func frameworkFor(snap *dataset.Snapshot, id string) (*safethirdv1.Framework, error) {
	if id == "" {
		id = DefaultFramework
	}
	f, ok := snap.Framework(id)
	if !ok {
		return nil, &NotFoundError{Kind: KindFramework, ID: id}
	}
	return f, nil
}

// checkCountry looks up a country code that has the shape the field rules
// require: whether it is assigned is the dataset's to say.
func checkCountry(snap *dataset.Snapshot, v *violations, field, code string) *safethirdv1.Country {
	up, _ := isocode.Normalize(code)
	c, ok := snap.Country(up)
	if !ok {
		v.add(field, "%q is not an assigned ISO 3166-1 alpha-2 code", up)
		return nil
	}
	return c
}

// checkApplicant checks the applicant's facts against the dataset and the
// date assessed: the codes are assigned, and the first entry does not
// follow the date. Descriptions name the field and the rule, never the
// value: these facts are sensitive.
func checkApplicant(snap *dataset.Snapshot, v *violations, field string, a *safethirdv1.Applicant, asOf string) {
	if a == nil {
		return
	}
	if a.EntryDate != nil && !v.has("as_of") && a.GetEntryDate() > asOf {
		v.add(field+".entry_date", "must not be after as_of: the person's first entry cannot follow the date assessed")
	}
	assigned := func(name, code string) {
		if _, ok := snap.Country(code); !ok {
			v.add(field+"."+name, "must be an assigned ISO 3166-1 alpha-2 code in upper case")
		}
	}
	if a.NationalityCode != nil {
		assigned("nationality_code", a.GetNationalityCode())
	}
	if a.LastHabitualResidenceCode != nil {
		assigned("last_habitual_residence_code", a.GetLastHabitualResidenceCode())
	}
	// In the fields' order, so the violations come in the same order every time.
	for _, l := range []struct {
		name string
		list *safethirdv1.CountryList
	}{
		{"countries_crossed", a.GetCountriesCrossed()}, {"family_countries", a.GetFamilyCountries()},
		{"previous_stay_countries", a.GetPreviousStayCountries()},
		{"parent_or_guardian_countries", a.GetParentOrGuardianCountries()}, {"visa_free_countries", a.GetVisaFreeCountries()},
	} {
		for i, code := range l.list.GetCountryCodes() {
			assigned(l.name+".country_codes["+strconv.Itoa(i)+"]", code)
		}
	}
}

// newQuery validates an AssessCountryRequest.
func (e *Engine) newQuery(ctx context.Context, req *safethirdv1.AssessCountryRequest, today string) (*query, error) {
	v, _, err := e.checkRules(ctx, req)
	if err != nil {
		return nil, err
	}
	country := checkCountry(e.snap, &v, "country_code", req.GetCountryCode())
	q, err := checkCommon(e.snap, &v, req, today)
	if err != nil {
		return nil, err
	}
	q.country = country
	return q, nil
}

// commonFields are the fields every assessment request has.
type commonFields interface {
	GetFrameworkId() string
	GetApplyingStateCode() string
	GetAsOf() string
	GetView() safethirdv1.AssessmentView
	GetApplicant() *safethirdv1.Applicant
}

// checkCommon checks, against the dataset, the fields every request has
// (whose rules the caller has checked), reports every violation collected
// in v (the caller's own fields included), then resolves the framework.
func checkCommon(snap *dataset.Snapshot, v *violations, req commonFields, today string) (*query, error) {
	asOf := cmp.Or(req.GetAsOf(), today)
	full := req.GetView() != safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC
	checkApplicant(snap, v, "applicant", req.GetApplicant(), asOf)
	if err := v.err(); err != nil {
		return nil, err
	}
	f, err := frameworkFor(snap, req.GetFrameworkId())
	if err != nil {
		return nil, err
	}
	jurisdiction, err := applyingState(snap, f, req.GetApplyingStateCode())
	if err != nil {
		return nil, err
	}
	return &query{ctx: context.Background(), framework: f, jurisdiction: jurisdiction, asOf: asOf, applicant: normalized(req.GetApplicant()), full: full}, nil
}

// applyingState resolves the jurisdiction: the framework's own, or, for a
// framework several states apply, the applying state the request names.
func applyingState(snap *dataset.Snapshot, f *safethirdv1.Framework, code string) (string, error) {
	var v violations
	switch {
	case f.GetApplyingStateRequired() && code == "":
		v.add("applying_state_code", "is required for framework %s: the ISO 3166-1 alpha-2 code of the state applying it, such as GR", f.GetId())
	case f.GetApplyingStateRequired():
		if c := checkCountry(snap, &v, "applying_state_code", code); c != nil {
			return c.GetCode(), nil
		}
	case code != "":
		v.add("applying_state_code", "must be empty for framework %s, which one state applies (%s)", f.GetId(), f.GetJurisdictionCode())
	default:
		return f.GetJurisdictionCode(), nil
	}
	return "", v.err()
}

// withCountriesCrossed gives the applicant the countries of a route as the
// countries crossed, unless the caller gave them; the request is the
// caller's, so a copy is changed.
func withCountriesCrossed(a *safethirdv1.Applicant, crossed []*safethirdv1.Country) *safethirdv1.Applicant {
	if a.GetCountriesCrossed() != nil {
		return a
	}
	c := proto.Clone(a).(*safethirdv1.Applicant)
	c.CountriesCrossed = &safethirdv1.CountryList{}
	for _, country := range crossed {
		c.CountriesCrossed.CountryCodes = append(c.CountriesCrossed.CountryCodes, country.GetCode())
	}
	return c
}

// normalized makes explicit what the facts given already say: a person
// whose nationality is given is not stateless. The request is the
// caller's, so a copy is changed.
func normalized(a *safethirdv1.Applicant) *safethirdv1.Applicant {
	if a == nil || a.NationalityCode == nil || a.Stateless != nil {
		return a
	}
	c := proto.Clone(a).(*safethirdv1.Applicant)
	c.Stateless = proto.Bool(false)
	return c
}
