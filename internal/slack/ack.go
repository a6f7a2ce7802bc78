package slack

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// DefaultAnswerBudget is how long the ack of a slash command waits for the
// answer, so as to carry it. Slack shows a message in a slash command's ack
// as the command's answer, which spares the response_url post (a second
// HTTPS round trip) and lets the answer appear with the ack. Slack waits
// 3 s for the ack; the user notices a delay from about 100 ms. A command
// served from memory is answered in well under a millisecond, and one that
// reads the database cold and writes a row in one to two: 3 ms lets those
// ride in the ack with room for a garbage collection or a busy core, while
// an answer that misses it costs the user at most 3 ms more than an empty
// ack at once would have. Past the budget the ack goes empty and the answer
// follows through response_url: the ack never waits on the database longer
// than this.
const DefaultAnswerBudget = 3 * time.Millisecond

// SuggestBudget is how long the ack of a block_suggestion waits for the
// menu's choices, which only the ack can carry. Slack waits 3 s; past
// this budget the ack goes with no choices, leaving room for its trip.
const SuggestBudget = 2 * time.Second

// noOptions is the ack of a block_suggestion whose choices are not ready.
var noOptions = jsonOptions{Options: []*jsonOption{}}

// Kinds of inbound request, named as Socket Mode names its envelopes.
const (
	kindSlash       = "slash_commands"
	kindInteractive = "interactive"
	kindEvent       = "events_api"
)

// inbound is one request from Slack, whichever way it came (a Socket Mode
// envelope, an HTTP request): its kind, its payload and how it is
// acknowledged.
type inbound struct {
	id      string // the envelope ID, or the HTTP request's kind of path, for logs
	kind    string // kindSlash, kindInteractive or kindEvent
	payload json.RawMessage
	slash   *slack.SlashCommand // a slash command read already; else read from payload
	accepts bool                // the ack may carry a message (a slash command)
	suggest bool                // a block_suggestion: the ack carries the menu's choices
	// dedupe is the key under which a redelivery of this request is
	// known (a Socket Mode envelope's ID), checked by the worker so that
	// the ack never waits on that record; empty: none.
	dedupe string
	// ack sends the acknowledgement, with a message or without (nil). It
	// is called once per request, or once more without a message after
	// it refused one. A Socket Mode envelope sets none: its ack goes on
	// the socket under its envelope ID, id (see sendAckOf).
	ack func(payload any) error
}

// job is one request for the worker pool. For a slash command whose ack
// may carry the answer, ack is its pending ack.
type job struct {
	in  inbound
	ack *pendingAck
}

// Who sent a pending ack.
const (
	ackPending  int32 = iota
	ackAnswered       // the worker, with the answer
	ackEmpty          // the budget's timer or the worker, without
)

// pendingAck is the ack of a slash command, not sent yet. Whoever claims it
// first sends it: the worker with the answer, or the timer at the end of
// the budget without. Exactly one claim succeeds, so an answer goes either
// in the ack or to the response_url, never both and never neither.
type pendingAck struct {
	in    inbound
	start time.Time
	state atomic.Int32
	// sent is done once the claimer has handed the ack to the socket (a
	// wait group within the struct, not a channel of its own: one
	// allocation less per command).
	sent sync.WaitGroup
	// stop stops the budget's timer, once set: a claim stops it, so
	// that an answer in the ack leaves no timer to fire for nothing.
	stop atomic.Pointer[func() bool]
	// state0 is the queue when the request was read, for an AckTrace
	// (Config.AckTrace); nil without one.
	state0 *ackState
}

func newPendingAck(in inbound, start time.Time) *pendingAck {
	p := &pendingAck{in: in, start: start}
	p.sent.Add(1)
	return p
}

// claim reports whether the caller takes the ack, moving it to state; the
// budget's timer is then stopped.
func (p *pendingAck) claim(state int32) bool {
	if !p.state.CompareAndSwap(ackPending, state) {
		return false
	}
	if stop := p.stop.Load(); stop != nil {
		(*stop)()
	}
	return true
}

// setStop sets how to stop the budget's timer, and stops it when the ack
// was claimed already (the timer is set once the job is queued, and its
// worker may be first).
func (p *pendingAck) setStop(stop func() bool) {
	p.stop.Store(&stop)
	if p.state.Load() != ackPending {
		stop()
	}
}

// ackEmpty sends the pending ack without an answer, if nobody sent it
// yet; how says who sends it (AckBudget or AckByWorker), for an AckTrace.
func (c *Client) ackEmpty(p *pendingAck, how AckHow) {
	if p != nil && p.claim(ackEmpty) {
		c.cfg.Metrics.Acked(trustbot.Slack, time.Since(p.start))
		var payload any
		if p.in.suggest {
			payload = noOptions
		}
		c.ack(p.in, payload)
		c.traceHeld(p, how)
		p.sent.Done()
	}
}

// answerInAck sends the reply in the pending ack when it fits there and the
// ack is still unsent. It reports whether the reply was delivered; if not,
// the ack has been sent empty and the reply must take the usual path.
func (c *Client) answerInAck(p *pendingAck, to target, r trustbot.Reply) bool {
	payload, ok := c.ackPayload(to, r)
	if !ok {
		c.ackEmpty(p, AckByWorker)
		p.sent.Wait()
		return false
	}
	if !p.claim(ackAnswered) {
		// The budget ran out first: the answer follows the empty ack,
		// never overtakes it.
		p.sent.Wait()
		return false
	}
	defer p.sent.Done()
	c.cfg.Metrics.Acked(trustbot.Slack, time.Since(p.start))
	if err := c.sendAckOf(p.in, payload); err != nil {
		c.log.Warn("answer not sent in the ack", "request", p.in.id, "err", err)
		c.ack(p.in, nil)
		c.traceHeld(p, AckByWorker)
		return false
	}
	c.traceHeld(p, AckAnswer)
	return true
}

// ackPayload renders a reply as the message of a slash command's ack, or
// as the choices of a block_suggestion's. Only
// a plain message fits there: a form, a file or an edit of an earlier
// message keeps the usual path. An answer too large for an ack (Slack
// drops Socket Mode responses of 20 KB or more) is refused by slack-go
// before anything is written, and then takes the usual path too.
func (c *Client) ackPayload(to target, r trustbot.Reply) (any, bool) {
	if to.Suggest {
		return suggestions(r), true
	}
	if r.Modal != nil || r.File != nil || r.Update != nil || to.Home || to.Form {
		return nil, false
	}
	return c.messages.message(r), true
}
