package main

import (
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// A stream is the requests of a run in which every question is new to
// the server, as a case system's are: each client, date and set of facts
// its own. The server is started afresh for each round, so a round's
// stream is new to it; ghz sends the stream's requests in turn.

// question is a (country, framework) pair a stream asks about, on some day.
type question struct{ country, framework string }

// Days a stream draws from: every day from firstDay, for spanDays.
var firstDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const spanDays = 9862 // to 2026-12-31

// streamLen is the requests of a stream of single questions: more than a
// run makes (ghz wraps around past them, and the bench says so).
const streamLen = 40_000

// batchStreamLen is the batches of a stream of batches, each of batchItems.
const (
	batchStreamLen = 400
	batchItems     = 100
)

// questionSpace is every curated country of snap under each framework a
// finding on it is curated for (the frameworks an applying state need not
// be named for), and the US framework for a country with none.
func questionSpace(snap *dataset.Snapshot) []question {
	var out []question
	for _, c := range snap.Countries() {
		if !c.GetCurated() {
			continue
		}
		n := len(out)
		for _, id := range snap.FrameworkIDs() {
			fw, _ := snap.Framework(id)
			if fw.GetApplyingStateRequired() {
				continue
			}
			for _, crit := range fw.GetCriteria() {
				if len(snap.Findings(c.GetCode(), id, crit.GetId())) > 0 {
					out = append(out, question{c.GetCode(), id})
					break
				}
			}
		}
		if len(out) == n {
			out = append(out, question{c.GetCode(), "us-ina-208a2a"})
		}
	}
	return out
}

// spread maps 0..n-1 onto distinct indices of a space of size n, in an
// order that looks shuffled: i × a prime that does not divide n, mod n.
func spread(i, n int) int {
	const p = 1_000_003
	if n%p == 0 {
		return i
	}
	return int((int64(i) * p) % int64(n))
}

// assessAt is the request for the k-th (question, day) of the space.
func assessAt(space []question, k int) *safethirdv1.AssessCountryRequest {
	q := space[k%len(space)]
	day := firstDay.AddDate(0, 0, (k/len(space))%spanDays)
	return &safethirdv1.AssessCountryRequest{CountryCode: q.country, FrameworkId: q.framework, AsOf: day.Format(time.DateOnly)}
}

// distinctStream is n distinct questions of the space from offset on.
func distinctStream(space []question, offset, n int) []*safethirdv1.AssessCountryRequest {
	size := len(space) * spanDays
	out := make([]*safethirdv1.AssessCountryRequest, n)
	for i := range out {
		out[i] = assessAt(space, spread((offset+i)%size, size))
	}
	return out
}

// fullStream is a stream of distinct FULL questions.
func fullStream(snap *dataset.Snapshot) []proto.Message {
	var out []proto.Message
	for _, r := range distinctStream(questionSpace(snap), 0, streamLen) {
		out = append(out, r)
	}
	return out
}

// applicantStream is a stream of distinct questions, each for an
// applicant whose facts are drawn at random, many left unknown (so the
// server computes the answer under each value of an unknown fact that
// matters, the alternatives, as it would for a case system).
func applicantStream(snap *dataset.Snapshot) []proto.Message {
	rnd := rand.New(rand.NewPCG(29, 1))
	var codes []string
	for _, c := range snap.Countries() {
		codes = append(codes, c.GetCode())
	}
	var out []proto.Message
	for _, r := range distinctStream(questionSpace(snap), streamLen, streamLen) {
		r.Applicant = randomApplicant(rnd, codes, r.GetCountryCode())
		out = append(out, r)
	}
	return out
}

// batchStream is a stream of batches of distinct questions, none of them
// asked by the other streams.
func batchStream(snap *dataset.Snapshot) []proto.Message {
	qs := distinctStream(questionSpace(snap), 2*streamLen, batchStreamLen*batchItems)
	var out []proto.Message
	for i := 0; i < len(qs); i += batchItems {
		out = append(out, &safethirdv1.BatchAssessCountriesRequest{Requests: qs[i : i+batchItems]})
	}
	return out
}

// randomApplicant draws an applicant: each fact given or not, at random,
// and when given, drawn at random; never a national of the country
// assessed.
func randomApplicant(rnd *rand.Rand, codes []string, country string) *safethirdv1.Applicant {
	a := &safethirdv1.Applicant{}
	half := func() bool { return rnd.IntN(2) == 0 }
	if half() {
		if c := codes[rnd.IntN(len(codes))]; c != country {
			a.NationalityCode = proto.String(c)
		}
	}
	if half() {
		a.Age = proto.Int32(int32(rnd.IntN(90)))
	}
	for g := safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI; g <= safethirdv1.ApplicantGroup_APPLICANT_GROUP_POLITICAL_OPPONENTS; g++ {
		if rnd.IntN(4) == 0 {
			a.Groups = append(a.Groups, g)
		}
	}
	if half() {
		a.Married = proto.Bool(half())
	}
	if half() {
		a.EntryType = safethirdv1.EntryType(1 + rnd.IntN(5)).Enum()
	}
	if half() {
		a.DaysFromCrossingToClaim = proto.Int32(int32(rnd.IntN(60)))
	}
	if half() {
		a.CapitalCharge = proto.Bool(rnd.IntN(10) == 0)
	}
	return a
}
