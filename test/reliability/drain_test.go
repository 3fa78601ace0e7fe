package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// slowBatch is a batch of 100 items that the engine cannot answer from its
// memo: each item has an applicant and a date no other call uses.
func slowBatch(call int) *pb.BatchAssessCountriesRequest {
	countries := []string{"MX", "CA", "GT", "HN", "SV", "US"}
	start := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	req := &pb.BatchAssessCountriesRequest{}
	for j := range 100 {
		req.Requests = append(req.Requests, &pb.AssessCountryRequest{
			CountryCode: countries[j%len(countries)],
			AsOf:        start.AddDate(0, 0, call*100+j).Format(time.DateOnly),
			Applicant:   indigenousApplicant(),
		})
	}
	return req
}

// TestDrain sends SIGTERM while calls are in flight and checks that every
// one completes OK, that calls made after the signal are refused, and that
// the process exits 0 within its shutdown grace. The calls go over raw
// HTTP/2 connections, so the test knows they reached the server: some are
// complete batches of 100 items, written before the signal; others are
// held, their request half-sent until after the refusals, like a slow
// client's upload.
func TestDrain(t *testing.T) {
	t.Parallel()
	// 10 connections x 6 calls x about 230 KB a batch answer: 14 MB of
	// answers that may all be waiting for their clients at once, within the
	// server's 16 MiB budget of unread responses. With 30 connections
	// (36 MB) a machine busy enough to slow the clients' reading took the
	// total over it, and the server cut the connections holding the most,
	// as it must for clients that do not read.
	const (
		conns    = 10
		complete = 4 // per connection, sent whole before the signal
		held     = 2 // per connection, half-sent until after the signal
		grace    = 20 * time.Second
		method   = "/safethird.v1.AssessmentService/BatchAssessCountries"
	)
	// The held requests stay half-sent across the signal and the refusals,
	// which under -race on a busy machine takes longer than the default
	// --request-timeout (10 s), past which the server rightly cancels a
	// call whose request has not arrived: this test is about the drain.
	srv := startServer(t, serverOptions{grace: grace, env: []string{"SAFETHIRD_REQUEST_TIMEOUT=60s"}})
	clients := make([]*client.Client, 2)
	for i := range clients {
		clients[i] = newClient(t, srv.addr, client.WithMaxAttempts(1))
		wantServing(t, clients[i].Conn())
	}
	raws := make([]*h2Client, conns)
	for i := range raws {
		raws[i] = dialH2(t, srv.addr, nil, "")
	}
	base := srv.goroutines(t)

	type call struct {
		raw    *h2Client
		stream *h2Stream
		id     uint32
		rest   []byte // the part of a held request not yet sent
	}
	var calls []*call
	n := 0
	for _, raw := range raws {
		for k := range complete + held {
			msg := grpcFrame(t, slowBatch(n))
			n++
			if len(msg)*(complete+held) >= 65535 {
				t.Fatalf("requests of %d bytes overrun the connection's first flow-control window", len(msg))
			}
			id, s, err := raw.open(method, false, true)
			if err != nil {
				t.Fatal(err)
			}
			c := &call{raw: raw, stream: s, id: id}
			send := msg
			if k >= complete {
				send, c.rest = msg[:len(msg)/2], msg[len(msg)/2:]
			}
			if err := raw.data(id, send, c.rest == nil); err != nil {
				t.Fatal(err)
			}
			calls = append(calls, c)
		}
	}
	// A held call has a server goroutine waiting for the rest of its request.
	waitFor(t, "the held calls to reach the server", 20*time.Second, func() bool {
		return srv.goroutines(t) >= base+conns*held
	})
	doneBefore := 0
	for _, c := range calls {
		select {
		case <-c.stream.done:
			doneBefore++
		default:
		}
	}

	sigAt := time.Now()
	srv.signal(t, syscall.SIGTERM)
	waitFor(t, "the listener to close", 10*time.Second, func() bool {
		conn, err := net.DialTimeout("tcp", srv.addr, time.Second)
		if err != nil {
			return errors.Is(err, syscall.ECONNREFUSED)
		}
		_ = conn.Close()
		return false
	})
	// New calls: on a new connection, and on connections made before the
	// signal once they have heard the server go away.
	refused := map[codes.Code]int{}
	newCall := func(c *client.Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.AssessCountry(ctx, countryRequests()[0])
		refused[status.Code(err)]++
		if status.Code(err) != codes.Unavailable {
			t.Errorf("a call after SIGTERM ended %v, want UNAVAILABLE", err)
		}
	}
	newCall(newClient(t, srv.addr, client.WithMaxAttempts(1)))
	for _, c := range clients {
		waitFor(t, "the client to see the server go away", 10*time.Second, func() bool {
			return c.Conn().GetState() != connectivity.Ready
		})
		newCall(c)
	}

	// Release the held calls: every call in flight must complete OK.
	for _, c := range calls {
		if c.rest != nil {
			if err := c.raw.data(c.id, c.rest, true); err != nil {
				t.Errorf("send the rest of a held call: %v", err)
			}
		}
	}
	completed, answered := 0, 0
	for i, c := range calls {
		var resp pb.BatchAssessCountriesResponse
		err := c.raw.result(c.stream, grace, &resp)
		if err == nil && len(resp.GetResults()) != 100 {
			err = fmt.Errorf("%d results, want 100", len(resp.GetResults()))
		}
		for j, r := range resp.GetResults() {
			if err == nil && r.GetAssessment() == nil {
				err = fmt.Errorf("item %d: %v", j, r.GetError())
			}
		}
		if err != nil {
			t.Errorf("call %d (in flight at SIGTERM): %v", i, err)
			continue
		}
		completed++
		answered += proto.Size(&resp)
	}
	if completed < len(calls) {
		t.Logf("the server's log:\n%s", srv.stderr)
	}
	var exitErr error
	select {
	case <-srv.exited:
		exitErr = srv.waitErr
	case <-time.After(grace + 5*time.Second - time.Since(sigAt)):
		t.Fatalf("still running %v after SIGTERM", grace+5*time.Second)
	}
	exitAfter := time.Since(sigAt)
	if exitErr != nil {
		t.Errorf("exit: %v\n%s", exitErr, srv.stderr)
	}
	goAways, _ := raws[0].received()
	figure(t, "%d batch calls (100 items each) sent before SIGTERM, %d in flight at the signal (%d held half-sent): %d completed OK (%d KB of answers); %d new calls after the signal refused %v; GOAWAYs on a held connection: %v; exit 0 after %v (grace %v)",
		len(calls), len(calls)-doneBefore, conns*held, completed, answered/1000, len(clients)+1, refused, goAways, exitAfter.Round(time.Millisecond), grace)
}
