package assessment

import (
	"context"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// maxMemo bounds each of an Engine's memos; past it the memo starts again
// empty. Distinct (country, framework, date) questions a day are a few
// thousand at most, so this keeps the common ones without letting odd
// dates grow memory.
const maxMemo = 4096

// maxAnswerBytes and maxBaseBytes bound what an Engine's memos keep by
// its encoded size (proto.Size, and the encodings kept of an answer):
// answers differ in size by a factor of ten (a BASIC answer against a FULL
// one with an applicant), so a bound on their number alone would not bound
// memory. The encoded size counts the evidence that the answers share with
// the Snapshot too, so the memory they hold is less; together with the
// garbage collector's headroom, these keep a server under 60 MB of
// resident memory under a mixed load (bench/results.md).
const (
	maxAnswerBytes = 3 << 20
	maxBaseBytes   = 2 << 20
	// maxCondBytes bounds the conditions' results kept: a few hundred
	// bytes each, one per condition, country and jurisdiction (and date,
	// for the few that read it).
	maxCondBytes = 256 << 10
)

// Engine answers questions against one Snapshot. What does not depend on the
// applicant (the criteria for a country, framework and date, and whole
// answers without an applicant) is computed once and shared: the messages it
// returns are read-only for every caller.
type Engine struct {
	snap *dataset.Snapshot

	answers answerMemo
	bases   memo[baseKey, *base]
	// verdicts holds what the protos' field rules found of each request
	// seen (checkRules).
	verdicts memo[verdictKey, verdict]
	// conds holds the results of conditions evaluated without an
	// applicant (builder.evalCondition).
	conds memo[condKey, condResult]
	// exceptionResults holds one result per exception, outcome and set of
	// missing facts: a small, closed set, so it needs no bound.
	exceptionResults sync.Map
}

// condKey is a condition evaluated without an applicant: its expression,
// the country and jurisdiction, and the date when it reads the date.
type condKey struct {
	expr, country, jurisdiction, asOf string
}

type baseKey struct {
	country, framework, jurisdiction, asOf string
}

// answerKey is a question: a country, framework, jurisdiction, date and
// view, the country of last presence when a route gives it, and, for an
// applicant, the facts the answer read and their values.
type answerKey struct {
	baseKey
	full bool
	// lastPresence is set for a route's answer, which rests on the route's
	// last leg (the scope's premise) and, unlike AssessCountry's to an
	// applicant, has no alternatives.
	lastPresence string
	// applicant is set for an answer to an applicant; read are then the
	// facts its evaluation read, and values their canonical encoding.
	applicant bool
	read      facts
	values    string
}

// question is the key without the facts read and their values.
func (k answerKey) question() answerKey {
	k.read, k.values = 0, ""
	return k
}

// base is the applicant-independent part of an assessment: the criteria
// with their evidence, the records the computed ones relied on, the
// practice, and what they cite and warn.
type base struct {
	eval      evaluation
	practice  *safethirdv1.Practice
	warnings  []string
	sourceIDs []string
	// applicantSensitive is set when a criterion depends on the applicant
	// (a group finding valid on the date, a condition): the criteria are
	// then evaluated for each applicant, not shared.
	applicantSensitive bool
	// read are the facts of the applicant the criteria read.
	read facts
}

// New returns an Engine over snap.
func New(snap *dataset.Snapshot) *Engine {
	return &Engine{snap: snap}
}

// memo is a map bounded by maxMemo entries and by the weight of its
// values, safe for concurrent use; when full it starts again empty.
type memo[K comparable, V any] struct {
	mu    sync.Mutex
	m     map[K]V
	bytes int // the weight of the values held
}

// get returns the value for key, computing and keeping it on a miss. Two
// callers may both compute a missing value; they compute the same one. A
// value computed while ctx ended may have been cut short: it is not kept.
// The values held weigh at most maxBytes by weight.
func (m *memo[K, V]) get(ctx context.Context, key K, compute func() V, weight func(V) int, maxBytes int) V {
	m.mu.Lock()
	v, ok := m.m[key]
	m.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	if ctx.Err() != nil {
		return v
	}
	w := weight(v)
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxMemo || m.bytes+w > maxBytes {
		m.m, m.bytes = map[K]V{}, 0
	}
	m.m[key] = v
	m.bytes += w
	m.mu.Unlock()
	return v
}

// Snapshot returns the Snapshot the Engine answers from.
func (e *Engine) Snapshot() *dataset.Snapshot { return e.snap }

// AssessCountry answers an AssessCountryRequest. today is the caller's
// current date (YYYY-MM-DD, UTC), used when as_of is empty. The request's
// dataset_revision is the caller's to check. Errors are
// *InvalidArgumentError or *NotFoundError.
func (e *Engine) AssessCountry(req *safethirdv1.AssessCountryRequest, today string) (*safethirdv1.Assessment, error) {
	return e.AssessCountryContext(context.Background(), req, today)
}

// AssessCountryContext is AssessCountry for a call: when ctx is done, the
// evaluation stops and ctx's error is returned.
func (e *Engine) AssessCountryContext(ctx context.Context, req *safethirdv1.AssessCountryRequest, today string) (*safethirdv1.Assessment, error) {
	q, err := e.newQuery(ctx, req, today)
	if err != nil {
		return nil, err
	}
	q.ctx = ctx
	q.alternatives = q.applicant != nil
	a := e.assess(q)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

// assess answers q from the memo, or builds the answer and keeps it. An
// answer for an applicant is kept under the facts it read, and found
// again for any applicant who agrees on them. A route's answers are kept
// under its last leg too, so that a route asked again is sent from the
// stored encodings of its answers (Encoding) as AssessCountry's are.
func (e *Engine) assess(q *query) *safethirdv1.Assessment {
	key := answerKey{baseKey: baseKey{q.country.GetCode(), q.framework.GetId(), q.jurisdiction, q.asOf}, full: q.full,
		lastPresence: q.lastPresence, applicant: q.applicant != nil}
	if a, ok := e.answers.get(key, q.applicant, q.facts); ok {
		return a
	}
	a, read := e.build(q)
	if q.ctx.Err() == nil { // one cut short is not kept
		e.answers.put(key, q.applicant, q.facts, read, a)
	}
	return a
}

// Encoding returns an encoding of a, an answer the Engine returned from
// its memo, in the named format: made by encode the first time it is asked
// for, then kept with the answer while the memo holds it, so that a server
// sends the same bytes to every caller without encoding them again. For
// any other Assessment (one built for a single call, or one that has left
// the memo) it encodes nothing and reports false. encode must give the
// same bytes for the same answer each time, as proto.Marshal does.
func (e *Engine) Encoding(a *safethirdv1.Assessment, format string, encode func(*safethirdv1.Assessment) ([]byte, error)) ([]byte, bool) {
	return e.answers.encoding(a, format, encode)
}

// base returns the criteria and practice for the builder's query, from the
// memo when they do not depend on the applicant, and adds what they warn
// and cite to the builder.
func (e *Engine) base(b *builder) *base {
	q := b.q
	key := baseKey{q.country.GetCode(), q.framework.GetId(), q.jurisdiction, q.asOf}
	var bs *base
	switch {
	case q.transient && q.applicant != nil:
		// Outside the memo, the criteria are evaluated for the applicant
		// at once: the same, where they do not depend on the applicant,
		// as those without one.
		bs = b.evaluateBase()
		b.read |= bs.read
	case q.transient:
		bs = e.newBase(q)
	default:
		bs = e.bases.get(q.ctx, key, func() *base { return e.newBase(q) }, (*base).size, maxBaseBytes)
		if bs.applicantSensitive && q.applicant != nil {
			bs = b.evaluateBase()
			b.read |= bs.read
		}
	}
	b.warnings = append(b.warnings, bs.warnings...)
	b.sourceIDs = append(b.sourceIDs, bs.sourceIDs...)
	return bs
}

// newBase evaluates the criteria and practice as for a request without an
// applicant.
func (e *Engine) newBase(q *query) *base {
	noApplicant := *q
	noApplicant.applicant = nil
	b := &builder{engine: e, snap: e.snap, q: &noApplicant}
	return b.evaluateBase()
}

// evaluateBase evaluates the criteria and practice on a fresh builder's
// query, keeping what they warn and cite in the base rather than the builder.
func (b *builder) evaluateBase() *base {
	sub := &builder{engine: b.engine, snap: b.snap, q: b.q}
	ev := sub.evaluateCriteria()
	p := sub.practice(&ev)
	return &base{
		eval:               ev,
		practice:           p,
		warnings:           slices.Clip(sub.warnings),
		sourceIDs:          slices.Clip(sub.sourceIDs),
		applicantSensitive: sub.applicantSensitive,
		read:               sub.read,
	}
}

// size is the encoded size of the criteria and practice.
func (bs *base) size() int {
	n := proto.Size(bs.practice)
	for _, c := range bs.eval.criteria {
		n += proto.Size(c)
	}
	return n
}
