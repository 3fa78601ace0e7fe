package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"
)

// metrics are the server's Prometheus collectors, registered on the
// private registry from Config, never the global one.
type metrics struct {
	handled  *prometheus.CounterVec
	handling *prometheus.HistogramVec

	datasetInfo  *prometheus.GaugeVec
	loadDuration prometheus.Histogram
	loads        *prometheus.CounterVec

	connOpen    prometheus.Gauge
	connRefused prometheus.Counter
	connCut     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
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
		datasetInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "safethird_dataset_info",
			Help: "The dataset revision being served, as a label; always 1.",
		}, []string{"revision"}),
		loadDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "safethird_dataset_load_duration_seconds",
			Help:    "Time to load and validate the dataset, successful or not.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safethird_dataset_loads_total",
			Help: "Dataset loads (at start and on each reload) by result: success, or failure when the dataset was refused.",
		}, []string{"result"}),
		connOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "safethird_connections_open",
			Help: "Client connections open.",
		}),
		connRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safethird_connections_refused_total",
			Help: "Connections closed at accept because --max-connections were open.",
		}),
		connCut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safethird_connections_cut_total",
			Help: "Connections closed because their client did not read its responses.",
		}),
	}
	for _, c := range []prometheus.Collector{m.handled, m.handling, m.datasetInfo, m.loadDuration, m.loads, m.connOpen, m.connRefused, m.connCut} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Both results exist from the start, so a rate() over failures works
	// before the first one.
	m.loads.WithLabelValues("success")
	m.loads.WithLabelValues("failure")
	return m, nil
}

// observeCall records one finished RPC.
func (m *metrics) observeCall(fullMethod string, code codes.Code, d time.Duration) {
	service, method := splitMethod(fullMethod)
	m.handled.WithLabelValues(service, method, code.String()).Inc()
	m.handling.WithLabelValues(service, method, code.String()).Observe(d.Seconds())
}

func (m *metrics) observeLoad(d time.Duration, err error) {
	m.loadDuration.Observe(d.Seconds())
	if err != nil {
		m.loads.WithLabelValues("failure").Inc()
		return
	}
	m.loads.WithLabelValues("success").Inc()
}

func (m *metrics) setRevision(revision string) {
	m.datasetInfo.Reset()
	m.datasetInfo.WithLabelValues(revision).Set(1)
}

// splitMethod splits "/pkg.Service/Method" into its service and method.
func splitMethod(fullMethod string) (string, string) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return "unknown", fullMethod
	}
	return service, method
}

// metricsServer serves /metrics from the registry over HTTP.
type metricsServer struct {
	lis  net.Listener
	http *http.Server
}

func newMetricsServer(addr string, reg *prometheus.Registry) (*metricsServer, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return &metricsServer{lis: lis, http: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
	}}, nil
}

// serve blocks until shutdown; it reports nothing once shutdown has begun.
func (m *metricsServer) serve() error {
	if err := m.http.Serve(m.lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops the metrics server, closing at ctx's end the connections
// of scrapes still running.
func (m *metricsServer) shutdown(ctx context.Context) error {
	if err := m.http.Shutdown(ctx); err != nil {
		_ = m.http.Close()
		return err
	}
	return nil
}
