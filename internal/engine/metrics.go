package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline/internal/store"
)

// Metrics are the engine's Prometheus collectors.
type Metrics struct {
	eventsAccepted  *prometheus.CounterVec
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	deliveryLatency *prometheus.HistogramVec
	batchRows       *prometheus.HistogramVec
	batchDuration   *prometheus.HistogramVec
	pruned          prometheus.Counter
	inMemory        prometheus.Gauge
	staleLeases     *prometheus.CounterVec
	unsaved         prometheus.Gauge
	nodesReaped     prometheus.Counter
}

// NewMetrics creates the engine's collectors and registers them with reg
// when reg is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		eventsAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_events_accepted_total", Help: "Events committed to the log, by source.",
		}, []string{"source"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_attempts_total", Help: "Attempts by destination kind and outcome (succeeded, retrying, failed).",
		}, []string{"kind", "outcome"}),
		attemptDuration: histogram("hookline_attempt_duration_seconds", "Duration of one attempt.",
			prometheus.ExponentialBuckets(0.001, 2.5, 12), "kind"),
		deliveryLatency: histogram("hookline_delivery_latency_seconds", "Time from event accepted to successful delivery.",
			prometheus.ExponentialBuckets(0.001, 4, 14), "kind"),
		batchRows: histogram("hookline_commit_batch_rows", "Rows per group-commit transaction.",
			prometheus.ExponentialBuckets(1, 2, 10), "op"),
		batchDuration: histogram("hookline_commit_duration_seconds", "Duration of one group-commit transaction.",
			prometheus.ExponentialBuckets(0.0005, 2, 12), "op"),
	}
	m.pruned = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hookline_events_pruned_total", Help: "Finished events deleted by retention.",
	})
	m.inMemory = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookline_tasks_in_memory", Help: "Tasks held in this process's dispatcher (queued or running); the rest wait in the store.",
	})
	m.staleLeases = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookline_stale_leases_total",
		Help: "Task leases this node found taken over by another node, by operation: extend (its renewal came too late) or complete (its result was refused).",
	}, []string{"op"})
	m.unsaved = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookline_results_unsaved", Help: "Attempt results held in memory because the store could not take them; saved again with backoff.",
	})
	m.nodesReaped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hookline_cluster_nodes_reaped_total", Help: "Cluster nodes this node found silent too long and whose buckets and task leases it released.",
	})
	if reg != nil {
		reg.MustRegister(m.eventsAccepted, m.attempts, m.attemptDuration, m.deliveryLatency, m.batchRows, m.batchDuration, m.pruned, m.inMemory,
			m.staleLeases, m.unsaved, m.nodesReaped)
	}
	return m
}

// histogram is a histogram by one label.
func histogram(name, help string, buckets []float64, label string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{label})
}

func (m *Metrics) observeBatch(op string, rows int, d time.Duration) {
	m.batchRows.WithLabelValues(op).Observe(float64(rows))
	m.batchDuration.WithLabelValues(op).Observe(d.Seconds())
}

func (m *Metrics) observeAttempt(t *store.Task, a store.Attempt, status string) {
	outcome := status
	m.attempts.WithLabelValues(t.Kind, outcome).Inc()
	m.attemptDuration.WithLabelValues(t.Kind).Observe(a.Duration.Seconds())
	if status == store.StatusSucceeded && t.Event != nil {
		m.deliveryLatency.WithLabelValues(t.Kind).Observe(a.StartedAt.Add(a.Duration).Sub(t.Event.CreatedAt).Seconds())
	}
}
