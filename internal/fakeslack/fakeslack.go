// Package fakeslack is a faithful fake of Slack on loopback (its Web API, Socket Mode, and the signed HTTP requests of HTTP mode), for tests and benchmarks.
//
// A Server listens on 127.0.0.1 as soon as New returns. Point a slack-go client at it with
//
//	api := slack.New(fakeslack.BotToken,
//		slack.OptionAppLevelToken(fakeslack.AppToken),
//		slack.OptionAPIURL(srv.APIURL()))
//	cli := socketmode.New(api)
//
// The fake serves three kinds of endpoint:
//
//   - /api/<method>: the Web API. Every call is recorded (Calls, WaitCalls) and
//     can be slowed or failed (SetDelay, RateLimit, FailNext, FailHTTP,
//     SetChannelError). Posted messages and views are kept (Messages, Views).
//   - /link/?ticket=N: the Socket Mode WebSocket returned by apps.connections.open.
//     The fake sends hello, then ping control frames, and records acks (Acks,
//     WaitAck) and the answers users saw, in an ack or at a response_url
//     (Answers, WaitAnswers). SlashCommand, Interactive, EventsAPI, SendEnvelope and SendRaw
//     push frames to the bot; Drop and Disconnect break the link.
//   - /response/N: response_url endpoints (Responses, WaitResponse).
//
// It also plays Slack's HTTP mode: PostSlashCommand, PostInteractive and
// PostEvent post to the request URLs set with SetRequestURLs, signed with
// SigningSecret, form encoded or JSON as Slack sends them, retrying an
// event that was not acknowledged within AckDeadline; a slash command's
// answer in the HTTP response is shown as Answers, as an ack's is.
//
// Every method is safe for concurrent use. Waits are bounded: when the
// context has no deadline, DefaultWait applies. The package does not import
// package testing, so benchmark tools can use it too.
package fakeslack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustbot/trustbot/internal/conntrack"
)

// Identities of the fake workspace and app.
const (
	BotToken  = "xoxb-fake-bot"
	AppToken  = "xapp-fake-app"
	TeamID    = "T0FAKE"
	BotUserID = "UBOT"
	AppID     = "A0FAKE"

	// BotID is the bot_id auth.test and posted messages report.
	BotID = "B0FAKE"
	// TeamDomain is the workspace's domain (team_domain in payloads).
	TeamDomain = "fake"
	// DefaultUserID is the user a SlashCommand comes from when UserID is empty.
	// The user is registered for users.info (time zone UTC, locale en-US).
	DefaultUserID = "U0USER"
	// DefaultChannelID is the channel a SlashCommand comes from when ChannelID is empty.
	DefaultChannelID = "C0GENERAL"
	// VerificationToken is the deprecated token field in payloads.
	VerificationToken = "fake-verification-token"
)

// Defaults; each can be changed per server.
const (
	DefaultPingInterval = 2 * time.Second  // SetPingInterval
	DefaultQueueTimeout = 10 * time.Second // SetQueueTimeout
	DefaultTriggerTTL   = 3 * time.Second  // SetTriggerTTL
	// DefaultWait bounds every Wait* call whose context has no deadline.
	DefaultWait = 30 * time.Second
	// MaxSockets is how many Socket Mode connections may be open at once;
	// one more gets disconnect reason too_many_websockets.
	MaxSockets = 10
	// MaxResponseUses is how many times a response_url may be used.
	MaxResponseUses = 5
	// MaxFrameSize is the largest frame the fake reads from the bot, like
	// Slack's "Max frame length of 20480"; larger ones close the socket with 1009.
	MaxFrameSize = 20480
)

// Errors returned by the fake's own methods (not by the Web API it serves).
var (
	ErrClosed       = errors.New("fakeslack: server closed")
	ErrNoConnection = errors.New("fakeslack: no Socket Mode connection became available")
)

// User is an entry of the users.info registry.
type User struct {
	ID, TeamID, Name, RealName, TZ, Locale string
	TZOffset                               int // seconds; computed from TZ when 0
	Deleted, IsBot                         bool
	// TZLabel is returned as tz_label; when empty the zone abbreviation of TZ is used.
	TZLabel string
}

// SlashCommand describes an invocation sent by Server.SlashCommand.
// Empty fields get defaults: TeamID=TeamID, Command="/trust",
// ChannelID=DefaultChannelID, ChannelName="general" (for the default channel,
// else the channel ID lowercased), UserID=DefaultUserID, UserName from the
// users registry or the user ID lowercased.
type SlashCommand struct {
	TeamID, ChannelID, ChannelName, UserID, UserName, Command, Text string
	// ResponseURL and TriggerID are filled by the fake when empty.
	ResponseURL, TriggerID string
}

// AckDeadline is how long Slack waits for an envelope's ack; a slash
// command acked later shows the user a timeout, and a payload in that late
// ack is not shown.
const AckDeadline = 3 * time.Second

// How an answer reached the user (Answer.Via).
const (
	ViaAck         = "ack"          // the ack of the slash command carried it
	ViaResponseURL = "response_url" // posted to the response_url
)

// Answer is a reply the user saw to a command or a click, in the order the
// fake received them: the message in a slash command's ack (Slack shows an
// ack's payload as the command's answer only for slash commands: a payload
// on the ack of a click is ignored), then every body posted to the
// response_url.
type Answer struct {
	Via  string
	Body json.RawMessage
	At   time.Time // when the fake received it
}

// Ack is an acknowledgement the bot sent over a socket.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // nil when the ack carried no payload
	Received   time.Time
	Sent       time.Time // when the envelope was sent; zero for an unknown envelope_id
}

// Envelope is a frame the fake delivered over Socket Mode.
type Envelope struct {
	ID                     string
	Type                   string
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	RetryAttempt           int
	Sent                   time.Time
}

// Call is one recorded Web API request.
type Call struct {
	Method string
	Token  string
	// Team is the workspace the token acts in ("" when it is not valid).
	Team string
	// Enterprise is set when the token is an organisation's install for
	// all its workspaces: the organisation.
	Enterprise string
	// Params holds form fields for form-encoded requests (and query parameters);
	// for JSON requests the top-level fields, strings as-is and other values as
	// their raw JSON text.
	Params map[string]string
	Body   []byte
	At     time.Time
}

// Message is a message posted with chat.postMessage or chat.postEphemeral,
// in its current state (after chat.update).
type Message struct {
	Channel, TS, Text, User string
	Blocks                  json.RawMessage
	Metadata                json.RawMessage
	ThreadTS                string
	Ephemeral               bool // chat.postEphemeral; User is the recipient
	Updated                 bool
}

// View is one views.* call that succeeded.
type View struct {
	ID, Kind /* open|update|push|publish */, UserID, TriggerID, ExternalID string
	View                                                                   json.RawMessage // the view as the bot sent it
}

type msgRec struct {
	Message
	broadcast bool
	edited    string // ts of the last edit
	deleted   bool
	byUser    bool // typed by User in a DM, not posted by the app
}

type trigger struct {
	user   string
	issued time.Time
	used   bool
}

type viewRec struct {
	id, kind, user, externalID, hash string
	view                             json.RawMessage
}

type countFault struct {
	remaining int // <0: forever
	code      string
	status    int
}

type respURL struct {
	bodies  []json.RawMessage
	uses    int
	answers []Answer
}

// sentEnvelope is what the fake remembers of an envelope it sent, to judge
// its ack.
type sentEnvelope struct {
	typ         string
	accepts     bool
	responseURL int // index of the response_url in its payload; 0 when none
	at          time.Time
	answered    bool // an ack of it was shown as its answer
}

// Server is the fake. Create it with New and stop it with Close.
type Server struct {
	uploads files // files.* uploads and shares
	ln      net.Listener
	conns   *conntrack.Tracker
	srv     *http.Server
	base    string // http://127.0.0.1:PORT
	host    string // 127.0.0.1:PORT

	wg   sync.WaitGroup
	done chan struct{}

	mu      sync.Mutex
	closed  bool
	changed chan struct{} // closed and replaced on every state change

	// config
	pingEvery    time.Duration
	noPings      bool
	pingCfg      chan struct{} // closed and replaced when ping config changes
	queueTimeout time.Duration
	triggerTTL   time.Duration
	delays       map[string]time.Duration
	rateLimits   map[string]*countFault
	tiers        map[string]tier        // per method: calls allowed per window, per workspace (tier.go)
	tierCalls    map[string][]time.Time // per workspace and method: calls in the window
	tierLimited  map[string]int         // per method: calls answered 429 by the tier
	failNext     map[string]*countFault
	failHTTP     map[string]*countFault
	loseAnswer   map[string]*countFault
	clockOffset  time.Duration
	chanErr      map[string]string
	users        map[string]User
	channelNames map[string]string
	subscribed   map[string]bool // bot events the app subscribes to
	oauth        oauthState      // OAuth v2: codes, issued tokens (oauth.go)

	// HTTP mode
	signingSecret                          string
	eventsURL, interactiveURL, commandsURL string
	optionsURL                             string // Select Menus' options load URL: where block_suggestion goes
	retryDelays                            []time.Duration
	httpClient                             *http.Client

	// web API state
	calls     []Call
	lastTS    int64
	messages  []*msgRec
	triggers  map[string]*trigger
	triggerN  int
	views     []View
	viewByID  map[string]*viewRec
	viewByExt map[string]*viewRec
	homeViews map[string]*viewRec
	viewN     int
	dms       map[string]bool
	responses map[int]*respURL
	respN     int

	// socket mode state
	connections int
	tickets     map[string]bool
	ticketN     int
	socks       []*sock // open sockets, oldest first
	sockN       int
	hellos      int
	rr          int
	badFrames   [][]byte
	acks        []Ack
	ackIdx      map[string][]int
	envelopes   []Envelope
	sentAt      map[string]time.Time
	sentEnv     map[string]sentEnvelope
	pongs       atomic.Int64
	pings       atomic.Int64
}

// New starts a fake on 127.0.0.1 with an OS-chosen port. It panics if it
// cannot listen.
func New() *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakeslack: listen: %v", err))
	}
	s := &Server{
		ln:           ln,
		conns:        conntrack.New(),
		host:         ln.Addr().String(),
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		pingEvery:    DefaultPingInterval,
		pingCfg:      make(chan struct{}),
		queueTimeout: DefaultQueueTimeout,
		triggerTTL:   DefaultTriggerTTL,
		delays:       map[string]time.Duration{},
		rateLimits:   map[string]*countFault{},
		failNext:     map[string]*countFault{},
		failHTTP:     map[string]*countFault{},
		loseAnswer:   map[string]*countFault{},
		chanErr:      map[string]string{},
		users:        map[string]User{},
		channelNames: map[string]string{DefaultChannelID: "general"},
		triggers:     map[string]*trigger{},
		viewByID:     map[string]*viewRec{},
		viewByExt:    map[string]*viewRec{},
		homeViews:    map[string]*viewRec{},
		dms:          map[string]bool{},
		responses:    map[int]*respURL{},
		tickets:      map[string]bool{},
		ackIdx:       map[string][]int{},
		sentAt:       map[string]time.Time{},
		sentEnv:      map[string]sentEnvelope{},

		signingSecret: SigningSecret,
		retryDelays:   DefaultRetryDelays,
		// Slack waits AckDeadline for an answer, then counts a timeout.
		httpClient: &http.Client{Timeout: AckDeadline},
	}
	s.base = "http://" + s.host
	s.users[BotUserID] = User{ID: BotUserID, Name: "trustbot", RealName: "trustbot", TZ: "America/Los_Angeles", Locale: "en-US", IsBot: true}
	s.users[DefaultUserID] = User{ID: DefaultUserID, Name: "user", RealName: "Test User", TZ: "UTC", Locale: "en-US"}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("GET /oauth/v2/authorize", s.handleAuthorize)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/response/", s.handleResponse)
	mux.HandleFunc("/upload/", s.handleUpload)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState:         s.conns.ConnState,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	return s
}

// URL is the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.base }

// APIURL is the value for slack.OptionAPIURL: "http://127.0.0.1:PORT/api/".
func (s *Server) APIURL() string { return s.base + "/api/" }

// WaitClientsGone waits until the fake has finished with every connection
// its clients opened before the call: each request on them answered and
// the connection closed. It is for a test whose client process was
// killed: once it returns, nothing more of that client's can reach the
// fake. A client still connected keeps it waiting until ctx ends.
func (s *Server) WaitClientsGone(ctx context.Context) error {
	return s.conns.WaitClosed(ctx, s.host)
}

// WaitPortsGone is WaitClientsGone for the connections from the given
// local ports of the clients: those of one killed process, while other
// clients stay connected.
func (s *Server) WaitPortsGone(ctx context.Context, ports []int) error {
	return s.conns.WaitClosedFrom(ctx, s.host, func(client string) bool {
		_, p, err := net.SplitHostPort(client)
		if err != nil {
			return false
		}
		n, err := strconv.Atoi(p)
		return err == nil && slices.Contains(ports, n)
	})
}

// Close closes every socket and the listener, and waits for the fake's
// goroutines to end. Pending Wait* and Send* calls return ErrClosed.
// Close is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	socks := s.socks
	s.socks = nil
	close(s.done)
	s.notifyLocked()
	s.mu.Unlock()

	for _, k := range socks {
		k.goingAway()
	}
	_ = s.srv.Close()
	s.wg.Wait()
}

// track registers a goroutine or handler; it fails once Close has begun.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (called with s.mu held) is true.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ---- configuration ----

// SetPingInterval sets how often ping control frames go to each socket
// (default 2s). It takes effect at once on open sockets.
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingEvery = d
	close(s.pingCfg)
	s.pingCfg = make(chan struct{})
}

// StopPings stops (true) or resumes (false) pings, simulating a half-open link:
// a client then reconnects after its ping limit.
func (s *Server) StopPings(stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noPings = stop
	close(s.pingCfg)
	s.pingCfg = make(chan struct{})
}

// SetQueueTimeout sets how long an envelope waits for a socket when none is
// connected (default 10s) before Send* gives up with ErrNoConnection.
func (s *Server) SetQueueTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queueTimeout = d
}

// SetTriggerTTL sets how long an issued trigger_id stays valid (default 3s,
// like Slack); after that views.open/push answer expired_trigger_id. 0 disables expiry.
func (s *Server) SetTriggerTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.triggerTTL = d
}

// AddUser adds or replaces a user in the users.info registry. Empty TeamID
// becomes TeamID and empty Name the ID lowercased. UBOT and U0USER are
// registered by default.
func (s *Server) AddUser(u User) {
	if u.TeamID == "" {
		u.TeamID = TeamID
	}
	if u.Name == "" {
		u.Name = strings.ToLower(u.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// SetChannelName sets the name conversations.info and slash commands report
// for a channel.
func (s *Server) SetChannelName(channel, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channelNames[channel] = name
}

// ---- fault injection ----
// A method of "*" applies to every Web API method without its own setting.
// The response_url endpoint uses the method name "response_url".

// RateLimit makes the next `times` calls to method answer HTTP 429 with body
// {"ok":false,"error":"ratelimited"} and, when retryAfter != "", a
// Retry-After header. times < 0 means until cleared; times == 0 clears.
func (s *Server) RateLimit(method string, times int, retryAfter string) {
	s.setFault(s.rateLimits, method, times, &countFault{remaining: times, code: retryAfter, status: http.StatusTooManyRequests})
}

// FailNext makes the next `times` calls to method answer HTTP 200
// {"ok":false,"error":errorCode}. times < 0 means until cleared; 0 clears.
func (s *Server) FailNext(method, errorCode string, times int) {
	s.setFault(s.failNext, method, times, &countFault{remaining: times, code: errorCode})
}

// FailHTTP makes the next `times` calls to method answer the HTTP status
// (e.g. 500, 503) with an HTML body. times < 0 means until cleared; 0 clears.
func (s *Server) FailHTTP(method string, status, times int) {
	s.setFault(s.failHTTP, method, times, &countFault{remaining: times, status: status})
}

func (s *Server) setFault(m map[string]*countFault, method string, times int, f *countFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(m, method)
		return
	}
	m[method] = f
}

// takeFault consumes one use of the fault for method; s.mu must be held.
func takeFault(m map[string]*countFault, method string) *countFault {
	f, key := m[method], method
	if f == nil {
		f, key = m["*"], "*"
	}
	if f == nil {
		return nil
	}
	out := *f
	if f.remaining > 0 {
		f.remaining--
		if f.remaining == 0 {
			delete(m, key)
		}
	}
	return &out
}

// LoseAnswers makes the next `times` calls to method take effect (a message
// is posted) while their answer never arrives: the connection is cut, as
// when a network or a process fails after Slack accepted a request.
// times < 0 means until cleared; 0 clears.
func (s *Server) LoseAnswers(method string, times int) {
	s.setFault(s.loseAnswer, method, times, &countFault{remaining: times})
}

// SetClockOffset sets how far Slack's clock (message timestamps and the
// Date header of every Web API answer) runs ahead of this host's; negative:
// behind, as seen by a host whose clock is fast.
func (s *Server) SetClockOffset(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clockOffset = d
}

// SetDelay makes every call to method wait d before it is answered
// (the wait ends early if the client gives up). d <= 0 clears.
func (s *Server) SetDelay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, method)
		return
	}
	s.delays[method] = d
}

// SetChannelError makes chat.postMessage/postEphemeral (and conversations.*)
// to that channel or user ID always fail with errorCode, e.g.
// channel_not_found, not_in_channel, is_archived, user_not_found,
// account_inactive, cannot_dm_bot. conversations.info still answers for
// not_in_channel (is_member false) and is_archived (is_archived true).
func (s *Server) SetChannelError(channel, errorCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chanErr[channel] = errorCode
}

// ClearChannelError removes a SetChannelError setting.
func (s *Server) ClearChannelError(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.chanErr, channel)
}

// ---- recordings ----

// Calls returns the recorded Web API calls to method, oldest first; "" returns all.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until at least n calls to method were recorded and returns them all.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	var out []Call
	err := s.waitFor(ctx, func() bool {
		out = s.callsLocked(method)
		return len(out) >= n
	})
	return out, err
}

// Messages returns the messages in channel (a user ID means its DM
// channel "D"+ID), in posting order, in their current state. Ephemeral
// messages are included; deleted ones are not.
func (s *Server) Messages(channel string) []Message {
	channel = dmChannel(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel && !m.deleted {
			out = append(out, m.Message)
		}
	}
	return out
}

// AllMessages returns every message in every channel, in posting order.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if !m.deleted {
			out = append(out, m.Message)
		}
	}
	return out
}

// WaitAllMessages waits until at least n messages stand in all channels
// together and returns them all.
func (s *Server) WaitAllMessages(ctx context.Context, n int) ([]Message, error) {
	var out []Message
	err := s.waitFor(ctx, func() bool {
		out = out[:0]
		for _, m := range s.messages {
			if !m.deleted {
				out = append(out, m.Message)
			}
		}
		return len(out) >= n
	})
	return out, err
}

// WaitMessages waits until channel holds at least n messages and returns them.
func (s *Server) WaitMessages(ctx context.Context, channel string, n int) ([]Message, error) {
	channel = dmChannel(channel)
	var out []Message
	err := s.waitFor(ctx, func() bool {
		out = out[:0]
		for _, m := range s.messages {
			if m.Channel == channel && !m.deleted {
				out = append(out, m.Message)
			}
		}
		return len(out) >= n
	})
	return out, err
}

// Views returns the views opened, updated, pushed or published, oldest first.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// ResetRecordings forgets recorded calls, acks, envelopes, bad frames,
// messages and views (for long benchmarks). Configuration, users, triggers,
// response URLs and open sockets are kept; acks of envelopes sent before the
// reset get a zero Sent time.
func (s *Server) ResetRecordings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.acks, s.envelopes, s.badFrames = nil, nil, nil, nil
	s.ackIdx, s.sentAt, s.sentEnv = map[string][]int{}, map[string]time.Time{}, map[string]sentEnvelope{}
	s.messages, s.views = nil, nil
	s.notifyLocked()
}

// ---- response_url ----

// NewResponseURL issues a fresh response_url, "http://127.0.0.1:PORT/response/<n>".
func (s *Server) NewResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newResponseURLLocked()
}

func (s *Server) newResponseURLLocked() string {
	s.respN++
	s.responses[s.respN] = &respURL{}
	return fmt.Sprintf("%s/response/%d", s.base, s.respN)
}

func responseIndex(responseURL string) int {
	u, err := url.Parse(responseURL)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(u.Path, "/response/"))
	if err != nil {
		return 0
	}
	return n
}

// Responses returns the JSON bodies accepted at responseURL (at most 5).
func (s *Server) Responses(responseURL string) []json.RawMessage {
	n := responseIndex(responseURL)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.responses[n]; r != nil {
		return append([]json.RawMessage(nil), r.bodies...)
	}
	return nil
}

// Answers returns what the user saw in answer to the command or click
// that carried responseURL: the ack's message, if any, then the response_url
// bodies, each with the time it arrived.
func (s *Server) Answers(responseURL string) []Answer {
	n := responseIndex(responseURL)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.responses[n]; r != nil {
		return append([]Answer(nil), r.answers...)
	}
	return nil
}

// WaitAnswers waits until at least n answers were seen for the command or
// click that carried responseURL, and returns them.
func (s *Server) WaitAnswers(ctx context.Context, responseURL string, n int) ([]Answer, error) {
	idx := responseIndex(responseURL)
	var out []Answer
	err := s.waitFor(ctx, func() bool {
		if r := s.responses[idx]; r != nil {
			out = append(out[:0], r.answers...)
		}
		return len(out) >= n
	})
	return out, err
}

// WaitResponse waits until at least n bodies were accepted at responseURL.
func (s *Server) WaitResponse(ctx context.Context, responseURL string, n int) ([]json.RawMessage, error) {
	idx := responseIndex(responseURL)
	var out []json.RawMessage
	err := s.waitFor(ctx, func() bool {
		if r := s.responses[idx]; r != nil {
			out = append(out[:0], r.bodies...)
		}
		return len(out) >= n
	})
	return out, err
}

// ---- helpers ----

// isUserID reports whether an ID has the shape of a user's: U… or, on
// Enterprise Grid, W…. Channels (C…, G…, D…) and bots (B…) are not users.
func isUserID(id string) bool {
	return len(id) > 1 && (strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W"))
}

// dmChannel maps a user ID (U…/W…) to its DM channel "D"+ID.
func dmChannel(ch string) string {
	if strings.HasPrefix(ch, "U") || strings.HasPrefix(ch, "W") {
		return "D" + ch
	}
	return ch
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newEnvelopeID returns a UUID-shaped random ID.
func newEnvelopeID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// nextTSLocked returns a unique, increasing "seconds.micros" timestamp.
func (s *Server) nextTSLocked() string {
	us := time.Now().Add(s.clockOffset).UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// newTriggerLocked issues a trigger_id for user.
func (s *Server) newTriggerLocked(user string) string {
	s.triggerN++
	id := fmt.Sprintf("%d.%d.%s", time.Now().UnixMilli(), s.triggerN, randHex(16))
	s.triggers[id] = &trigger{user: user, issued: time.Now()}
	return id
}

// NewTriggerID issues a valid trigger_id for user, as if the user had just interacted.
func (s *Server) NewTriggerID(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTriggerLocked(user)
}
