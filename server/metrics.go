package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

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
