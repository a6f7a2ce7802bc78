package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Paths Slack posts to in HTTP mode, on the public address: the request
// URLs of the app's event subscriptions, interactivity and slash commands.
const (
	EventsPath      = "/slack/events"
	InteractivePath = "/slack/interactive"
	CommandsPath    = "/slack/commands"
)

// MaxBodyBytes bounds the body of a request Slack posts. Its largest, a
// modal's submission with every input filled, stays well under it.
const MaxBodyBytes = 1 << 20

// maxAckBytes bounds a message in the answer to a slash command: the
// limit of a Socket Mode ack, so that an answer takes the same path over
// both transports (larger ones go to the response_url).
const maxAckBytes = 20 << 10

// Reasons a request over HTTP is refused, as logged and counted. The list
// is closed, so that they make bounded metric labels.
const (
	RefusedUnsigned  = "unsigned"  // no signature or no timestamp header
	RefusedMalformed = "malformed" // a signature that is not v0=<hex>, a timestamp that is not a number
	RefusedStale     = "stale"     // a timestamp more than 5 minutes from this host's clock, either way
	RefusedSignature = "signature" // the signature does not match the body and timestamp
	RefusedTooLarge  = "too_large" // a body over MaxBodyBytes
)

// RefusedReasons lists every reason a request is refused, for the
// metrics' labels.
func RefusedReasons() []string {
	return []string{RefusedUnsigned, RefusedMalformed, RefusedStale, RefusedSignature, RefusedTooLarge}
}

// verify reads a request's body and checks Slack's v0 signature over it,
// with slack-go's SecretsVerifier: the X-Slack-Signature and
// X-Slack-Request-Timestamp headers present, the timestamp within 5
// minutes of this host's clock in either direction, and the HMAC-SHA256 of
// "v0:" + timestamp + ":" + body under the signing secret equal to the
// signature (compared in constant time). It returns the body, or the HTTP
// status and reason of a refusal.
func verify(w http.ResponseWriter, r *http.Request, secret string) ([]byte, int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, RefusedTooLarge
		}
		return nil, http.StatusBadRequest, RefusedMalformed
	}
	sv, err := slack.NewSecretsVerifier(r.Header, secret)
	switch {
	case errors.Is(err, slack.ErrMissingHeaders):
		return nil, http.StatusUnauthorized, RefusedUnsigned
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return nil, http.StatusUnauthorized, RefusedStale
	case err != nil:
		// A signature without "v0=", not hex or of the wrong length; a
		// timestamp that is not a number; or no secret configured.
		return nil, http.StatusUnauthorized, RefusedMalformed
	}
	if _, err := sv.Write(body); err != nil {
		return nil, http.StatusUnauthorized, RefusedSignature
	}
	if err := sv.Ensure(); err != nil {
		return nil, http.StatusUnauthorized, RefusedSignature
	}
	return body, 0, ""
}

// Routes adds Slack's HTTP endpoints (EventsPath, InteractivePath,
// CommandsPath; POST only) to mux. Every request is verified before
// anything of it is read; a refused one is answered 401 (413 when too
// large), logged with its reason (never its body) and counted. A verified
// one goes to the same worker pool, handler and answers as a Socket Mode
// envelope; its HTTP response is the ack, carrying a slash command's
// answer when Socket Mode's ack would.
func (c *Client) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+EventsPath, func(w http.ResponseWriter, r *http.Request) { c.serveHTTP(w, r, kindEvent) })
	mux.HandleFunc("POST "+InteractivePath, func(w http.ResponseWriter, r *http.Request) { c.serveHTTP(w, r, kindInteractive) })
	mux.HandleFunc("POST "+CommandsPath, func(w http.ResponseWriter, r *http.Request) { c.serveHTTP(w, r, kindSlash) })
}

func (c *Client) serveHTTP(w http.ResponseWriter, r *http.Request, kind string) {
	start := time.Now()
	body, status, reason := verify(w, r, c.cfg.SigningSecret)
	if reason != "" {
		c.cfg.Metrics.Refused(trustbot.Slack, reason)
		c.log.Warn("Slack request refused", "reason", reason, "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(w, http.StatusText(status), status)
		return
	}
	in, challenge, err := readHTTP(kind, body)
	if err != nil {
		// Signed by Slack, yet not what the path takes: nothing to retry.
		c.log.Warn("unusable Slack request", "path", r.URL.Path, "err", err)
		w.Header().Set("X-Slack-No-Retry", "1")
		http.Error(w, "unusable request", http.StatusBadRequest)
		return
	}
	if challenge != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(challenge)
		return
	}
	if in.kind == "" {
		// A body of a kind trustbot takes nothing from: acknowledged.
		// app_rate_limited says Slack holds this workspace's events back
		// for a while (more than 30,000 in an hour).
		level := slog.LevelInfo
		if in.id == "app_rate_limited" {
			level = slog.LevelWarn
		}
		c.log.Log(r.Context(), level, "Slack request without work", "path", r.URL.Path, "type", in.id)
		return
	}
	if !c.Connected() {
		// Starting or stopping: no worker would answer it. Slack retries
		// an event; a command or a press shows the user an error at once
		// rather than being acknowledged and dropped.
		c.log.Warn("Slack request while not taking requests", "path", r.URL.Path)
		http.Error(w, "not taking requests", http.StatusServiceUnavailable)
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		c.log.Info("Slack retry", "type", kind, "request", in.id, "retry", clip(n, 4), "reason", clip(r.Header.Get("X-Slack-Retry-Reason"), 40))
	}
	acked := make(chan []byte, 1)
	in.ack = func(payload any) error {
		var b []byte
		switch p := payload.(type) {
		case nil:
		case json.RawMessage: // a kept reply's JSON, made already
			b = p
		default:
			var err error
			if b, err = json.Marshal(p); err != nil {
				return err
			}
		}
		if len(b) >= maxAckBytes {
			return fmt.Errorf("answer of %d bytes, too large for the ack", len(b))
		}
		select {
		case acked <- b:
		default: // acknowledged already
		}
		return nil
	}
	c.accept(in, start)
	select {
	case b := <-acked:
		if b != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b)
		}
	case <-r.Context().Done():
	}
}

// readHTTP reads a verified body into an inbound request (its ack unset).
// An events body of type url_verification returns its challenge instead;
// one of a type trustbot takes nothing from, an inbound of no kind.
func readHTTP(kind string, body []byte) (in inbound, challenge []byte, err error) {
	switch kind {
	case kindEvent:
		var outer struct {
			Type      string `json:"type"`
			Challenge string `json:"challenge"`
			EventID   string `json:"event_id"`
		}
		if err := json.Unmarshal(body, &outer); err != nil {
			return in, nil, fmt.Errorf("events body: %w", err)
		}
		switch outer.Type {
		case "url_verification":
			return in, []byte(outer.Challenge), nil
		case "event_callback":
			return inbound{id: clip(outer.EventID, 40), kind: kindEvent, payload: body}, nil, nil
		}
		return inbound{id: clip(outer.Type, 40)}, nil, nil
	case kindInteractive:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return in, nil, fmt.Errorf("interactive body: %w", err)
		}
		payload := form.Get("payload")
		if payload == "" {
			return in, nil, errors.New("interactive body without payload")
		}
		var kind struct {
			Type slack.InteractionType `json:"type"`
		}
		if err := json.Unmarshal([]byte(payload), &kind); err != nil {
			return in, nil, fmt.Errorf("interactive payload: %w", err)
		}
		return inbound{id: kindInteractive, kind: kindInteractive, payload: json.RawMessage(payload),
			suggest: kind.Type == slack.InteractionTypeBlockSuggestion}, nil, nil
	default:
		// slack-go reads the form as it reads it from Socket Mode's
		// payload, into the same SlashCommand.
		req, err := http.NewRequest(http.MethodPost, CommandsPath, bytes.NewReader(body))
		if err != nil {
			return in, nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sc, err := slack.SlashCommandParse(req)
		if err != nil {
			return in, nil, fmt.Errorf("slash command body: %w", err)
		}
		return inbound{id: kindSlash, kind: kindSlash, slash: &sc, accepts: true}, nil, nil
	}
}
