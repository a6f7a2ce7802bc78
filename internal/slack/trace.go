package slack

import "time"

// AckTrace is how the ack of one request went, handed to Config.AckTrace
// once the ack is written: for a benchmark to tell, ack by ack, where
// the time went (matched by envelope ID with when the envelope was sent
// and its ack read back).
type AckTrace struct {
	Request string    // the envelope ID (Socket Mode), or the HTTP request's kind of path
	How     AckHow    // what the ack carried and who sent it
	Read    time.Time // the request read (a frame off the socket)
	Written time.Time // its ack handed to the socket (or the HTTP response)
	// Waiting and Busy are the jobs queued and the workers busy when the
	// request was read; Paced, whether a time per job was known then
	// (see readyWithin).
	Waiting, Busy int
	Paced         bool
}

// AckHow is what an ack carried and who sent it.
type AckHow uint8

const (
	// AckAtOnce: empty, sent at once (the answer, if any, follows
	// through the response_url).
	AckAtOnce AckHow = iota
	// AckAnswer: held for the answer, and sent with it by the worker.
	AckAnswer
	// AckBudget: held for the answer, and sent empty when the budget
	// ended before it was ready.
	AckBudget
	// AckByWorker: held, and sent empty by the worker (an answer that
	// does not fit in an ack, none at all, or an ack that failed).
	AckByWorker
	// AckBusy: the queue was full; the ack says so.
	AckBusy
)

func (h AckHow) String() string {
	switch h {
	case AckAtOnce:
		return "at-once"
	case AckAnswer:
		return "answer"
	case AckBudget:
		return "budget"
	case AckByWorker:
		return "by-worker"
	case AckBusy:
		return "busy"
	}
	return "unknown"
}

// ackState is what the queue looked like when a held request was read,
// kept for its AckTrace.
type ackState struct {
	waiting, busy int
	paced         bool
}

// queueState is what the queue looks like now, for an AckTrace; nil
// without Config.AckTrace, so that no ack pays for it unasked.
func (c *Client) queueState() *ackState {
	if c.cfg.AckTrace == nil {
		return nil
	}
	return &ackState{waiting: len(c.jobs), busy: int(c.busy.Load()), paced: c.jobTime.Load() > 0}
}

// traceAck hands how an ack went to Config.AckTrace, given the queue's
// state when the request was read (nil without an AckTrace).
func (c *Client) traceAck(in inbound, how AckHow, read time.Time, s *ackState) {
	if s != nil {
		c.cfg.AckTrace(AckTrace{Request: in.id, How: how, Read: read, Written: time.Now(), Waiting: s.waiting, Busy: s.busy, Paced: s.paced})
	}
}

// traceHeld hands how a held ack went to Config.AckTrace, if set.
func (c *Client) traceHeld(p *pendingAck, how AckHow) { c.traceAck(p.in, how, p.start, p.state0) }
