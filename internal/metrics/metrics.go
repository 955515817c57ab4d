package metrics

import (
	"crypto/tls"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// namespace prefixes every postgate metric name.
const namespace = "postgate"

// Metrics holds every postgate collector and the registry they live in.
// All methods are safe for concurrent use, and all are no-ops on a nil
// *Metrics, so code under test may run without instrumentation.
type Metrics struct {
	reg *prometheus.Registry

	sessions         *prometheus.CounterVec // listener
	sessionsActive   *prometheus.GaugeVec   // listener
	connsRefused     *prometheus.CounterVec // listener
	tlsSessions      *prometheus.CounterVec // version
	tlsFailures      *prometheus.CounterVec // listener
	authAttempts     *prometheus.CounterVec // mechanism, result, reason
	messagesAccepted *prometheus.CounterVec // listener
	messageBytes     *prometheus.CounterVec // listener
	messagesRejected *prometheus.CounterVec // stage, reason
	deliveries       *prometheus.CounterVec // transport, outcome
	fsyncSeconds     prometheus.Histogram   // (none)
	queue            *queueCollector        // postgate_queue_messages, postgate_queue_oldest_age_seconds
	startTime        prometheus.Gauge       // (none)
}

// New returns a fresh set of collectors in its own registry, with the Go
// runtime and process collectors included. Series whose label values come
// from the fixed vocabularies below start at zero, so dashboards and
// alerts see them before the first event.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.sessions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "sessions_total",
		Help: "SMTP sessions started, by listener kind.",
	}, []string{"listener"})
	m.sessionsActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "sessions_active",
		Help: "SMTP sessions currently open, by listener kind.",
	}, []string{"listener"})
	m.connsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "connections_refused_total",
		Help: "Connections refused before a session started (connection limits), by listener kind.",
	}, []string{"listener"})
	m.tlsSessions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "tls_sessions_total",
		Help: "TLS handshakes completed (STARTTLS or implicit TLS), by protocol version.",
	}, []string{"version"})
	m.tlsFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "tls_handshake_failures_total",
		Help: "TLS handshakes that failed, by listener kind.",
	}, []string{"listener"})
	m.authAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "auth_attempts_total",
		Help: "SMTP AUTH attempts by mechanism, result (success, failure) and failure reason class (none on success).",
	}, []string{"mechanism", "result", "reason"})
	m.messagesAccepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "messages_accepted_total",
		Help: "Messages accepted into the spool (250 after DATA/BDAT), by listener kind.",
	}, []string{"listener"})
	m.messageBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "message_bytes_accepted_total",
		Help: "Octets of accepted messages as spooled, by listener kind.",
	}, []string{"listener"})
	m.messagesRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "messages_rejected_total",
		Help: "Refused MAIL, RCPT or end-of-data commands, by stage and reason class.",
	}, []string{"stage", "reason"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "deliveries_total",
		Help: "Delivery attempts per recipient, by transport and outcome (delivered, deferred, failed).",
	}, []string{"transport", "outcome"})
	m.fsyncSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "spool_fsync_seconds",
		Help:    "Duration of the spool's fsync/fdatasync calls.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	m.queue = &queueCollector{
		size: prometheus.NewDesc(namespace+"_queue_messages",
			"Messages in the spool.", nil, nil),
		age: prometheus.NewDesc(namespace+"_queue_oldest_age_seconds",
			"Age of the oldest message in the spool; 0 when the spool is empty.", nil, nil),
	}
	m.startTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "start_time_seconds",
		Help: "Unix time at which the server started.",
	})
	m.startTime.SetToCurrentTime()

	m.reg.MustRegister(m.sessions, m.sessionsActive, m.connsRefused, m.tlsSessions, m.tlsFailures,
		m.authAttempts, m.messagesAccepted, m.messageBytes, m.messagesRejected, m.deliveries,
		m.fsyncSeconds, m.queue, m.startTime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	for _, l := range listeners {
		m.sessions.WithLabelValues(l)
		m.sessionsActive.WithLabelValues(l)
		m.messagesAccepted.WithLabelValues(l)
	}
	for _, t := range transports {
		for _, o := range outcomes {
			m.deliveries.WithLabelValues(t, o)
		}
	}
	return m
}

// Default is the process-wide set the package-level helpers report to.
var Default = New()

// Registry returns the registry holding m's collectors (for tests and for
// embedding in another HTTP mux); nil for a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// SessionStarted counts a new SMTP session on a listener kind ("smtp",
// "submission", "submissions", "local"). Call SessionEnded when it ends.
func (m *Metrics) SessionStarted(listener string) {
	if m == nil {
		return
	}
	l := oneOf(listener, listeners)
	m.sessions.WithLabelValues(l).Inc()
	m.sessionsActive.WithLabelValues(l).Inc()
}

// SessionEnded marks the end of a session SessionStarted counted.
func (m *Metrics) SessionEnded(listener string) {
	if m == nil {
		return
	}
	m.sessionsActive.WithLabelValues(oneOf(listener, listeners)).Dec()
}

// ConnectionRefused counts a connection closed by the connection limits.
func (m *Metrics) ConnectionRefused(listener string) {
	if m == nil {
		return
	}
	m.connsRefused.WithLabelValues(oneOf(listener, listeners)).Inc()
}

// TLSEstablished counts a completed TLS handshake; version is
// tls.ConnectionState.Version (tls.VersionTLS13, ...).
func (m *Metrics) TLSEstablished(version uint16) {
	if m == nil {
		return
	}
	m.tlsSessions.WithLabelValues(TLSVersionLabel(version)).Inc()
}

// TLSFailed counts a failed TLS handshake on a listener kind.
func (m *Metrics) TLSFailed(listener string) {
	if m == nil {
		return
	}
	m.tlsFailures.WithLabelValues(oneOf(listener, listeners)).Inc()
}

// AuthAttempt counts one AUTH exchange. mech is the mechanism name as the
// client sent it (unknown names count as "other"); ok is the result; on
// failure reason is the free-text reason, reduced by ReasonClass.
func (m *Metrics) AuthAttempt(mech string, ok bool, reason string) {
	if m == nil {
		return
	}
	result, class := "success", "none"
	if !ok {
		result, class = "failure", ReasonClass(reason)
	}
	m.authAttempts.WithLabelValues(MechanismLabel(mech), result, class).Inc()
}

// MessageAccepted counts a message committed to the spool with its size
// in octets.
func (m *Metrics) MessageAccepted(listener string, size int64) {
	if m == nil {
		return
	}
	l := oneOf(listener, listeners)
	m.messagesAccepted.WithLabelValues(l).Inc()
	if size > 0 {
		m.messageBytes.WithLabelValues(l).Add(float64(size))
	}
}

// MessageRejected counts a refused MAIL, RCPT or end of data. stage is
// one of the Stage constants and reason one of the Reject constants (or
// RejectReasonOf a reply); other values count as "other".
func (m *Metrics) MessageRejected(stage, reason string) {
	if m == nil {
		return
	}
	m.messagesRejected.WithLabelValues(oneOf(stage, stages), oneOf(reason, rejectReasons)).Inc()
}

// Delivery counts one delivery attempt for one recipient. transport is
// one of the Transport constants and outcome one of the Outcome constants.
func (m *Metrics) Delivery(transport, outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(oneOf(transport, transports), oneOf(outcome, outcomes)).Inc()
}

// FsyncSeconds records the duration of one fsync or fdatasync call of
// the spool.
func (m *Metrics) FsyncSeconds(d time.Duration) {
	if m == nil {
		return
	}
	m.fsyncSeconds.Observe(d.Seconds())
}

// RegisterQueue sets the function asked at every scrape for the number of
// messages in the spool and the age of the oldest. It replaces any earlier
// function; nil reports an empty queue.
func (m *Metrics) RegisterQueue(f func() (count int, oldest time.Duration)) {
	if m == nil {
		return
	}
	m.queue.mu.Lock()
	m.queue.f = f
	m.queue.mu.Unlock()
}

// Package-level helpers report to Default.

// SessionStarted counts a new session in Default (see Metrics.SessionStarted).
func SessionStarted(listener string) { Default.SessionStarted(listener) }

// SessionEnded marks the end of a session in Default.
func SessionEnded(listener string) { Default.SessionEnded(listener) }

// ConnectionRefused counts a refused connection in Default.
func ConnectionRefused(listener string) { Default.ConnectionRefused(listener) }

// TLSEstablished counts a completed handshake in Default.
func TLSEstablished(version uint16) { Default.TLSEstablished(version) }

// TLSFailed counts a failed handshake in Default.
func TLSFailed(listener string) { Default.TLSFailed(listener) }

// AuthAttempt counts an AUTH exchange in Default.
func AuthAttempt(mech string, ok bool, reason string) { Default.AuthAttempt(mech, ok, reason) }

// MessageAccepted counts an accepted message in Default.
func MessageAccepted(listener string, size int64) { Default.MessageAccepted(listener, size) }

// MessageRejected counts a refusal in Default.
func MessageRejected(stage, reason string) { Default.MessageRejected(stage, reason) }

// Delivery counts a delivery attempt in Default.
func Delivery(transport, outcome string) { Default.Delivery(transport, outcome) }

// FsyncSeconds records an fsync duration in Default.
func FsyncSeconds(d time.Duration) { Default.FsyncSeconds(d) }

// RegisterQueue sets Default's queue gauge function.
func RegisterQueue(f func() (count int, oldest time.Duration)) { Default.RegisterQueue(f) }

// queueCollector asks a function for the queue size and age at scrape
// time, so the gauges are never stale and the spool is not polled when
// nobody scrapes.
type queueCollector struct {
	size, age *prometheus.Desc
	mu        sync.Mutex
	f         func() (int, time.Duration)
}

// Describe implements prometheus.Collector.
func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.size
	ch <- q.age
}

// Collect implements prometheus.Collector.
func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	f := q.f
	q.mu.Unlock()
	var n int
	var age time.Duration
	if f != nil {
		n, age = f()
	}
	ch <- prometheus.MustNewConstMetric(q.size, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(q.age, prometheus.GaugeValue, age.Seconds())
}

// TLSVersionLabel renders a TLS version as the label value "1.0" ...
// "1.3"; anything else (SSL 3.0, unknown) is "other".
func TLSVersionLabel(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return "other"
}
