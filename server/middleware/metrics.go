package middleware

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// Metrics are the calls' counts and durations.
type Metrics struct {
	handled  *prometheus.CounterVec
	handling *prometheus.HistogramVec
	// linesLeftOut counts the call lines a sampler left out of the log.
	linesLeftOut prometheus.Counter
}

// NewMetrics registers the call metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		// The gRPC names and labels follow go-grpc-middleware's, so the
		// usual dashboards work.
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total",
			Help: "RPCs completed on the server, by method and status code.",
		}, []string{"grpc_service", "grpc_method", "grpc_code"}),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Time to handle an RPC on the server, by method and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"grpc_service", "grpc_method", "grpc_code"}),
		linesLeftOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safethird_call_log_lines_left_out_total",
			Help: "Call log lines left out by sampling: calls cancelled before their request arrived, without a token, are logged at most once a second (each is still counted in grpc_server_handled_total).",
		}),
	}
	for _, c := range []prometheus.Collector{m.handled, m.handling, m.linesLeftOut} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observeCall records one finished RPC.
func (m *Metrics) observeCall(fullMethod string, code codes.Code, d time.Duration) {
	service, method := splitMethod(fullMethod)
	m.handled.WithLabelValues(service, method, code.String()).Inc()
	m.handling.WithLabelValues(service, method, code.String()).Observe(d.Seconds())
}

// splitMethod splits "/pkg.Service/Method" into its service and method.
func splitMethod(fullMethod string) (string, string) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return "unknown", fullMethod
	}
	return service, method
}
