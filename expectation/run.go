package expectation

import (
	"context"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
)

// The cases run whenever a dataset is loaded, the server's included: a
// condition let through at a raised cost limit must cost a failed case,
// never a load that does not end. CaseBudget bounds one case, RunBudget all.
const (
	CaseBudget = 2 * time.Second
	RunBudget  = 20 * time.Second
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
	// The process's one validator: the engine checks the same requests
	// with it, so their rules are compiled once, not once a load.
	p := &parser{snap: snap, rules: protovalidate.GlobalValidator}
	var cases []*testCase
	for _, f := range snap.Tests() {
		cases = append(cases, p.parse(f)...)
	}
	eng := assessment.New(snap)
	run, cancel := context.WithTimeout(context.Background(), RunBudget)
	defer cancel()
	for i, c := range cases {
		if run.Err() != nil {
			p.problem(c.file, c.request, "%s and %d case(s) after it not run: the expectations took more than %v", c.name, len(cases)-i-1, RunBudget)
			break
		}
		p.run(run, eng, c)
	}
	return Result{Cases: p.cases, Problems: p.problems}
}

// run asks a case's question and checks each want against the answer.
func (p *parser) run(run context.Context, eng *assessment.Engine, c *testCase) {
	var answer proto.Message
	var err error
	ctx, cancel := context.WithTimeout(run, CaseBudget)
	defer cancel()
	if c.country != nil {
		answer, err = eng.AssessCountryContext(ctx, c.country, c.country.GetAsOf())
	} else {
		answer, err = eng.AssessRouteContext(ctx, c.route, c.route.GetAsOf())
	}
	if ctx.Err() != nil {
		p.problem(c.file, c.request, "%s: the engine did not answer within %v: a condition costs too much to evaluate", c.name, CaseBudget)
		return
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
