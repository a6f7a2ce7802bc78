// Package metrics exposes trustbot's metrics in the Prometheus format,
// with prometheus/client_golang, on a registry of its own. Labels take only
// the values they were given at start; anything else is counted as
// "other", so that no input from outside can create a new series.
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

// Other is the label value of everything not among the known names.
const Other = "other"

// Names are the label values the metrics accept, each list from the package
// that owns the names.
type Names struct {
	Commands []string // subcommands, control and form IDs, "unknown"
	Kinds    []string // delivery kinds
	States   []string // delivery outcomes
	Methods  []string // Slack Web API methods
	Errors   []string // error labels of Slack methods
}

// known is one label's set of accepted values.
type known map[string]bool

func newKnown(names []string) known {
	k := known{}
	for _, n := range names {
		k[n] = true
	}
	return k
}

// label returns v when it is known, else Other.
func (k known) label(v string) string {
	if k[v] {
		return v
	}
	return Other
}

// Prometheus implements trustbot.Metrics.
type Prometheus struct {
	names struct{ commands, kinds, states, methods, errors known }

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
// collectors, labelled only with these names.
func New(names Names) *Prometheus {
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
	p.names.commands = newKnown(slices.Concat(names.Commands, []string{"unknown"}))
	p.names.kinds = newKnown(names.Kinds)
	p.names.states = newKnown(names.States)
	p.names.methods = newKnown(names.Methods)
	p.names.errors = newKnown(names.Errors)
	return p
}

// Handler serves the metrics.
func (p *Prometheus) Handler() http.Handler {
	return promhttp.HandlerFor(p.registry, promhttp.HandlerOpts{Registry: p.registry})
}

func (p *Prometheus) Command(name string) {
	p.commands.WithLabelValues(p.names.commands.label(name)).Inc()
}
func (p *Prometheus) Acked(d time.Duration) { p.ack.Observe(d.Seconds()) }
func (p *Prometheus) Delivered(kind, state string) {
	p.deliveries.WithLabelValues(p.names.kinds.label(kind), p.names.states.label(state)).Inc()
}
func (p *Prometheus) SlackError(method, code string) {
	p.slackErrors.WithLabelValues(p.names.methods.label(method), p.names.errors.label(code)).Inc()
}
func (p *Prometheus) RateLimited(method string) {
	p.rateLimited.WithLabelValues(p.names.methods.label(method)).Inc()
}
func (p *Prometheus) Reconnected()  { p.reconnects.Inc() }
func (p *Prometheus) Backlog(n int) { p.backlog.Set(float64(n)) }
func (p *Prometheus) Missed(kind string, n int) {
	p.missed.WithLabelValues(p.names.kinds.label(kind)).Add(float64(n))
}

// Fault counts a caught fault; a name not among trustbot.Faults counts as
// "other".
func (p *Prometheus) Fault(name string) {
	if !slices.Contains(trustbot.Faults, name) {
		name = Other
	}
	p.faults.WithLabelValues(name).Inc()
}
