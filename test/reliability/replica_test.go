package reliability_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
)

// TestReplicaLoss runs three replicas on loopback behind the Go client's
// round-robin over the address list, with its retries of UNAVAILABLE, and
// SIGKILLs one a third of the way through a load, restarting it on the
// same port at two thirds: no call may fail. 15s; 60s in a soak run.
func TestReplicaLoss(t *testing.T) {
	duration := pick(15*time.Second, 60*time.Second)
	replicas := make([]*serverProc, 3)
	addrs := make([]string, 3)
	for i := range replicas {
		replicas[i] = startServer(t, serverOptions{dropCallLines: true})
		addrs[i] = replicas[i].addr
	}
	c := newClient(t, strings.Join(addrs, ","))
	items := workItems()

	// Calls answered, by replica and phase: 0 all up, 1 one down, 2 restarted.
	type key struct {
		addr  string
		phase int
	}
	var (
		mu     sync.Mutex
		phase  int
		counts = map[key]int{}
	)
	start := time.Now()
	// down is when the victim was certainly gone: from its exit to the
	// start of its restart. A call that began and ended inside it cannot
	// have been answered by the victim; the phase counts alone cannot say
	// that, since a call answered just before the kill may return after it.
	var downFrom, downUntil time.Time
	var answeredWhileDown int
	load := startLoad(t, 8, func(ctx context.Context, w, i int) error {
		began := time.Now()
		var p peer.Peer
		if _, err := items[(w+i)%len(items)].call(ctx, c, grpc.Peer(&p)); err != nil {
			return err
		}
		ended := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if p.Addr != nil {
			counts[key{p.Addr.String(), phase}]++
			if p.Addr.String() == addrs[1] && !downFrom.IsZero() && began.After(downFrom) &&
				(downUntil.IsZero() || ended.Before(downUntil)) {
				answeredWhileDown++
			}
		}
		return nil
	})
	setPhase := func(p int) {
		mu.Lock()
		defer mu.Unlock()
		phase = p
	}

	time.Sleep(time.Until(start.Add(duration / 3)))
	victim := replicas[1]
	victim.kill(t)
	mu.Lock()
	downFrom = time.Now()
	mu.Unlock()
	setPhase(1)
	killedAt := time.Since(start)

	time.Sleep(time.Until(start.Add(2 * duration / 3)))
	mu.Lock()
	downUntil = time.Now()
	mu.Unlock()
	replicas[1] = startServer(t, serverOptions{addr: victim.addr, dropCallLines: true})
	restartedAt := time.Since(start)
	setPhase(2)

	time.Sleep(time.Until(start.Add(duration)))
	calls := load.wantNoFailures(t, "calls while a replica was lost")
	failed := load.failures.Load()

	mu.Lock()
	defer mu.Unlock()
	var rows []string
	for _, a := range addrs {
		rows = append(rows, fmt.Sprintf("%s: %d / %d / %d", a, counts[key{a, 0}], counts[key{a, 1}], counts[key{a, 2}]))
	}
	if answeredWhileDown > 0 {
		t.Errorf("%d calls begun and ended while the replica was down were answered by it", answeredWhileDown)
	}
	// The client reconnects with backoff (1s, growing 1.6x): within the
	// soak's 20s it must find the restarted replica again.
	if soak() && counts[key{victim.addr, 2}] == 0 {
		t.Errorf("the restarted replica answered no call in the last third")
	}
	for _, a := range addrs {
		if counts[key{a, 0}] == 0 {
			t.Errorf("replica %s answered no call while all three were up: no round-robin", a)
		}
	}
	handled := make([]string, len(replicas))
	for i, r := range replicas {
		handled[i] = fmt.Sprintf("%s %.0f", r.addr, metric(r.scrape(t), "grpc_server_handled_total"))
	}
	figure(t, "%d calls in %v over 3 replicas (8 workers), replica %s SIGKILLed at %v and restarted at %v: %d failed",
		calls, duration, victim.addr, killedAt.Round(100*time.Millisecond), restartedAt.Round(100*time.Millisecond), failed)
	figure(t, "calls answered per replica, all up / one down / restarted: %s", strings.Join(rows, "; "))
	figure(t, "calls handled per replica by its /metrics (the restarted one since its restart): %s", strings.Join(handled, "; "))
	for _, r := range replicas {
		if d, err := r.terminate(t, 30*time.Second); err != nil {
			t.Errorf("%s exit after %v: %v", r.addr, d, err)
		}
	}
}
