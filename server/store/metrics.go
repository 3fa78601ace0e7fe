package store

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the dataset's: the revision served and each load's outcome.
type Metrics struct {
	datasetInfo  *prometheus.GaugeVec
	loadDuration prometheus.Histogram
	loads        *prometheus.CounterVec
}

// NewMetrics registers the dataset metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
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
	}
	for _, c := range []prometheus.Collector{m.datasetInfo, m.loadDuration, m.loads} {
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

func (m *Metrics) observeLoad(d time.Duration, err error) {
	m.loadDuration.Observe(d.Seconds())
	if err != nil {
		m.loads.WithLabelValues("failure").Inc()
		return
	}
	m.loads.WithLabelValues("success").Inc()
}

func (m *Metrics) setRevision(revision string) {
	m.datasetInfo.Reset()
	m.datasetInfo.WithLabelValues(revision).Set(1)
}
