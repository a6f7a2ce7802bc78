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
	Methods  []string // platform API methods (Slack Web API, Bot Framework connector)
	Errors   []string // error labels of those methods
	Refused  []string // reasons an inbound request is refused
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
	names struct{ commands, kinds, states, methods, errors, refused known }

	registry    *prometheus.Registry
	commands    *prometheus.CounterVec
	ack         *prometheus.HistogramVec
	deliveries  *prometheus.CounterVec
	apiErrors   *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	reconnects  prometheus.Counter
	refused     *prometheus.CounterVec
	backlog     prometheus.Gauge

	reconcileWaiting, reconcileOldest prometheus.Gauge
	missed                            *prometheus.CounterVec
	faults                            *prometheus.CounterVec
	claimed                           prometheus.Counter
	reconciled                        *prometheus.CounterVec
	expired                           prometheus.Counter
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
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "trustbot_ack_latency_seconds", Help: "Time from a request received (a Slack envelope read from the socket, a Teams activity) to its acknowledgement queued, by platform.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 2, 3},
		}, []string{"platform"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_deliveries_total", Help: "Scheduled messages handed to the platform, by platform, kind and outcome.",
		}, []string{"platform", "kind", "state"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_platform_api_errors_total", Help: "Error answers from platform API methods, by platform, method and error.",
		}, []string{"platform", "method", "error"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_platform_rate_limited_total", Help: "429 answers from platform API methods, by platform and method.",
		}, []string{"platform", "method"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustbot_socket_reconnects_total", Help: "Socket Mode connections opened after the first.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_requests_refused_total", Help: "Inbound requests refused before they were read (no valid signature, too old, too large), by platform and reason.",
		}, []string{"platform", "reason"}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustbot_due_backlog", Help: "Deliveries due and not yet sent at the last dispatch pass.",
		}),
		reconcileWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustbot_reconcile_waiting", Help: "Deliveries left sending that still wait, at the last dispatch pass, to be looked for on the platform (its budget for reading conversations spent for now).",
		}),
		reconcileOldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustbot_reconcile_oldest_seconds", Help: "How long the oldest delivery left sending has waited to be looked for, at the last dispatch pass; 0 when none waits.",
		}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_missed_occurrences_total", Help: "Occurrences that passed unsent while nothing was sending (one catch-up is sent instead), by kind.",
		}, []string{"kind"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_faults_total", Help: "Internal faults caught: recovered panics, jumps of the wall clock.",
		}, []string{"fault"}),
		claimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustbot_claims_total", Help: "Deliveries this replica claimed to send.",
		}),
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_reconciled_total", Help: "Deliveries left sending that this replica settled, by outcome: found on the platform, requeued, unreachable, uninstalled (the app removed where it went).",
		}, []string{"outcome"}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustbot_lease_expiries_total", Help: "Deliveries this replica found left sending by a replica whose lease had ended.",
		}),
	}
	for _, o := range []string{"found", "requeued", "unreachable", "uninstalled"} {
		p.reconciled.WithLabelValues(o)
	}
	for _, f := range trustbot.Faults {
		p.faults.WithLabelValues(f) // every fault shows, at zero until it happens
	}
	p.registry.MustRegister(p.commands, p.ack, p.deliveries, p.apiErrors, p.rateLimited, p.reconnects, p.refused, p.backlog, p.reconcileWaiting, p.reconcileOldest, p.missed, p.faults,
		p.claimed, p.reconciled, p.expired,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p.names.commands = newKnown(slices.Concat(names.Commands, []string{"unknown"}))
	p.names.kinds = newKnown(names.Kinds)
	p.names.states = newKnown(names.States)
	p.names.methods = newKnown(names.Methods)
	p.names.errors = newKnown(names.Errors)
	p.names.refused = newKnown(names.Refused)
	return p
}

// Handler serves the metrics.
func (p *Prometheus) Handler() http.Handler {
	return promhttp.HandlerFor(p.registry, promhttp.HandlerOpts{Registry: p.registry})
}

func (p *Prometheus) Command(name string) {
	p.commands.WithLabelValues(p.names.commands.label(name)).Inc()
}
func (p *Prometheus) Acked(pl trustbot.Platform, d time.Duration) {
	p.ack.WithLabelValues(platform(pl)).Observe(d.Seconds())
}
func (p *Prometheus) Delivered(pl trustbot.Platform, kind, state string) {
	p.deliveries.WithLabelValues(platform(pl), p.names.kinds.label(kind), p.names.states.label(state)).Inc()
}
func (p *Prometheus) APIError(pl trustbot.Platform, method, code string) {
	p.apiErrors.WithLabelValues(platform(pl), p.names.methods.label(method), p.names.errors.label(code)).Inc()
}
func (p *Prometheus) RateLimited(pl trustbot.Platform, method string) {
	p.rateLimited.WithLabelValues(platform(pl), p.names.methods.label(method)).Inc()
}

// platform is a platform's label: only the ones trustbot knows.
func platform(p trustbot.Platform) string {
	if p == trustbot.Slack || p == trustbot.Teams {
		return string(p)
	}
	return Other
}
func (p *Prometheus) Reconnected() { p.reconnects.Inc() }
func (p *Prometheus) Refused(pl trustbot.Platform, reason string) {
	p.refused.WithLabelValues(platform(pl), p.names.refused.label(reason)).Inc()
}
func (p *Prometheus) Backlog(n int) { p.backlog.Set(float64(n)) }

// ReconcileWaiting sets the reconciliation's waiting deliveries and the
// age of the oldest.
func (p *Prometheus) ReconcileWaiting(n int, oldest time.Duration) {
	p.reconcileWaiting.Set(float64(n))
	p.reconcileOldest.Set(oldest.Seconds())
}
func (p *Prometheus) Claimed(n int) { p.claimed.Add(float64(n)) }
func (p *Prometheus) LeaseExpired(n int) {
	p.expired.Add(float64(n))
}

// Reconciled counts a settled delivery; an outcome outside the known
// ones is not counted.
func (p *Prometheus) Reconciled(outcome string) {
	switch outcome {
	case "found", "requeued", "unreachable", "uninstalled":
		p.reconciled.WithLabelValues(outcome).Inc()
	}
}
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
