package fakeslack

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SigningSecret is the secret the fake signs its HTTP requests with,
// unless SetSigningSecret changed it.
const SigningSecret = "fake-signing-secret"

// DefaultRetryDelays are the fake's waits before each retry of an event
// the app did not acknowledge: Slack waits about 0, 1 and 5 minutes, too
// long for tests. SetRetryDelays changes them.
var DefaultRetryDelays = []time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond}

// Delivery is one HTTP request the fake posted to the app (HTTP mode) and
// how the app answered it.
type Delivery struct {
	URL      string
	RetryNum int // X-Slack-Retry-Num; 0 on the first attempt
	Status   int // 0 when no answer came
	Header   http.Header
	Body     []byte // the response body
	Took     time.Duration
	Err      error // no answer within AckDeadline, or no connection
}

// OK reports whether Slack takes the answer as an acknowledgement: HTTP
// 200 within AckDeadline.
func (d Delivery) OK() bool {
	return d.Err == nil && d.Status == http.StatusOK && d.Took <= AckDeadline
}

// SetOptionsURL sets the options load URL of the app's select menus
// (interactivity's message_menu_options_url), where HTTP mode posts a
// block_suggestion: without one, an external select has no choices.
func (s *Server) SetOptionsURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.optionsURL = u
}

// SetSigningSecret sets the secret HTTP requests are signed with.
func (s *Server) SetSigningSecret(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signingSecret = secret
}

// SetRequestURLs sets where HTTP mode posts, as an app's configuration
// does: the event subscriptions' request URL, interactivity's and the
// slash commands'.
func (s *Server) SetRequestURLs(events, interactivity, commands string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventsURL, s.interactiveURL, s.commandsURL = events, interactivity, commands
}

// SetRetryDelays sets the waits before each retry of an unacknowledged
// event (at most 3 retries, as Slack).
func (s *Server) SetRetryDelays(d ...time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryDelays = append([]time.Duration(nil), d[:min(len(d), 3)]...)
}

// Sign returns the headers Slack signs a body with at a time:
// X-Slack-Request-Timestamp and X-Slack-Signature, "v0=" + the hex
// HMAC-SHA256 of "v0:" + timestamp + ":" + body under the signing secret.
func (s *Server) Sign(body []byte, at time.Time) http.Header {
	s.mu.Lock()
	secret := s.signingSecret
	s.mu.Unlock()
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// PostSigned posts body to url signed now, as Slack does, and returns the
// app's answer. tamper, when not nil, may change the request after it is
// signed (headers, body), to forge one.
func (s *Server) PostSigned(url, contentType string, body []byte, tamper func(*http.Request)) Delivery {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Delivery{URL: url, Err: err}
	}
	req.Header = s.Sign(body, time.Now())
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if tamper != nil {
		tamper(req)
	}
	return s.post(req)
}

// post sends a request and reads the answer within AckDeadline.
func (s *Server) post(req *http.Request) Delivery {
	d := Delivery{URL: req.URL.String()}
	d.RetryNum, _ = strconv.Atoi(req.Header.Get("X-Slack-Retry-Num"))
	start := time.Now()
	resp, err := s.httpClient.Do(req)
	if err != nil {
		d.Took, d.Err = time.Since(start), err
		return d
	}
	defer resp.Body.Close()
	d.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	d.Took, d.Status, d.Header, d.Err = time.Since(start), resp.StatusCode, resp.Header, err
	return d
}

func (s *Server) requestURL(which *string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *which == "" {
		return "", errors.New("fakeslack: no request URL set (SetRequestURLs)")
	}
	return *which, nil
}

// leaving marks a payload's trigger as issued now, as a trigger is born
// when its payload leaves Slack.
func (s *Server) leaving(payload json.RawMessage) {
	trig, user := payloadTrigger(payload)
	if trig == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.triggers[trig]; t != nil {
		t.issued = time.Now()
	} else {
		s.triggers[trig] = &trigger{user: user, issued: time.Now()}
	}
}

// PostSlashCommand posts a slash command to the commands URL, form
// encoded with Slack's fields (as SlashCommand fills them). The answer in
// the HTTP response is shown to the user, as Slack shows it, when it came
// within AckDeadline with status 200: see Answers.
func (s *Server) PostSlashCommand(c SlashCommand) (Delivery, error) {
	u, err := s.requestURL(&s.commandsURL)
	if err != nil {
		return Delivery{}, err
	}
	raw, err := s.BuildSlashCommand(c)
	if err != nil {
		return Delivery{}, err
	}
	var fields map[string]string
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Delivery{}, err
	}
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	s.leaving(raw)
	d := s.PostSigned(u, "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	if d.OK() {
		s.httpAnswer(fields["response_url"], d)
	}
	return d, nil
}

// httpAnswer shows the body of a slash command's answer to the user, as
// Slack does: a JSON message (text or blocks), or plain text.
func (s *Server) httpAnswer(responseURL string, d Delivery) {
	if len(bytes.TrimSpace(d.Body)) == 0 {
		return
	}
	body := json.RawMessage(d.Body)
	if !strings.HasPrefix(d.Header.Get("Content-Type"), "application/json") {
		body, _ = json.Marshal(map[string]string{"text": string(d.Body)})
	} else {
		var msg struct {
			Text   string            `json:"text"`
			Blocks []json.RawMessage `json:"blocks"`
		}
		if json.Unmarshal(d.Body, &msg) != nil || msg.Text == "" && len(msg.Blocks) == 0 {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.responses[responseIndex(responseURL)]; r != nil {
		r.answers = append(r.answers, Answer{Via: ViaAck, Body: body, At: time.Now()})
		s.notifyLocked()
	}
}

// PostInteractive posts an interaction to the interactivity URL (a
// block_suggestion to the options load URL), as a form whose "payload"
// field is the JSON Interactive would send.
func (s *Server) PostInteractive(payload any) (Delivery, error) {
	raw, err := s.BuildInteractive(payload)
	if err != nil {
		return Delivery{}, err
	}
	var kind struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &kind)
	which := &s.interactiveURL
	if kind.Type == "block_suggestion" {
		which = &s.optionsURL
	}
	u, err := s.requestURL(which)
	if err != nil {
		return Delivery{}, err
	}
	s.leaving(raw)
	return s.PostSigned(u, "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), nil), nil
}

// BuildEvent wraps an event in the event_callback EventsAPI would send
// (an empty eventID gets a fresh one).
func (s *Server) BuildEvent(event any, eventID string) (json.RawMessage, error) {
	ev, err := toRaw(event)
	if err != nil {
		return nil, err
	}
	if eventID == "" {
		eventID = "Ev" + strings.ToUpper(randHex(5))
	}
	// The workspace is the event's own "team" when it names one.
	var named struct {
		Team string `json:"team"`
	}
	_ = json.Unmarshal(ev, &named)
	team := cmp.Or(named.Team, TeamID)
	cb := eventCallback{
		Token: VerificationToken, TeamID: team, APIAppID: AppID, Event: ev,
		Type: "event_callback", EventID: eventID, EventTime: time.Now().Unix(),
		Authorizations: []eventAuthorization{{TeamID: team, UserID: BotUserID, IsBot: true}},
		EventContext:   "4-fake-" + eventID,
	}
	s.mu.Lock()
	s.orgFieldsLocked(&cb)
	s.mu.Unlock()
	b, err := json.Marshal(cb)
	if err != nil {
		return nil, fmt.Errorf("fakeslack: marshal event: %w", err)
	}
	return b, nil
}

// PostEvent posts an event_callback to the events URL and, while the app
// does not acknowledge it (HTTP 200 within AckDeadline), retries it up to
// 3 times after the retry delays, with X-Slack-Retry-Num and
// X-Slack-Retry-Reason, as Slack does. It returns every attempt.
func (s *Server) PostEvent(event any, eventID string) ([]Delivery, error) {
	body, err := s.BuildEvent(event, eventID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delays := s.retryDelays
	s.mu.Unlock()
	d, err := s.postEvent(body, 0, "")
	if err != nil {
		return nil, err
	}
	out := []Delivery{d}
	for i, wait := range delays {
		if out[len(out)-1].OK() {
			break
		}
		select {
		case <-time.After(wait):
		case <-s.done:
			return out, ErrClosed
		}
		d, err := s.postEvent(body, i+1, retryReason(out[len(out)-1]))
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// PostEventRetry posts an event_callback once, as retry number n (1 to 3)
// for reason (http_timeout, http_error, …): what Slack sends after it
// judged an earlier attempt failed, whether or not the app handled it.
func (s *Server) PostEventRetry(event any, eventID string, n int, reason string) (Delivery, error) {
	body, err := s.BuildEvent(event, eventID)
	if err != nil {
		return Delivery{}, err
	}
	return s.postEvent(body, n, reason)
}

func (s *Server) postEvent(body []byte, retry int, reason string) (Delivery, error) {
	u, err := s.requestURL(&s.eventsURL)
	if err != nil {
		return Delivery{}, err
	}
	return s.PostSigned(u, "application/json", body, func(r *http.Request) {
		if retry > 0 {
			r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			r.Header.Set("X-Slack-Retry-Reason", reason)
		}
	}), nil
}

// retryReason is Slack's X-Slack-Retry-Reason for a failed attempt.
func retryReason(d Delivery) string {
	var ne interface{ Timeout() bool }
	switch {
	case d.Err != nil && errors.As(d.Err, &ne) && ne.Timeout(), d.Took > AckDeadline:
		return "http_timeout"
	case d.Err != nil:
		return "connection_failed"
	}
	return "http_error"
}

// PostURLVerification posts the url_verification Slack sends when an
// events request URL is saved, and returns the answer and the challenge
// the app must echo.
func (s *Server) PostURLVerification() (Delivery, string, error) {
	u, err := s.requestURL(&s.eventsURL)
	if err != nil {
		return Delivery{}, "", err
	}
	challenge := randHex(16)
	body, _ := json.Marshal(map[string]string{"token": VerificationToken, "challenge": challenge, "type": "url_verification"})
	return s.PostSigned(u, "application/json", body, nil), challenge, nil
}
