package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// disconnectGrace is how long a socket that was sent a disconnect stays open
// if the client does not close it itself.
const disconnectGrace = 10 * time.Second

type sock struct {
	id   int
	conn *websocket.Conn
	wmu  sync.Mutex // serialises data frames; control frames may interleave
	done chan struct{}
	once sync.Once

	// guarded by Server.mu
	ready    bool // hello written
	draining bool // disconnect sent: no new envelopes
}

func (k *sock) write(data []byte) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	select {
	case <-k.done:
		return net.ErrClosed
	default:
	}
	_ = k.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return k.conn.WriteMessage(websocket.TextMessage, data)
}

// reset closes the TCP connection with RST (SO_LINGER 0), no close frame.
func (k *sock) reset() {
	if tc, ok := k.conn.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	k.kill()
}

// kill closes the TCP connection without a close frame.
func (k *sock) kill() {
	k.once.Do(func() {
		close(k.done)
		_ = k.conn.Close()
	})
}

// goingAway sends a close frame (best effort) and closes.
func (k *sock) goingAway() {
	_ = k.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closing"),
		time.Now().Add(100*time.Millisecond))
	k.kill()
}

func (s *Server) removeSockLocked(k *sock) bool {
	for i, x := range s.socks {
		if x == k {
			s.socks = append(s.socks[:i:i], s.socks[i+1:]...)
			s.notifyLocked()
			return true
		}
	}
	return false
}

func (s *Server) dropSock(k *sock) {
	s.mu.Lock()
	s.removeSockLocked(k)
	s.mu.Unlock()
	k.kill()
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 32 * 1024,
	// slack-go sends Origin: https://api.slack.com, which gorilla's default rejects.
	CheckOrigin: func(*http.Request) bool { return true },
}

type helloFrame struct {
	Type           string `json:"type"`
	NumConnections int    `json:"num_connections"`
	ConnectionInfo struct {
		AppID string `json:"app_id"`
	} `json:"connection_info"`
	DebugInfo struct {
		Host                      string `json:"host"`
		BuildNumber               int    `json:"build_number"`
		ApproximateConnectionTime int    `json:"approximate_connection_time"`
	} `json:"debug_info"`
}

type disconnectFrame struct {
	Type      string `json:"type"`
	Reason    string `json:"reason"`
	DebugInfo struct {
		Host string `json:"host"`
	} `json:"debug_info"`
}

func disconnectJSON(reason string) []byte {
	d := disconnectFrame{Type: "disconnect", Reason: reason}
	d.DebugInfo.Host = "fake"
	b, _ := json.Marshal(d)
	return b
}

// handleLink serves the Socket Mode WebSocket (/link/?ticket=N).
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.tickets[ticket]
	delete(s.tickets, ticket) // single use
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}

	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(MaxFrameSize)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	s.sockN++
	k := &sock{id: s.sockN, conn: conn, done: make(chan struct{})}
	tooMany := len(s.socks) >= MaxSockets
	if !tooMany {
		s.socks = append(s.socks, k)
	}
	num := len(s.socks)
	s.mu.Unlock()

	if tooMany {
		_ = k.write(disconnectJSON("too_many_websockets"))
		k.goingAway()
		return
	}

	var h helloFrame
	h.Type = "hello"
	h.NumConnections = num
	h.ConnectionInfo.AppID = AppID
	h.DebugInfo.Host = "fake-applink"
	h.DebugInfo.BuildNumber = 1
	h.DebugInfo.ApproximateConnectionTime = 18060
	hello, _ := json.Marshal(h)
	if err := k.write(hello); err != nil {
		s.dropSock(k)
		return
	}

	s.mu.Lock()
	k.ready = true
	s.hellos++
	s.notifyLocked()
	s.mu.Unlock()

	if s.track() {
		go s.pinger(k)
	}
	s.readLoop(k)
}

func (s *Server) pinger(k *sock) {
	defer s.wg.Done()
	last := time.Now()
	payload := []byte(fmt.Sprintf("Ping from fake-applink-%d", k.id))
	for {
		s.mu.Lock()
		every, stopped, cfg := s.pingEvery, s.noPings, s.pingCfg
		s.mu.Unlock()

		var (
			t  *time.Timer
			tc <-chan time.Time
		)
		if !stopped && every > 0 {
			t = time.NewTimer(max(0, time.Until(last.Add(every))))
			tc = t.C
		}
		select {
		case <-k.done:
			if t != nil {
				t.Stop()
			}
			return
		case <-cfg:
			if t != nil {
				t.Stop()
			}
		case <-tc:
			last = time.Now()
			if err := k.conn.WriteControl(websocket.PingMessage, payload, time.Now().Add(5*time.Second)); err != nil {
				s.dropSock(k)
				return
			}
			s.pings.Add(1)
		}
	}
}

type ackFrame struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func (s *Server) readLoop(k *sock) {
	defer s.dropSock(k)
	k.conn.SetPongHandler(func(string) error {
		s.pongs.Add(1)
		return nil
	})
	// One goroutine reads and notes when each frame arrived; another
	// reads what the frames say, in order. An ack is thus timed when it
	// reached Slack, not once the acks before it were read through (a
	// large answer in an ack takes a while to parse), and every frame
	// read is handled before the socket counts as gone.
	type frame struct {
		data []byte
		at   time.Time
	}
	frames := make(chan frame, 4096)
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		for f := range frames {
			s.handleFrame(f.data, f.at)
		}
	}()
	defer func() {
		close(frames)
		<-handled
	}()
	for {
		typ, data, err := k.conn.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			frames <- frame{data, time.Now()}
		}
	}
}

// handleFrame reads one frame from the app, received at: an ack, or a
// frame Slack would not understand.
func (s *Server) handleFrame(data []byte, at time.Time) {
	var a ackFrame
	if err := json.Unmarshal(data, &a); err != nil || a.EnvelopeID == "" {
		s.mu.Lock()
		s.badFrames = append(s.badFrames, data)
		s.notifyLocked()
		s.mu.Unlock()
		return
	}
	var payload json.RawMessage
	if len(a.Payload) > 0 && string(a.Payload) != "null" {
		payload = a.Payload
	}
	s.mu.Lock()
	s.ackIdx[a.EnvelopeID] = append(s.ackIdx[a.EnvelopeID], len(s.acks))
	s.acks = append(s.acks, Ack{EnvelopeID: a.EnvelopeID, Payload: payload, Received: at, Sent: s.sentAt[a.EnvelopeID]})
	s.ackAnswerLocked(a.EnvelopeID, payload, at)
	s.notifyLocked()
	s.mu.Unlock()
}

// ackAnswerLocked shows the message in the ack of a slash command as the
// command's answer, as Slack does: only when the envelope accepted a
// response payload, the ack came within AckDeadline, the payload is a
// message (text or blocks) and no earlier ack of the envelope was shown.
func (s *Server) ackAnswerLocked(envelopeID string, payload json.RawMessage, at time.Time) {
	e, ok := s.sentEnv[envelopeID]
	if !ok || e.answered || e.typ != "slash_commands" || !e.accepts || len(payload) == 0 || at.Sub(e.at) > AckDeadline {
		return
	}
	var msg struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal(payload, &msg) != nil || msg.Text == "" && len(msg.Blocks) == 0 {
		return
	}
	e.answered = true
	s.sentEnv[envelopeID] = e
	if r := s.responses[e.responseURL]; r != nil {
		r.answers = append(r.answers, Answer{Via: ViaAck, Body: payload, At: at})
	}
}

// pickLocked chooses the next socket that can take an envelope (round robin).
func (s *Server) pickLocked() *sock {
	n := len(s.socks)
	for i := range n {
		k := s.socks[(s.rr+i)%n]
		if k.ready && !k.draining {
			s.rr = (s.rr + i + 1) % n
			return k
		}
	}
	return nil
}

// deliver writes a frame to one open socket, waiting up to the queue timeout
// for one. beforeWrite runs (without s.mu) just before each write attempt.
func (s *Server) deliver(data []byte, beforeWrite func(time.Time), afterWrite func(time.Time)) error {
	s.mu.Lock()
	timeout := s.queueTimeout
	s.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		k := s.pickLocked()
		ch := s.changed
		s.mu.Unlock()
		if k != nil {
			at := time.Now()
			if beforeWrite != nil {
				beforeWrite(at)
			}
			if err := k.write(data); err == nil {
				if afterWrite != nil {
					afterWrite(at)
				}
				return nil
			}
			s.dropSock(k)
			continue
		}
		select {
		case <-ch:
		case <-timer.C:
			return ErrNoConnection
		case <-s.done:
			return ErrClosed
		}
	}
}

type wireEnvelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Payload                json.RawMessage `json:"payload"`
	Type                   string          `json:"type"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           *int            `json:"retry_attempt,omitempty"`
	RetryReason            *string         `json:"retry_reason,omitempty"`
}

// SendEnvelope sends {"envelope_id","payload","type","accepts_response_payload"}
// (plus retry_attempt/retry_reason for events_api) over one open socket and
// returns the envelope ID. With no socket open it waits for the next
// connection (SetQueueTimeout, default 10s), then fails with ErrNoConnection.
// A top-level trigger_id in the payload becomes valid for views.open.
func (s *Server) SendEnvelope(typ string, payload json.RawMessage, acceptsResponse bool) (string, error) {
	if typ == "events_api" {
		return s.sendEnvelope(typ, payload, acceptsResponse, 0, "")
	}
	return s.sendEnvelope(typ, payload, acceptsResponse, -1, "")
}

// sendEnvelope; retryAttempt < 0 omits the retry fields.
func (s *Server) sendEnvelope(typ string, payload json.RawMessage, accepts bool, retryAttempt int, retryReason string) (string, error) {
	id := newEnvelopeID()
	env := wireEnvelope{EnvelopeID: id, Payload: payload, Type: typ, AcceptsResponsePayload: accepts}
	if retryAttempt >= 0 {
		env.RetryAttempt, env.RetryReason = &retryAttempt, &retryReason
	}
	data, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("fakeslack: marshal envelope: %w", err)
	}
	trig, user := payloadTrigger(payload)
	respIdx := payloadResponseURL(payload)
	err = s.deliver(data, func(at time.Time) {
		s.mu.Lock()
		s.sentAt[id] = at
		s.sentEnv[id] = sentEnvelope{typ: typ, accepts: accepts, responseURL: respIdx, at: at}
		if trig != "" {
			// A trigger is born when the payload leaves Slack.
			if t := s.triggers[trig]; t != nil {
				t.issued = at
			} else {
				s.triggers[trig] = &trigger{user: user, issued: at}
			}
		}
		s.mu.Unlock()
	}, func(at time.Time) {
		s.mu.Lock()
		s.envelopes = append(s.envelopes, Envelope{ID: id, Type: typ, Payload: payload, AcceptsResponsePayload: accepts, RetryAttempt: max(retryAttempt, 0), Sent: at})
		s.notifyLocked()
		s.mu.Unlock()
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// payloadResponseURL returns the index of the response_url a payload
// carries, 0 when none.
func payloadResponseURL(payload json.RawMessage) int {
	var p struct {
		ResponseURL string `json:"response_url"`
	}
	if json.Unmarshal(payload, &p) != nil || p.ResponseURL == "" {
		return 0
	}
	return responseIndex(p.ResponseURL)
}

// payloadTrigger extracts trigger_id and the user (user_id or user.id).
func payloadTrigger(payload json.RawMessage) (trig, user string) {
	var p struct {
		TriggerID string          `json:"trigger_id"`
		UserID    string          `json:"user_id"`
		User      json.RawMessage `json:"user"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return "", ""
	}
	user = p.UserID
	if user == "" && len(p.User) > 0 {
		var u struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(p.User, &u) == nil {
			user = u.ID
		}
	}
	return p.TriggerID, user
}

type slashPayload struct {
	Token               string `json:"token"`
	TeamID              string `json:"team_id"`
	TeamDomain          string `json:"team_domain"`
	ChannelID           string `json:"channel_id"`
	ChannelName         string `json:"channel_name"`
	UserID              string `json:"user_id"`
	UserName            string `json:"user_name"`
	Command             string `json:"command"`
	Text                string `json:"text"`
	APIAppID            string `json:"api_app_id"`
	EnterpriseID        string `json:"enterprise_id,omitempty"`
	EnterpriseName      string `json:"enterprise_name,omitempty"`
	IsEnterpriseInstall string `json:"is_enterprise_install"`
	ResponseURL         string `json:"response_url"`
	TriggerID           string `json:"trigger_id"`
}

// SlashCommand sends a slash_commands envelope (accepts_response_payload
// true) whose payload has Slack's fields, a fresh response_url and trigger_id.
func (s *Server) SlashCommand(c SlashCommand) (string, error) {
	p, err := s.BuildSlashCommand(c)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(p)
	return s.SendEnvelope("slash_commands", b, true)
}

// BuildSlashCommand fills c's defaults, issuing response_url and trigger_id
// when empty, and returns the payload SlashCommand would send.
func (s *Server) BuildSlashCommand(c SlashCommand) (json.RawMessage, error) {
	if c.TeamID == "" {
		c.TeamID = TeamID
	}
	if c.Command == "" {
		c.Command = "/trust"
	}
	if c.ChannelID == "" {
		c.ChannelID = DefaultChannelID
	}
	if c.UserID == "" {
		c.UserID = DefaultUserID
	}
	s.mu.Lock()
	if c.ChannelName == "" {
		c.ChannelName = s.channelNameLocked(c.ChannelID)
	}
	if c.UserName == "" {
		if u, ok := s.users[c.UserID]; ok && u.Name != "" {
			c.UserName = u.Name
		} else {
			c.UserName = strings.ToLower(c.UserID)
		}
	}
	if c.ResponseURL == "" {
		c.ResponseURL = s.newResponseURLLocked()
	}
	if c.TriggerID == "" {
		c.TriggerID = s.newTriggerLocked(c.UserID)
	}
	enterprise := s.oauth.orgOf[c.TeamID]
	orgWide := enterprise != "" && s.orgInstalledLocked(enterprise)
	s.mu.Unlock()
	return json.Marshal(slashPayload{
		Token: VerificationToken, TeamID: c.TeamID, TeamDomain: TeamDomain,
		ChannelID: c.ChannelID, ChannelName: c.ChannelName,
		UserID: c.UserID, UserName: c.UserName, Command: c.Command, Text: c.Text,
		APIAppID: AppID, EnterpriseID: enterprise, IsEnterpriseInstall: strconv.FormatBool(orgWide),
		ResponseURL: c.ResponseURL, TriggerID: c.TriggerID,
	})
}

func (s *Server) channelNameLocked(id string) string {
	if n, ok := s.channelNames[id]; ok {
		return n
	}
	if strings.HasPrefix(id, "D") {
		return "directmessage"
	}
	return strings.ToLower(id)
}

func emptyField(raw json.RawMessage) bool {
	v := strings.TrimSpace(string(raw))
	return v == "" || v == "null" || v == `""`
}

// Interactive sends an interactive envelope (accepts_response_payload true).
// payload is any JSON object (a map, a struct such as
// slack.InteractionCallback, or json.RawMessage). Missing or empty token,
// api_app_id, team and trigger_id are filled in (no trigger_id for
// view_closed and block_suggestion), as is response_url for block_actions
// from a message, message_action and interactive_message.
func (s *Server) Interactive(payload any) (string, error) {
	b, err := s.BuildInteractive(payload)
	if err != nil {
		return "", err
	}
	return s.SendEnvelope("interactive", b, true)
}

// BuildInteractive returns the payload Interactive would send.
func (s *Server) BuildInteractive(payload any) (json.RawMessage, error) {
	raw, err := toRaw(payload)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("fakeslack: interactive payload must be a JSON object")
	}
	var typ string
	_ = json.Unmarshal(m["type"], &typ)
	_, user := payloadTrigger(raw)
	set := func(k string, v any) {
		if emptyField(m[k]) {
			m[k], _ = json.Marshal(v)
		}
	}
	set("token", VerificationToken)
	set("api_app_id", AppID)
	var team struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(m["team"], &team)
	if team.ID == "" {
		m["team"], _ = json.Marshal(map[string]string{"id": TeamID, "domain": TeamDomain})
	}
	s.mu.Lock()
	if team.ID == "" {
		team.ID = TeamID
	}
	if e := s.oauth.orgOf[team.ID]; e != "" {
		set("enterprise", map[string]string{"id": e})
		set("is_enterprise_install", s.orgInstalledLocked(e))
	}
	if _, ok := m["is_enterprise_install"]; !ok {
		m["is_enterprise_install"] = json.RawMessage("false")
	}
	if typ != "view_closed" && typ != "block_suggestion" && emptyField(m["trigger_id"]) {
		m["trigger_id"], _ = json.Marshal(s.newTriggerLocked(user))
	}
	fromMessage := typ == "block_actions" && (!emptyField(m["message"]) || emptyField(m["view"]))
	if (fromMessage || typ == "message_action" || typ == "interactive_message") && emptyField(m["response_url"]) {
		m["response_url"], _ = json.Marshal(s.newResponseURLLocked())
	}
	s.mu.Unlock()
	return json.Marshal(m)
}

func toRaw(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case json.RawMessage:
		return x, nil
	case []byte:
		return x, nil
	case string:
		return json.RawMessage(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("fakeslack: marshal payload: %w", err)
	}
	return b, nil
}

type eventAuthorization struct {
	EnterpriseID        *string `json:"enterprise_id"`
	TeamID              string  `json:"team_id"`
	UserID              string  `json:"user_id"`
	IsBot               bool    `json:"is_bot"`
	IsEnterpriseInstall bool    `json:"is_enterprise_install"`
}

type eventCallback struct {
	Token              string               `json:"token"`
	TeamID             string               `json:"team_id"`
	EnterpriseID       string               `json:"enterprise_id,omitempty"`
	APIAppID           string               `json:"api_app_id"`
	Event              json.RawMessage      `json:"event"`
	Type               string               `json:"type"`
	EventID            string               `json:"event_id"`
	EventTime          int64                `json:"event_time"`
	Authorizations     []eventAuthorization `json:"authorizations"`
	IsExtSharedChannel bool                 `json:"is_ext_shared_channel"`
	EventContext       string               `json:"event_context"`
}

// EventsAPI wraps event in an event_callback (token, team_id, api_app_id,
// event_id, event_time, authorizations) and sends it as an events_api
// envelope with retry_attempt = retryAttempt (retry_reason "timeout" when >0).
// An empty eventID gets a fresh "Ev…" ID.
func (s *Server) EventsAPI(event any, eventID string, retryAttempt int) (string, error) {
	b, err := s.BuildEvent(event, eventID)
	if err != nil {
		return "", err
	}
	reason := ""
	if retryAttempt > 0 {
		reason = "timeout"
	}
	return s.sendEnvelope("events_api", b, false, max(retryAttempt, 0), reason)
}

// SendRaw sends an arbitrary (even malformed) text frame over one open
// socket, waiting for a connection like SendEnvelope. A frame that is an
// envelope is timed and judged like one sent by SendEnvelope.
func (s *Server) SendRaw(frame []byte) error {
	var env wireEnvelope
	if json.Unmarshal(frame, &env) != nil || env.EnvelopeID == "" {
		return s.deliver(frame, nil, nil)
	}
	respIdx := payloadResponseURL(env.Payload)
	return s.deliver(frame, func(at time.Time) {
		s.mu.Lock()
		s.sentAt[env.EnvelopeID] = at
		s.sentEnv[env.EnvelopeID] = sentEnvelope{typ: env.Type, accepts: env.AcceptsResponsePayload, responseURL: respIdx, at: at,
			answered: s.sentEnv[env.EnvelopeID].answered}
		s.mu.Unlock()
	}, nil)
}

// Acks returns every ack received, oldest first.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// WaitAck waits for the first ack of envelopeID.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var a Ack
	err := s.waitFor(ctx, func() bool {
		if idx := s.ackIdx[envelopeID]; len(idx) > 0 {
			a = s.acks[idx[0]]
			return true
		}
		return false
	})
	return a, err
}

// WaitAcks waits until at least n acks (of any envelope) were received.
func (s *Server) WaitAcks(ctx context.Context, n int) ([]Ack, error) {
	var out []Ack
	err := s.waitFor(ctx, func() bool {
		if len(s.acks) >= n {
			out = append([]Ack(nil), s.acks...)
			return true
		}
		return false
	})
	return out, err
}

// BadFrames returns text frames from the bot that were not acks.
func (s *Server) BadFrames() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.badFrames...)
}

// Envelopes returns the envelopes delivered so far, oldest first.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Envelope(nil), s.envelopes...)
}

// Connections is the number of successful apps.connections.open calls so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// OpenSockets is the number of sockets open now (including ones told to disconnect).
func (s *Server) OpenSockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.socks)
}

// Pings and Pongs count ping frames sent and pong frames received.
func (s *Server) Pings() int64 { return s.pings.Load() }

// Pongs counts pong frames received from the bot.
func (s *Server) Pongs() int64 { return s.pongs.Load() }

func (s *Server) readyLocked() bool {
	for _, k := range s.socks {
		if k.ready && !k.draining {
			return true
		}
	}
	return false
}

// WaitConnected waits until a socket is open, has been sent hello and can take envelopes.
func (s *Server) WaitConnected(ctx context.Context) error {
	return s.waitFor(ctx, s.readyLocked)
}

// WaitConnections waits until n sockets in total have been sent hello and
// one of them can take envelopes, e.g. WaitConnections(ctx, 2) after Drop.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.hellos >= n && s.readyLocked() })
}

func (s *Server) newestLocked(live bool) *sock {
	for i := len(s.socks) - 1; i >= 0; i-- {
		k := s.socks[i]
		if !live || (k.ready && !k.draining) {
			return k
		}
	}
	return nil
}

// Drop resets the newest socket's TCP connection (RST, no close frame);
// frames already written but unread are lost, as with a real outage.
func (s *Server) Drop() {
	s.mu.Lock()
	k := s.newestLocked(false)
	if k != nil {
		s.removeSockLocked(k)
	}
	s.mu.Unlock()
	if k != nil {
		k.reset()
	}
}

// DropAll resets every open socket.
func (s *Server) DropAll() {
	s.mu.Lock()
	socks := s.socks
	s.socks = nil
	s.notifyLocked()
	s.mu.Unlock()
	for _, k := range socks {
		k.reset()
	}
}

// Disconnect sends {"type":"disconnect","reason":reason,"debug_info":{"host":"fake"}}
// on the newest live socket. That socket gets no more envelopes (they wait for
// the next connection); the fake closes it after 10s if the client does not.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	k := s.newestLocked(true)
	if k != nil {
		k.draining = true
		s.notifyLocked()
	}
	s.mu.Unlock()
	if k != nil {
		s.disconnect(k, reason)
	}
}

// DisconnectAll sends a disconnect to every live socket.
func (s *Server) DisconnectAll(reason string) {
	s.mu.Lock()
	var ks []*sock
	for _, k := range s.socks {
		if k.ready && !k.draining {
			k.draining = true
			ks = append(ks, k)
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, k := range ks {
		s.disconnect(k, reason)
	}
}

func (s *Server) disconnect(k *sock, reason string) {
	if err := k.write(disconnectJSON(reason)); err != nil {
		s.dropSock(k)
		return
	}
	if !s.track() {
		return
	}
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(disconnectGrace)
		defer t.Stop()
		select {
		case <-k.done:
		case <-s.done:
		case <-t.C:
			s.dropSock(k)
		}
	}()
}
