package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// retryServiceConfig retries UNAVAILABLE as the Go client's does, with
// backoffs long enough for the gated dataset to load between attempts. A
// backoff is drawn at random below its bound, and the load runs under the
// race detector on a machine that may be busy, so the bounds (0.5, 1, 2
// and 4 s, 3.75 s on average in all) leave the load a few seconds.
const retryServiceConfig = `{"methodConfig": [{"name": [{"service": "safethird.v1.AssessmentService"}],
  "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.5s", "maxBackoff": "4s", "backoffMultiplier": 2,
  "retryableStatusCodes": ["UNAVAILABLE"]}}]}`

// Regression: a failed call used to return response headers (the
// x-request-id), and a gRPC client never retries once it has headers, so
// the UNAVAILABLE of a replica still loading its dataset (at start, or
// restarted behind a round-robin client) failed the call instead of being
// retried. Found by test/reliability's TestReplicaLoss.
func TestUnavailableWhileLoadingIsRetried(t *testing.T) {
	ts, release := startGated(t, startUnready)

	conn := dialBufconn(t, ts.lis, grpc.WithDefaultServiceConfig(retryServiceConfig))
	t.Cleanup(func() { _ = conn.Close() })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := safethirdv1.NewAssessmentServiceClient(conn).AssessCountry(ctx, mx)
		done <- err
	}()
	unavailable := map[string]string{"grpc_method": "AssessCountry", "grpc_code": "Unavailable"}
	waitFor(t, "the first attempt to fail", func() bool {
		return metricValue(t, ts.reg, "grpc_server_handled_total", unavailable) >= 1
	})
	release()
	if err := <-done; err != nil {
		t.Fatalf("AssessCountry = %v; want it retried until the dataset loaded", err)
	}
	ok := map[string]string{"grpc_method": "AssessCountry", "grpc_code": "OK"}
	if got := metricValue(t, ts.reg, "grpc_server_handled_total", ok); got != 1 {
		t.Errorf("%v attempts succeeded, want 1", got)
	}
}
