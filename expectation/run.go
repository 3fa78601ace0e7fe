package expectation

import (
	"fmt"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
)

// Result is what running a dataset's expectations found.
type Result struct {
	// Cases is the number of cases read.
	Cases int
	// Problems lists each failure and each mistake in a case, at its file
	// and line; none when every case holds.
	Problems []dataset.Problem
}

// Check runs the expectations of snap and returns their problems: the
// function dataset.LoadOptions.Check takes.
func Check(snap *dataset.Snapshot) []dataset.Problem { return Run(snap).Problems }

// Run reads every case in the snapshot's tests/ and asks each question of
// an engine over the snapshot.
func Run(snap *dataset.Snapshot) Result {
	rules, err := protovalidate.New()
	if err != nil {
		return Result{Problems: []dataset.Problem{{File: "tests/", Message: fmt.Sprintf("field rules: %v", err)}}}
	}
	p := &parser{snap: snap, rules: rules}
	var cases []*testCase
	for _, f := range snap.Tests() {
		cases = append(cases, p.parse(f)...)
	}
	eng := assessment.New(snap)
	for _, c := range cases {
		p.run(eng, c)
	}
	return Result{Cases: p.cases, Problems: p.problems}
}

// run asks a case's question and checks each want against the answer.
func (p *parser) run(eng *assessment.Engine, c *testCase) {
	var answer proto.Message
	var err error
	if c.country != nil {
		answer, err = eng.AssessCountry(c.country, c.country.GetAsOf())
	} else {
		answer, err = eng.AssessRoute(c.route, c.route.GetAsOf())
	}
	if err != nil {
		p.problem(c.file, c.request, "%s: the engine refused the request: %v", c.name, err)
		return
	}
	for _, a := range c.want {
		steps, err := parsePath(a.path)
		if err != nil {
			p.problem(c.file, a.key, "%s: path %v", c.name, err)
			continue
		}
		v, err := resolve(answer.ProtoReflect(), steps)
		if err != nil {
			p.problem(c.file, a.key, "%s: %s: %v", c.name, a.path, err)
			continue
		}
		failure, bad := compare(v, a.want)
		switch {
		case bad != nil:
			p.problem(c.file, a.want, "%s: %s: %v", c.name, a.path, bad)
		case failure != "":
			p.problem(c.file, a.key, "%s: %s: %s", c.name, a.path, failure)
		}
	}
}
