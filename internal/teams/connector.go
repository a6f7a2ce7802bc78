package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// KnownServiceURLs are Teams' service URLs in the public cloud, GCC, GCC
// High and DoD. The bot's token may go to their hosts, and to the hosts of
// service URLs that came in validated activities.
var KnownServiceURLs = []string{
	"https://smba.trafficmanager.net/teams/",
	"https://smba.infra.gcc.teams.microsoft.com/teams/",
	"https://smba.infra.gov.teams.microsoft.us/teams/",
	"https://smba.infra.dod.teams.microsoft.us/teams/",
}

// Connector defaults.
const (
	// DefaultRequestTimeout bounds one request to the connector, never the
	// wait for its turn.
	DefaultRequestTimeout = 15 * time.Second
	// DefaultMaxRetries is how many times a 412, 502, 503 or 504 is retried.
	DefaultMaxRetries = 4
	// maxThrottled is how many 429s in a row one send waits out before it
	// gives up as not sent.
	maxThrottled = 16
	// maxRetryAfter caps the wait a 429 asks for.
	maxRetryAfter  = 10 * time.Minute
	backoffBase    = time.Second
	backoffCap     = 30 * time.Second
	maxErrorBody   = 64 << 10
	maxTrustedURLs = 1024
)

// unreachableCodes are the Teams error codes meaning the conversation will
// never take the bot's messages (blocked, uninstalled, bot not a member,
// disabled by the admin): retrying would never help.
var unreachableCodes = []string{
	"ConversationBlockedByUser", "BotNotInConversationRoster", "BotDisabledByAdmin",
	"ForbiddenOperationException", "MessageWritesBlocked", "ConversationNotFound",
}

// knownCodes are the Teams error codes metrics name; any other is "other".
var knownCodes = append([]string{
	"ActivityNotFoundInConversation", "InvalidBotApiHost", "MessageSizeTooBig", "PreconditionFailed",
	"BadArgument", "BadSyntax", "Throttled", "ServiceError", "Unauthorized",
}, unreachableCodes...)

// Operations, as metrics and logs name them.
const (
	OpCreateConversation = "create_conversation"
	OpSend               = "send"
	OpReply              = "reply"
	OpUpdate             = "update"
	OpDelete             = "delete"
)

// Methods are the connector operations metrics name (as the method of an
// API error or a rate limit).
var Methods = []string{OpCreateConversation, OpSend, OpReply, OpUpdate, OpDelete}

// ErrorLabels are the codes the connector's API errors are counted under:
// the Teams error codes it knows, the HTTP statuses it tells apart, and
// "timeout" (sent, no answer), "connect" (never sent), "token" (no token),
// "untrusted" (a service URL the token may not go to) and "other".
func ErrorLabels() []string {
	return slices.Concat(knownCodes, []string{"400", "401", "403", "404", "405", "409", "412", "413", "429", "500", "502", "503", "504",
		"timeout", "connect", "token", "untrusted", "other"})
}

// TokenProvider gives the bot's connector token; *TokenSource is one.
type TokenProvider interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// ConnectorConfig configures a Connector.
type ConnectorConfig struct {
	// AppID is the bot's app ID, its identity ("28:" + AppID) in new
	// conversations.
	AppID string
	// Tokens gives the bearer token. Required unless Dev.
	Tokens TokenProvider
	// Dev is the local development mode: service URLs must be on a
	// loopback address, plain http is allowed, and no token is sent.
	Dev bool
	// HTTPClient makes the requests (http.DefaultClient's transport, no
	// timeout of its own, if nil: RequestTimeout bounds each request).
	HTTPClient     *http.Client
	RequestTimeout time.Duration
	MaxRetries     int
	// Metrics counts every error answer (APIError, under Methods and
	// ErrorLabels) and every 429 (RateLimited); nil counts nothing.
	Metrics trustbot.Metrics
	Logger  *slog.Logger
	// SendSlots, when set, keeps the tenant's send rate and the pauses a
	// 429 asks for with every other process that shares them (several
	// replicas on one database); unset, this process paces alone.
	SendSlots trustbot.SendSlots
}

// Connector is a client of the Bot Framework Connector REST API. It paces
// sends to Teams' limits (a message waits for its turn, never dropped),
// waits out 429s, retries 412 and 502/503/504 a few times with jittered
// backoff, and reports failures as *trustbot.Error: ECANCELED when the
// request never reached Teams, EUNCERTAIN when it may have been taken,
// EUNREACHABLE when the conversation will never take it. It is safe for
// concurrent use.
type Connector struct {
	cfg   ConnectorConfig
	log   *slog.Logger
	pacer *pacer
	// jitter returns a random duration in [0, d).
	jitter func(d time.Duration) time.Duration

	mu      sync.RWMutex
	trusted map[string]bool // scheme://host[:port]
}

// NewConnector returns a Connector.
func NewConnector(cfg ConnectorConfig) (*Connector, error) {
	if cfg.AppID == "" {
		return nil, errors.New("teams: the connector needs the app ID")
	}
	if cfg.Tokens == nil && !cfg.Dev {
		return nil, errors.New("teams: the connector needs a token source outside the development mode")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	// A redirect is never followed: it could take the token elsewhere.
	client := *cfg.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &client
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Connector{cfg: cfg, log: cfg.Logger, pacer: newPacer(cfg.SendSlots, cfg.Logger), trusted: map[string]bool{},
		jitter: func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}}
	if !cfg.Dev {
		for _, u := range KnownServiceURLs {
			if err := c.TrustServiceURL(u); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// origin returns the scheme and host of a service URL the connector may
// call, or an error saying why it may not.
func (c *Connector) origin(serviceURL string) (string, *url.URL, error) {
	u, err := url.Parse(serviceURL)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", nil, errors.New("not a service URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if c.cfg.Dev {
		if scheme != "http" && scheme != "https" || !loopback(u.Hostname()) {
			return "", nil, errors.New("the development mode only talks to loopback addresses")
		}
	} else if scheme != "https" {
		return "", nil, errors.New("a service URL must be https")
	}
	return scheme + "://" + strings.ToLower(u.Host), u, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TrustServiceURL records a service URL the bot's token may be sent to:
// one that came in an activity whose token the Verifier accepted (now or
// when it was stored with a conversation reference).
func (c *Connector) TrustServiceURL(serviceURL string) error {
	o, _, err := c.origin(serviceURL)
	if err != nil {
		return &trustbot.Error{Code: trustbot.EINVALID, Message: "teams: " + err.Error()}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.trusted[o] && len(c.trusted) >= maxTrustedURLs {
		return &trustbot.Error{Code: trustbot.EINVALID, Message: "teams: too many service URLs"}
	}
	c.trusted[o] = true
	return nil
}

// endpoint returns the URL of path under serviceURL, if the connector may
// call it.
func (c *Connector) endpoint(serviceURL, path string) (string, error) {
	o, u, err := c.origin(serviceURL)
	if err == nil && !c.cfg.Dev {
		c.mu.RLock()
		ok := c.trusted[o]
		c.mu.RUnlock()
		if !ok {
			err = errors.New("the service URL's host came in no validated activity and is not a Teams host")
		}
	}
	if err != nil {
		// Never sent, and never will be: the caller must not retry.
		return "", &trustbot.Error{Code: trustbot.EINVALID, Message: "teams: " + err.Error()}
	}
	return strings.TrimSuffix(u.String(), "/") + "/" + path, nil
}

// CreateConversation opens (or finds) a conversation: PersonalConversation
// for a user's personal chat, ChannelConversation for a new channel thread.
func (c *Connector) CreateConversation(ctx context.Context, serviceURL string, p ConversationParameters) (ConversationResourceResponse, error) {
	var out ConversationResourceResponse
	key := ""
	if p.ChannelData != nil && p.ChannelData.Channel != nil {
		key = p.ChannelData.Channel.ID
	} else if len(p.Members) > 0 {
		key = "create:" + p.Members[0].ID
	}
	err := c.call(ctx, OpCreateConversation, http.MethodPost, serviceURL, "v3/conversations", p.TenantID, key, p, &out)
	return out, err
}

// SendToConversation posts a message into the conversation.
func (c *Connector) SendToConversation(ctx context.Context, ref ConversationReference, a *Activity) (ResourceResponse, error) {
	var out ResourceResponse
	err := c.call(ctx, OpSend, http.MethodPost, ref.ServiceURL, activitiesPath(ref.Conversation.ID, ""),
		ref.Conversation.TenantID, ref.Conversation.ID, outgoing(ref, a, ""), &out)
	return out, err
}

// ReplyToActivity posts a message in answer to activity replyToID.
func (c *Connector) ReplyToActivity(ctx context.Context, ref ConversationReference, replyToID string, a *Activity) (ResourceResponse, error) {
	var out ResourceResponse
	err := c.call(ctx, OpReply, http.MethodPost, ref.ServiceURL, activitiesPath(ref.Conversation.ID, replyToID),
		ref.Conversation.TenantID, ref.Conversation.ID, outgoing(ref, a, replyToID), &out)
	return out, err
}

// UpdateActivity replaces the bot's message activityID in place.
func (c *Connector) UpdateActivity(ctx context.Context, ref ConversationReference, activityID string, a *Activity) (ResourceResponse, error) {
	var out ResourceResponse
	m := outgoing(ref, a, "")
	m.ID = activityID
	err := c.call(ctx, OpUpdate, http.MethodPut, ref.ServiceURL, activitiesPath(ref.Conversation.ID, activityID),
		ref.Conversation.TenantID, ref.Conversation.ID, m, &out)
	return out, err
}

// DeleteActivity deletes the bot's message activityID.
func (c *Connector) DeleteActivity(ctx context.Context, ref ConversationReference, activityID string) error {
	return c.call(ctx, OpDelete, http.MethodDelete, ref.ServiceURL, activitiesPath(ref.Conversation.ID, activityID),
		ref.Conversation.TenantID, ref.Conversation.ID, nil, nil)
}

func activitiesPath(conversationID, activityID string) string {
	p := "v3/conversations/" + url.PathEscape(conversationID) + "/activities"
	if activityID != "" {
		p += "/" + url.PathEscape(activityID)
	}
	return p
}

// outgoing fills in what a message to ref needs, on a copy of a.
func outgoing(ref ConversationReference, a *Activity, replyToID string) *Activity {
	m := Activity{}
	if a != nil {
		m = *a
	}
	if m.Type == "" {
		m.Type = TypeMessage
	}
	if m.Conversation == nil {
		conv := ConversationAccount{ID: ref.Conversation.ID}
		m.Conversation = &conv
	}
	if m.From == nil && ref.Bot.ID != "" {
		bot := ref.Bot
		m.From = &bot
	}
	if m.Recipient == nil && ref.User.ID != "" && !ref.Conversation.IsGroup {
		user := ref.User
		m.Recipient = &user
	}
	if replyToID != "" {
		m.ReplyToID = replyToID
	}
	return &m
}

// apiError is the connector's error body.
type apiError struct {
	Error struct {
		Code           string `json:"code"`
		SubCode        string `json:"subCode"`
		Message        string `json:"message"`
		InnerHTTPError *struct {
			StatusCode int             `json:"statusCode"`
			Body       json.RawMessage `json:"body"`
		} `json:"innerHttpError"`
	} `json:"error"`
}

// errorCodes reads the Teams error codes of an error body: the error's
// code and subCode, and those of the inner service's answer where there
// is one (an object, or a string holding one).
func errorCodes(body []byte) []string {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	codes := []string{e.Error.Code, e.Error.SubCode}
	if in := e.Error.InnerHTTPError; in != nil && len(in.Body) > 0 {
		raw := []byte(in.Body)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			raw = []byte(s)
		}
		var inner apiError
		if json.Unmarshal(raw, &inner) == nil {
			codes = append(codes, inner.Error.Code, inner.Error.SubCode)
		}
	}
	return slices.DeleteFunc(codes, func(c string) bool { return c == "" })
}

// outcome is one attempt's result.
type outcome struct {
	status     int
	body       []byte
	retryAfter time.Duration
	// sent: the request went out (a failure after it leaves the
	// outcome unknown); otherwise no connection could be made.
	sent bool
	err  error
}

// call makes one operation, with pacing and retries.
func (c *Connector) call(ctx context.Context, op, method, serviceURL, path, tenant, pacingKey string, in, out any) error {
	target, err := c.endpoint(serviceURL, path)
	if err != nil {
		c.count(op, "untrusted")
		return err
	}
	var payload []byte
	if in != nil {
		if payload, err = json.Marshal(in); err != nil {
			return &trustbot.Error{Code: trustbot.EINVALID, Message: "teams: " + op + ": " + err.Error()}
		}
	}
	maybeSent := false // an earlier attempt may have been taken
	notSent := func(why string) error {
		if maybeSent {
			return &trustbot.Error{Code: trustbot.EUNCERTAIN, Message: "teams: " + op + ": " + why + " after an answer that left it unknown"}
		}
		return &trustbot.Error{Code: trustbot.ECANCELED, Message: "teams: " + op + ": not sent: " + why}
	}
	retries, throttled, reauth := 0, 0, false
	noHeader := backoffBase
	for {
		if err := c.pacer.wait(ctx, tenant, pacingKey); err != nil {
			return notSent(err.Error())
		}
		token := ""
		if !c.cfg.Dev {
			if token, err = c.cfg.Tokens.Token(ctx); err != nil {
				c.count(op, "token")
				return notSent("no token: " + err.Error())
			}
		}
		// The wait for a turn (or for a token) may have been long: a
		// scheduled message's sender says whether it is still its to send.
		if err := trustbot.CheckSend(ctx); err != nil {
			if maybeSent {
				return notSent("no longer this sender's")
			}
			return err
		}
		res := c.attempt(ctx, method, target, token, payload)
		codes := errorCodes(res.body)
		c.count(op, label(res, codes))
		switch {
		case res.err != nil && !res.sent:
			c.log.Warn("teams: connector unreachable", "op", op, "err", res.err)
			return notSent(res.err.Error())
		case res.err != nil:
			c.log.Warn("teams: no answer from the connector", "op", op, "conversation", pacingKey, "err", res.err)
			return &trustbot.Error{Code: trustbot.EUNCERTAIN, Message: "teams: " + op + ": no answer: " + res.err.Error()}
		case res.status >= 200 && res.status < 300:
			if out != nil && len(bytes.TrimSpace(res.body)) > 0 {
				if err := json.Unmarshal(res.body, out); err != nil {
					// Taken, but its ID is unreadable: never sent again.
					c.log.Warn("teams: connector answer unreadable", "op", op, "status", res.status)
				}
			}
			return nil
		case res.status == http.StatusUnauthorized && !reauth && !c.cfg.Dev:
			// The token was refused, so was the request: a new token, once.
			reauth = true
			c.cfg.Tokens.Invalidate(token)
			continue
		case res.status == http.StatusTooManyRequests:
			throttled++
			if throttled > maxThrottled {
				return notSent("still throttled")
			}
			wait := res.retryAfter
			if wait <= 0 {
				wait, noHeader = noHeader, min(2*noHeader, time.Minute)
			}
			c.log.Warn("teams: throttled", "op", op, "conversation", pacingKey, "retry_after", wait)
			c.pacer.hold(ctx, pacingKey, wait)
			continue
		case res.status == http.StatusPreconditionFailed || res.status == http.StatusBadGateway ||
			res.status == http.StatusServiceUnavailable || res.status == http.StatusGatewayTimeout:
			if res.status != http.StatusPreconditionFailed {
				maybeSent = true
			}
			if retries >= c.cfg.MaxRetries {
				if maybeSent {
					return &trustbot.Error{Code: trustbot.EUNCERTAIN, Message: fmt.Sprintf("teams: %s: HTTP %d after %d retries", op, res.status, retries)}
				}
				return notSent(fmt.Sprintf("HTTP %d after %d retries", res.status, retries))
			}
			// A Retry-After on these is honoured too, when longer.
			d := max(c.backoff(retries), res.retryAfter)
			retries++
			c.log.Warn("teams: connector asks to retry", "op", op, "status", res.status, "retry", retries, "wait", d)
			if err := c.pacer.sleep(ctx, d); err != nil {
				return notSent(err.Error())
			}
			continue
		}
		return c.failure(op, res.status, codes)
	}
}

// failure turns a final error answer into a *trustbot.Error.
func (c *Connector) failure(op string, status int, codes []string) error {
	what := fmt.Sprintf("teams: %s: HTTP %d %s", op, status, strings.Join(codes, "/"))
	switch {
	case (status == http.StatusForbidden || status == http.StatusNotFound) && slices.ContainsFunc(codes, func(c string) bool { return slices.Contains(unreachableCodes, c) }):
		return &trustbot.Error{Code: trustbot.EUNREACHABLE, Message: what}
	case status == http.StatusNotFound:
		return &trustbot.Error{Code: trustbot.ENOTFOUND, Message: what}
	case status >= 500:
		// Taken or not, nobody can tell.
		return &trustbot.Error{Code: trustbot.EUNCERTAIN, Message: what}
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		return &trustbot.Error{Code: trustbot.EINVALID, Message: what}
	}
	c.log.Error("teams: connector refused", "op", op, "status", status, "codes", strings.Join(codes, "/"))
	return &trustbot.Error{Code: trustbot.EINTERNAL, Message: what}
}

// backoff is the wait before retry n (from 0): exponential, capped, with
// full jitter over its upper half.
func (c *Connector) backoff(n int) time.Duration {
	d := min(backoffBase<<min(n, 10), backoffCap)
	return d/2 + c.jitter(d/2)
}

// attempt makes one HTTP request. Its timeout bounds the request alone.
// Once started it runs to its end even if ctx is canceled: an abandoned
// request would leave its outcome unknown.
func (c *Connector) attempt(ctx context.Context, method, target, token string, payload []byte) outcome {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.RequestTimeout)
	defer cancel()
	var wrote atomic.Bool
	callCtx = httptrace.WithClientTrace(callCtx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(callCtx, method, target, body)
	if err != nil {
		return outcome{err: err}
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return outcome{sent: wrote.Load(), err: scrub(err)}
	}
	defer resp.Body.Close()
	limit := int64(maxErrorBody)
	if resp.StatusCode < 300 {
		limit = MaxActivityBytes
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil && resp.StatusCode >= 300 {
		b = nil // an error answer cut short still has its status
	}
	return outcome{status: resp.StatusCode, body: b, retryAfter: retryAfter(resp.Header.Get("Retry-After"), c.pacer.now()), sent: true}
}

// scrub keeps the cause of a client error without the request line.
func scrub(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(min(secs, maxRetryAfter.Seconds()) * float64(time.Second))
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// label names an attempt's outcome for metrics, from closed lists.
func label(res outcome, codes []string) string {
	switch {
	case res.err != nil && !res.sent:
		return "connect"
	case res.err != nil:
		return "timeout"
	case res.status >= 200 && res.status < 300:
		return "ok"
	}
	for i := len(codes) - 1; i >= 0; i-- {
		if slices.Contains(knownCodes, codes[i]) {
			return codes[i]
		}
	}
	switch res.status {
	case 400, 401, 403, 404, 405, 409, 412, 413, 429, 500, 502, 503, 504:
		return strconv.Itoa(res.status)
	}
	return "other"
}

func (c *Connector) count(op, outcome string) {
	switch {
	case c.cfg.Metrics == nil || outcome == "ok":
	case outcome == "429" || outcome == "Throttled":
		c.cfg.Metrics.RateLimited(trustbot.Teams, op)
	default:
		c.cfg.Metrics.APIError(trustbot.Teams, op, outcome)
	}
}
