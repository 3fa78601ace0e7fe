package assessment

import (
	"context"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/internal/isocode"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// DefaultFramework is the framework applied when a request names none.
const DefaultFramework = "us-ina-208a2a"

// Limits on request sizes.
const (
	MaxBatchItems = 100
	MaxRouteLegs  = 50
	maxAge        = 150
	maxDays       = 36500
	minYear       = 1900
	maxYear       = 2100
)

// countryShaped reports whether code is two upper-case ASCII letters.
func countryShaped(code string) bool {
	return len(code) == 2 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z'
}

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
	full         bool
	// lastPresence is the country of last presence when known from a route;
	// empty means the assessed country is taken to be it.
	lastPresence string
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

// checkCountry validates and normalizes a country code field.
func checkCountry(snap *dataset.Snapshot, v *violations, field, code string) *safethirdv1.Country {
	up, shaped := isocode.Normalize(code)
	switch {
	case code == "":
		v.add(field, "is required: an ISO 3166-1 alpha-2 code such as MX")
	case !shaped:
		v.add(field, "must be an ISO 3166-1 alpha-2 code: two letters, such as MX")
	default:
		c, ok := snap.Country(up)
		if !ok {
			v.add(field, "%q is not an assigned ISO 3166-1 alpha-2 code", up)
			return nil
		}
		return c
	}
	return nil
}

// checkDate validates as_of, defaulting to today.
func checkDate(v *violations, field, asOf, today string) string {
	if asOf == "" {
		return today
	}
	if !dateInRange(v, field, asOf) {
		return ""
	}
	return asOf
}

// dateInRange checks that date is a real YYYY-MM-DD date in the years a
// request may name.
func dateInRange(v *violations, field, date string) bool {
	t, ok := dataset.ParseDate(date)
	if !ok {
		v.add(field, "must be a real date in the form YYYY-MM-DD")
		return false
	}
	if t.Year() < minYear || t.Year() > maxYear {
		v.add(field, "must be between %d-01-01 and %d-12-31", minYear, maxYear)
		return false
	}
	return true
}

func checkView(v *violations, field string, view safethirdv1.AssessmentView) bool {
	if !enumDefined(view) {
		v.add(field, "must be ASSESSMENT_VIEW_BASIC or ASSESSMENT_VIEW_FULL (or unset for FULL)")
	}
	return view != safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC
}

// checkApplicant validates the applicant's facts against the date
// assessed (empty when it is itself invalid). Descriptions name the field
// and the rule, never the value: these facts are sensitive.
func checkApplicant(snap *dataset.Snapshot, v *violations, field string, a *safethirdv1.Applicant, asOf string) {
	if a == nil {
		return
	}
	if a.NationalityCode != nil && a.GetStateless() {
		v.add(field+".stateless", "must not be true when nationality_code is given: a person with a nationality is not stateless")
	}
	if a.EntryDate != nil && dateInRange(v, field+".entry_date", a.GetEntryDate()) && asOf != "" && a.GetEntryDate() > asOf {
		v.add(field+".entry_date", "must not be after as_of: the person's first entry cannot follow the date assessed")
	}
	codeField := func(name string, code *string) {
		if code == nil {
			return
		}
		if _, ok := snap.Country(*code); !ok || !countryShaped(*code) {
			v.add(field+"."+name, "must be an assigned ISO 3166-1 alpha-2 code in upper case")
		}
	}
	codeField("nationality_code", a.NationalityCode)
	codeField("last_habitual_residence_code", a.LastHabitualResidenceCode)
	for name, list := range map[string]*safethirdv1.CountryList{
		"countries_crossed": a.GetCountriesCrossed(), "family_countries": a.GetFamilyCountries(), "previous_stay_countries": a.GetPreviousStayCountries()} {
		for i, code := range list.GetCountryCodes() {
			if _, ok := snap.Country(code); !ok || !countryShaped(code) {
				v.add(field+"."+name+".country_codes["+strconv.Itoa(i)+"]", "must be an assigned ISO 3166-1 alpha-2 code in upper case")
			}
		}
	}
	for i, g := range a.GetGroups() {
		if g == 0 || !enumDefined(g) {
			v.add(field+".groups["+strconv.Itoa(i)+"]", "must be a defined ApplicantGroup other than UNSPECIFIED")
		}
	}
	if a.Age != nil && (a.GetAge() < 0 || a.GetAge() > maxAge) {
		v.add(field+".age", "must be between 0 and %d", maxAge)
	}
	for i, m := range a.GetFamily().GetMembers() {
		mf := field + ".family.members[" + strconv.Itoa(i) + "]"
		if m.GetRelationship() == 0 || !enumDefined(m.GetRelationship()) {
			v.add(mf+".relationship", "must be a defined Relationship other than UNSPECIFIED")
		}
		if m.GetStatus() == 0 || !enumDefined(m.GetStatus()) {
			v.add(mf+".status", "must be a defined FamilyStatus other than UNSPECIFIED")
		}
		if m.Age != nil && (m.GetAge() < 0 || m.GetAge() > maxAge) {
			v.add(mf+".age", "must be between 0 and %d", maxAge)
		}
	}
	for i, k := range a.GetDocuments().GetKinds() {
		if k == 0 || !enumDefined(k) {
			v.add(field+".documents.kinds["+strconv.Itoa(i)+"]", "must be a defined DocumentKind other than UNSPECIFIED")
		}
	}
	if a.EntryType != nil && (a.GetEntryType() == 0 || !enumDefined(a.GetEntryType())) {
		v.add(field+".entry_type", "must be a defined EntryType other than UNSPECIFIED")
	}
	if a.DaysFromCrossingToClaim != nil && (a.GetDaysFromCrossingToClaim() < 0 || a.GetDaysFromCrossingToClaim() > maxDays) {
		v.add(field+".days_from_crossing_to_claim", "must be between 0 and %d", maxDays)
	}
}

// enumDefined reports whether an enum value is one the schema defines;
// proto3 enums are open, so the wire can carry any number.
func enumDefined[E interface {
	protoreflect.Enum
	~int32
}](e E) bool {
	return e.Descriptor().Values().ByNumber(protoreflect.EnumNumber(e)) != nil
}

// newQuery validates an AssessCountryRequest.
func newQuery(snap *dataset.Snapshot, req *safethirdv1.AssessCountryRequest, today string) (*query, error) {
	var v violations
	country := checkCountry(snap, &v, "country_code", req.GetCountryCode())
	q, err := checkCommon(snap, &v, req, today)
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

// checkCommon validates the fields every request has, reports every
// violation collected in v (the caller's own fields included), then
// resolves the framework.
func checkCommon(snap *dataset.Snapshot, v *violations, req commonFields, today string) (*query, error) {
	asOf := checkDate(v, "as_of", req.GetAsOf(), today)
	full := checkView(v, "view", req.GetView())
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
