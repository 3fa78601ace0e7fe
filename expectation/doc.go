// Package expectation runs a dataset's expectations: the cases in its
// tests/ directory, each a request to the engine and what must hold of the
// answer. They are how the editors of the law say what the data must
// answer (Guatemala on 2020-01-01, Canada's STCA before the Additional
// Protocol), so that an edit that changes such an answer is refused before
// it is sealed or served, like OpenFisca's YAML tests.
//
// The dataset package cannot run them (the engine imports it), so this
// package sits above both; the CLI and the server give Check to
// dataset.LoadOptions, and a dataset whose cases fail is refused with a
// problem at the file and line of each failure.
//
// A file of expectations:
//
//	cases:
//	  - name: Guatemala 2020-01-01, entry after the rule
//	    sources: [fr-2019-25137-aca-rule]   # what decides it; each must be in sources/
//	    assess_country:                     # an AssessCountryRequest; or assess_route
//	      country_code: GT
//	      as_of: "2020-01-01"               # required: a case holds on a date
//	      applicant: {nationality_code: HN, entry_date: "2019-12-01"}
//	    want:                               # paths into the answer, and their values
//	      agreement_id: us-gt-aca
//	      practice.status: PRACTICE_STATUS_APPLIED
//	      criteria[agreement].status: CRITERION_STATUS_MET
//	      warnings: {contains: paused}
//
// A path names fields of the answer (the Assessment of AssessCountry, the
// AssessRouteResponse of AssessRoute) by their proto names, joined by dots;
// name[key] picks the element of a repeated message whose first field (its
// id, or a country's code) is key. A value is written as in the data: enums
// by full name, dates quoted. A repeated field is compared with a list: of
// its values, or for messages of their keys, in order. {contains: text}
// holds when a string field, or any element of a list of strings, contains
// text.
package expectation
