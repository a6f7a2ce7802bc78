package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// Socket Mode, read and acknowledged by one goroutine per connection.
//
// slack-go's socketmode client passes each frame through four goroutines
// (its reader, its parser, the consumer of its Events channel and its
// writer of acks) and reads every payload in full before the consumer sees
// it. In a burst the workers hold both cores, and each of those hand-offs
// waits for one: the acks that go at once came late behind them. Here the
// goroutine that reads a frame reads only its envelope, hands the request
// to accept and writes the ack that goes at once itself; the payload is
// read by the worker that handles it. Acks that wait for an answer are
// written by the worker, under the same lock.

const (
	// DefaultPingLimit is how long a socket may go without a ping from
	// Slack before it is taken for dead and replaced (Slack pings every
	// few seconds).
	DefaultPingLimit = 30 * time.Second
	// socketWriteTimeout bounds one write of an ack or a pong.
	socketWriteTimeout = 10 * time.Second
	// socketHandshakeTimeout bounds the WebSocket handshake.
	socketHandshakeTimeout = 45 * time.Second
	// socketWriteBuffer holds an ack with a message in one frame (acks
	// with a payload of MaxAckPayload or more are refused).
	socketWriteBuffer = 32 << 10
	// reconnectFirst and reconnectMax bound the wait between attempts
	// to open a socket after a failed one (doubling from the first).
	reconnectFirst = 100 * time.Millisecond
	reconnectMax   = 5 * time.Minute
	// steadySocket is how long a socket must have stayed open for the
	// next one to be asked for at once when it ends.
	steadySocket = 10 * time.Second
)

// errDisconnect ends a socket Slack asked the app to leave.
var errDisconnect = errors.New("slack asked to reconnect")

// socketConn is one open socket: writes are serialised (gorilla/websocket
// allows one writer at a time; pongs go through WriteControl, which may
// run alongside).
type socketConn struct {
	conn *websocket.Conn
	mu   sync.Mutex
}

func (s *socketConn) write(frame []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.conn.SetWriteDeadline(time.Now().Add(socketWriteTimeout)); err != nil {
		return err
	}
	return s.conn.WriteMessage(websocket.TextMessage, frame)
}

// envelope is what Socket Mode wraps around a request, and its hello and
// disconnect messages.
type envelope struct {
	Type       string          `json:"type"`
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
	Accepts    bool            `json:"accepts_response_payload"`
	Reason     string          `json:"reason"`
}

// runSocket keeps a Socket Mode connection open until ctx is done, opening
// a new one after a drop, a disconnect request or a missed ping. It
// returns an error only when Slack refuses the app token.
func (c *Client) runSocket(ctx context.Context) error {
	failed := 0 // attempts in a row that did not open a steady socket
	for {
		c.connected.Store(false)
		c.log.Info("connecting")
		conn, err := c.dialSocket(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if refusedToken(err) {
				c.log.Error("Slack refused the app token")
				return err
			}
			wait := reconnectWait(failed, err)
			failed++
			c.log.Warn("socket error, reconnecting", "err", err, "in", wait)
			if !pause(ctx, wait) {
				return nil
			}
			continue
		}
		opened := time.Now()
		c.log.Info("connected")
		if c.connects.Add(1) > 1 {
			c.cfg.Metrics.Reconnected()
		}
		err = c.serveSocket(ctx, conn)
		c.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		// A socket that ends soon after it opened (Slack refusing one
		// socket too many, a proxy that cuts it) counts as a failed
		// attempt: the next waits as after a failed open, instead of
		// asking Slack for sockets in a tight loop.
		var wait time.Duration
		if time.Since(opened) < steadySocket {
			wait = reconnectWait(failed, err)
			failed++
		} else {
			failed = 0
		}
		if errors.Is(err, errDisconnect) {
			c.log.Info("reconnecting at Slack's request", "in", wait)
		} else {
			c.log.Warn("socket error, reconnecting", "err", err, "in", wait)
		}
		if !pause(ctx, wait) {
			return nil
		}
	}
}

// pause waits d, or until ctx is done; it reports whether ctx is live.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reconnectWait is how long to wait before the next attempt to open a
// socket after failed failures in a row: what a 429 asks for, else a
// doubling wait with some jitter, so that replicas do not retry in step.
func reconnectWait(failed int, err error) time.Duration {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		return rl.RetryAfter
	}
	d := reconnectMax
	if failed < 20 {
		d = min(reconnectFirst<<failed, reconnectMax)
	}
	return d + rand.N(d/4+1)
}

// refusedToken reports whether opening a socket failed because Slack
// refuses the app token: retrying would not help.
func refusedToken(err error) bool {
	var code slack.StatusCodeError
	if errors.As(err, &code) && code.Code == http.StatusNotFound {
		return true
	}
	reason := err.Error()
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		reason = se.Err
	}
	switch reason {
	case "invalid_auth", "account_inactive", "not_authed", "token_revoked":
		return true
	}
	return false
}

// dialSocket asks Slack for a socket (apps.connections.open) and opens it.
func (c *Client) dialSocket(ctx context.Context) (*websocket.Conn, error) {
	_, url, err := c.api.StartSocketModeContext(ctx)
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: socketHandshakeTimeout,
		WriteBufferSize:  socketWriteBuffer,
	}
	conn, resp, err := d.DialContext(ctx, url, http.Header{"Origin": {"https://api.slack.com"}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	return conn, nil
}

// serveSocket reads one socket until it fails, Slack asks to reconnect,
// Slack stops pinging or ctx is done; it closes the socket.
func (c *Client) serveSocket(ctx context.Context, conn *websocket.Conn) error {
	s := &socketConn{conn: conn}
	c.sock.Store(s)
	defer c.sock.CompareAndSwap(s, nil)

	limit := c.cfg.PingLimit
	alive := func() error { return conn.SetReadDeadline(time.Now().Add(limit)) }
	conn.SetPingHandler(func(data string) error {
		if err := alive(); err != nil {
			return err
		}
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(socketWriteTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			c.log.Warn("pong failed", "err", err)
		}
		return nil
	})
	if err := alive(); err != nil {
		_ = conn.Close()
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = conn.Close()
	})
	defer stop()
	defer conn.Close()
	// Frames are read into one buffer, used again for the next: frame
	// keeps copies of what it hands on, never the bytes read.
	var buf bytes.Buffer
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage {
			continue
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		if err := c.frame(buf.Bytes()); err != nil {
			return err
		}
		if buf.Cap() > maxKeptFrame {
			buf = bytes.Buffer{} // an unusually large frame is not kept
		}
	}
}

// maxKeptFrame bounds the buffer kept for reading frames.
const maxKeptFrame = 64 << 10

// frame handles one frame Slack sent: it must not block, as the socket is
// not read meanwhile, nor keep data, which is read over for the next.
func (c *Client) frame(data []byte) error {
	start := time.Now()
	// The envelope is read into a pooled one, emptied first: a payload
	// left in it would be read into (json.RawMessage appends to what it
	// holds), and that payload belongs to the request it was handed to.
	e := envelopes.Get().(*envelope)
	*e = envelope{}
	defer func() {
		*e = envelope{}
		envelopes.Put(e)
	}()
	if err := json.Unmarshal(data, e); err != nil {
		c.badFrame(data)
		return nil
	}
	switch e.Type {
	case "hello":
		c.connected.Store(true)
		return nil
	case "disconnect":
		c.log.Info("Slack asked to reconnect", "reason", e.Reason)
		return errDisconnect
	case kindSlash, kindInteractive, kindEvent:
	default:
		c.badFrame(data)
		return nil
	}
	if e.EnvelopeID == "" {
		c.log.Warn("envelope without ID", "type", e.Type)
		return nil
	}
	if len(e.Payload) == 0 || e.Payload[0] != '{' {
		c.badFrame(data)
		return nil
	}
	in := inbound{
		id:      e.EnvelopeID,
		kind:    e.Type,
		payload: e.Payload,
		accepts: e.Accepts,
		dedupe:  "envelope:" + e.EnvelopeID, // acked on the socket under id (sendAckOf)
	}
	if e.Type == kindInteractive {
		var kind struct {
			Type slack.InteractionType `json:"type"`
		}
		if json.Unmarshal(e.Payload, &kind) != nil {
			c.badFrame(data)
			return nil
		}
		in.suggest = kind.Type == slack.InteractionTypeBlockSuggestion
	}
	c.accept(in, start)
	return nil
}

// envelopes hold a frame's envelope while frame reads it: what it hands on
// (strings, and the payload, a copy of its own) outlives it, not the
// envelope.
var envelopes = sync.Pool{New: func() any { return new(envelope) }}

// badFrame acknowledges a frame that cannot be read, when it has an
// envelope ID, so that Slack does not send it again.
func (c *Client) badFrame(data []byte) {
	id := envelopeID(data)
	c.log.Warn("malformed envelope", "envelope", id)
	if id == "" {
		return
	}
	if err := c.sendAck(id, nil); err != nil {
		c.log.Warn("ack failed", "envelope", id, "err", err)
	}
}

// ackFrame is an acknowledgement as Socket Mode reads it.
type ackFrame struct {
	EnvelopeID string `json:"envelope_id"`
	Payload    any    `json:"payload,omitempty"`
}

// encodeAck appends the JSON of an ack to dst. A payload of JSON made
// already (a kept reply's) is put in as it is, not read again as
// json.Marshal would.
func encodeAck(dst []byte, envelopeID string, payload any) ([]byte, error) {
	raw, ok := payload.(json.RawMessage)
	if !ok || len(raw) == 0 {
		b, err := json.Marshal(ackFrame{EnvelopeID: envelopeID, Payload: payload})
		return append(dst, b...), err
	}
	id, err := json.Marshal(envelopeID)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `{"envelope_id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"payload":`...)
	dst = append(dst, raw...)
	return append(dst, '}'), nil
}

// ackBuffers hold acks while they are written: the socket copies a frame
// before write returns, so one buffer serves ack after ack.
var ackBuffers = sync.Pool{New: func() any { return new([]byte) }}

// sendAck acknowledges an envelope on the open socket, with a message or
// without (nil).
func (c *Client) sendAck(envelopeID string, payload any) error {
	buf := ackBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= MaxAckPayload {
			ackBuffers.Put(buf)
		}
	}()
	frame, err := encodeAck((*buf)[:0], envelopeID, payload)
	*buf = frame
	if err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	if len(frame) >= MaxAckPayload {
		return fmt.Errorf("ack of %d bytes: Slack drops frames of %d bytes or more", len(frame), MaxAckPayload)
	}
	s := c.sock.Load()
	if s == nil {
		return errors.New("ack: no open socket")
	}
	if err := s.write(frame); err != nil {
		c.log.Warn("socket write failed", "err", err)
		return err
	}
	return nil
}
