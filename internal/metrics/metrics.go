// Package metrics exposes trustbot's metrics in the Prometheus format,
// with prometheus/client_golang, on a registry of its own.
package metrics

import (
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Prometheus implements trustbot.Metrics.
type Prometheus struct {
	registry    *prometheus.Registry
	commands    *prometheus.CounterVec
	ack         prometheus.Histogram
	deliveries  *prometheus.CounterVec
	slackErrors *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	reconnects  prometheus.Counter
	backlog     prometheus.Gauge
	missed      *prometheus.CounterVec
	faults      *prometheus.CounterVec
}

var _ trustbot.Metrics = (*Prometheus)(nil)

// New returns the metrics, registered with the Go runtime and process
// collectors.
func New() *Prometheus {
	p := &Prometheus{
		registry: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_commands_total", Help: "/trust subcommands and control presses handled, by name.",
		}, []string{"command"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "trustbot_ack_latency_seconds", Help: "Time from an envelope read from the socket to its ack queued.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 2, 3},
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_deliveries_total", Help: "Scheduled messages handed to Slack, by kind and outcome.",
		}, []string{"kind", "state"}),
		slackErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_slack_api_errors_total", Help: "Error answers from Slack Web API methods, by method and error.",
		}, []string{"method", "error"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_slack_rate_limited_total", Help: "429 answers from Slack Web API methods, by method.",
		}, []string{"method"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustbot_socket_reconnects_total", Help: "Socket Mode connections opened after the first.",
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustbot_due_backlog", Help: "Deliveries due and not yet sent at the last dispatch pass.",
		}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_missed_occurrences_total", Help: "Occurrences that passed unsent while nothing was sending (one catch-up is sent instead), by kind.",
		}, []string{"kind"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_faults_total", Help: "Internal faults caught: recovered panics, jumps of the wall clock.",
		}, []string{"fault"}),
	}
	for _, f := range trustbot.Faults {
		p.faults.WithLabelValues(f) // every fault shows, at zero until it happens
	}
	p.registry.MustRegister(p.commands, p.ack, p.deliveries, p.slackErrors, p.rateLimited, p.reconnects, p.backlog, p.missed, p.faults,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p
}

// Handler serves the metrics.
func (p *Prometheus) Handler() http.Handler {
	return promhttp.HandlerFor(p.registry, promhttp.HandlerOpts{Registry: p.registry})
}

func (p *Prometheus) Command(name string)   { p.commands.WithLabelValues(name).Inc() }
func (p *Prometheus) Acked(d time.Duration) { p.ack.Observe(d.Seconds()) }
func (p *Prometheus) Delivered(kind, state string) {
	p.deliveries.WithLabelValues(kind, state).Inc()
}
func (p *Prometheus) SlackError(method, code string) {
	p.slackErrors.WithLabelValues(method, code).Inc()
}
func (p *Prometheus) RateLimited(method string) { p.rateLimited.WithLabelValues(method).Inc() }
func (p *Prometheus) Reconnected()              { p.reconnects.Inc() }
func (p *Prometheus) Backlog(n int)             { p.backlog.Set(float64(n)) }
func (p *Prometheus) Missed(kind string, n int) { p.missed.WithLabelValues(kind).Add(float64(n)) }

// Fault counts a caught fault; a name not among trustbot.Faults counts as
// "other".
func (p *Prometheus) Fault(name string) {
	if !slices.Contains(trustbot.Faults, name) {
		name = "other"
	}
	p.faults.WithLabelValues(name).Inc()
}
