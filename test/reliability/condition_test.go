package reliability_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/client"
	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// expensiveCondition is an attacker's condition: comprehensions nested four
// deep over a list of 100, 10^8 iterations, minutes of CPU.
var expensiveCondition = func() string {
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 100), ",") + "]"
	return list + ".all(a, " + list + ".all(b, " + list + ".all(c, " + list + ".all(d, a + b + c + d > 0))))"
}()

// hugeCost lets a dataset with expensiveCondition load, to test what holds
// when the load-time estimate is not the last defence.
const hugeCost = "4000000000000000000"

// withExpensiveCondition makes the US framework's first applicability rule,
// evaluated in every US assessment, run expensiveCondition first.
func withExpensiveCondition(t *testing.T, dir string) {
	t.Helper()
	rewrite(t, filepath.Join(dir, "frameworks", "us-ina-208a2a.yaml"), func(old []byte) []byte {
		edited := strings.Replace(string(old), `condition: 'country_code == "US"'`,
			`condition: '`+expensiveCondition+` && country_code == "US"'`, 1)
		if edited == string(old) {
			t.Fatal("the US framework has no applicability condition to make expensive")
		}
		return []byte(edited)
	})
}

// withoutExpectations removes a dataset's tests/, whose cases would refuse
// a dataset with an expensive condition at load.
func withoutExpectations(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, "tests")); err != nil {
		t.Fatal(err)
	}
}

// Finding 5: a condition of nested comprehensions passed `dataset validate`,
// and one call then burnt 210 to 226 s of CPU, ignoring --max-call-duration
// and the client's deadline, and was logged OK. It is now refused when the
// dataset is validated, sealed or loaded; and should one be let through (a
// raised --max-condition-cost), the call stops at --max-call-duration with
// DEADLINE_EXCEEDED, logged as such, and the CPU stops with it.
func TestExpensiveConditionIsRefusedOrCut(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dataset")
	copyDir(t, repoDataDir(t), dir)
	withExpensiveCondition(t, dir)

	validate := runSafethird(t, 60*time.Second, nil, "dataset", "validate", dir)
	if validate.code != 1 || !strings.Contains(validate.out, "frameworks/us-ina-208a2a.yaml:") || !strings.Contains(validate.out, "estimated cost") {
		t.Errorf("dataset validate: exit %d, want 1 naming the condition's cost:\n%s", validate.code, validate.out)
	}
	if _, err := (dataset.LoadOptions{}).Seal(dir, nil); err == nil {
		t.Error("a dataset with the expensive condition was sealed")
	}

	// Let through at a raised limit, the dataset's own expectations are cut
	// at their budget and refuse it: a load always ends.
	raised := runSafethird(t, 90*time.Second, nil, "dataset", "validate", "--max-condition-cost", hugeCost, dir)
	if raised.code != 1 || !strings.Contains(raised.out, "did not answer within") {
		t.Errorf("dataset validate at a raised cost limit: exit %d, want 1 naming a case cut at its budget:\n%s", raised.code, raised.out)
	}
	// Let it through on purpose, without the expectations, to test the
	// call's own bound: sealed with the limit raised, served with it.
	withoutExpectations(t, dir)
	reseal(t, dir, dataset.LoadOptions{MaxConditionCost: 4e18})
	const maxCall = 2 * time.Second
	srv := startServer(t, serverOptions{dataset: dir, args: []string{"--max-call-duration", maxCall.String()},
		env: []string{"SAFETHIRD_MAX_CONDITION_COST=" + hugeCost}})
	c := newClient(t, srv.addr, client.WithMaxAttempts(1))
	cpuBefore := cpuTime(t, srv.pid)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Assessment().AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	took := time.Since(start)
	if status.Code(err) != codes.DeadlineExceeded || took > maxCall+3*time.Second {
		t.Errorf("the call ended after %v with %v; want DEADLINE_EXCEEDED at --max-call-duration (%v)", took, err, maxCall)
	}
	var line map[string]any
	waitFor(t, "the call's log line", 10*time.Second, func() bool {
		for _, l := range srv.logLines("call") {
			if l["method"] == "/safethird.v1.AssessmentService/AssessCountry" {
				line = l
				return true
			}
		}
		return false
	})
	if line["code"] != "DeadlineExceeded" {
		t.Errorf("the call was logged %v, want DeadlineExceeded", line["code"])
	}
	// The work stopped with the call: the CPU stands still after it.
	burnt := cpuTime(t, srv.pid) - cpuBefore
	time.Sleep(time.Second)
	after := cpuTime(t, srv.pid) - cpuBefore
	if after-burnt > 500*time.Millisecond {
		t.Errorf("the server used %v of CPU in the second after the call ended: the condition still runs", after-burnt)
	}
	figure(t, "expensive condition: dataset validate exit %d (%s); let through, the call ended %v after it began, %v, logged %v, %v of CPU, %v more in the next second",
		validate.code, firstLineWith(validate.out, "estimated cost"), took.Round(time.Millisecond), status.Code(err), line["code"],
		burnt.Round(10*time.Millisecond), (after - burnt).Round(10*time.Millisecond))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// firstLineWith returns the first line of text holding sub, for a figure.
func firstLineWith(text, sub string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// Finding 6: with such a call running, SIGTERM with --shutdown-grace 3s
// exited after 208 s. It now exits within the grace and a second.
func TestShutdownDuringExpensiveCall(t *testing.T) {
	t.Parallel()
	const grace = 3 * time.Second
	dir := sealedCopy(t, dataset.LoadOptions{})
	withExpensiveCondition(t, dir)
	withoutExpectations(t, dir)
	reseal(t, dir, dataset.LoadOptions{MaxConditionCost: 4e18})
	srv := startServer(t, serverOptions{dataset: dir, grace: grace, args: []string{"--max-call-duration", "10m"},
		env: []string{"SAFETHIRD_MAX_CONDITION_COST=" + hugeCost}})
	c := newClient(t, srv.addr, client.WithMaxAttempts(1))
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		_, err := c.Assessment().AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
		errc <- err
	}()
	// The call is running when the server has burnt a second of CPU on it.
	cpu0 := cpuTime(t, srv.pid)
	waitFor(t, "the expensive call to run", 30*time.Second, func() bool { return cpuTime(t, srv.pid)-cpu0 >= time.Second })
	d, err := srv.terminate(t, grace+60*time.Second)
	if err != nil || d > grace+time.Second {
		t.Errorf("exit %v after %v; want 0 within the grace (%v) and 1 s", err, d, grace)
	}
	callErr := <-errc
	if callErr == nil {
		t.Error("the expensive call succeeded")
	}
	figure(t, "SIGTERM with an expensive call running, --shutdown-grace %v: exit after %v (%v); the call ended %v",
		grace, d.Round(time.Millisecond), err, status.Code(callErr))
}
