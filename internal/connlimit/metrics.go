package connlimit

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the connection counts, shared by every listener of a Limiter.
type Metrics struct {
	Open    prometheus.Gauge
	Refused prometheus.Counter
	Cut     prometheus.Counter
}

// NewMetrics registers the connection metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "safethird_connections_open",
			Help: "Client connections open.",
		}),
		Refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safethird_connections_refused_total",
			Help: "Connections closed at accept because --max-connections were open.",
		}),
		Cut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safethird_connections_cut_total",
			Help: "Connections closed because their client did not read its responses.",
		}),
	}
	for _, c := range []prometheus.Collector{m.Open, m.Refused, m.Cut} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
