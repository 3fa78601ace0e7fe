package connlimit

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the connection counts of both doors, by door ("grpc",
// "http").
type Metrics struct {
	open    *prometheus.GaugeVec
	refused *prometheus.CounterVec
	evicted *prometheus.CounterVec
	cut     *prometheus.CounterVec
}

// NewMetrics registers the connection metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "safethird_connections_open",
			Help: "Client connections open, by door.",
		}, []string{"door"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safethird_connections_refused_total",
			Help: "Connections closed once past their preface because every connection served was busy (at --max-connections, or at --max-connections-per-source for their address), by door.",
		}, []string{"door"}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safethird_connections_evicted_total",
			Help: "Connections closed to make room for a new one, by door and reason: handshake (the oldest not yet past its preface), idle (the idle longest at --max-connections), source (the idle longest of an address at its share); or for abuse: resets (GOAWAY for too many streams reset).",
		}, []string{"door", "reason"}),
		cut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safethird_connections_cut_total",
			Help: "Connections closed because their client did not read its responses, by door.",
		}, []string{"door"}),
	}
	for _, c := range []prometheus.Collector{m.open, m.refused, m.evicted, m.cut} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
