// Package answerdiff compares the answers of two dataset revisions: the
// release note of a dataset release. For every framework, country and
// applicant group (and none) that either dataset speaks of, it asks both
// engines the same question on each date of a grid and reports where the
// determination, the practice, the applicant outcome or a criterion's
// status differs, with the records behind those answers that changed.
//
// The grid is built from the change points of both datasets, since an
// answer can change only where a record says something happens: every
// date that is a record field's whole value (events and their earliest
// dates, scope periods, findings' windows and review dates, frameworks'
// dates, sources' publication), every date a CEL condition compares with,
// the day after each (an inclusive end changes the answer the next day),
// and the day before the first. Between two grid dates the answers
// compared are taken to be constant. This stands in for the timeline of
// answers that AssessTimeline is to give (DESIGN.md, "The answer over
// time"); when it lands, its segments can replace the grid.
package answerdiff
