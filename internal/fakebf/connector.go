package fakebf

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Message is a message as a user of the conversation sees it: updates are
// applied in place, and a deleted message stays in the list marked deleted.
type Message struct {
	ID          string
	From        string
	Text        string
	Summary     string
	ReplyToID   string
	Attachments []Attachment
	Updates     int
	Deleted     bool
}

// Attachment is an attachment of a recorded message; Content is its JSON.
type Attachment struct {
	ContentType string
	Content     json.RawMessage
}

// Request is one request the connector answered: when it came (by the
// server's clock), the operation (create, send, reply, update, delete),
// the conversation in its path, the status it was answered with, and
// whether it carried an Authorization header.
type Request struct {
	Time          time.Time
	Method        string
	Conversation  string
	Status        int
	Authorization bool
}

// Fault makes the connector answer badly. Conversation limits it to one
// conversation ("" for every request); Times is how many requests it hits
// (0: until cleared).
type Fault struct {
	Conversation string
	Times        int
	// Status is the HTTP status to answer (0: answer normally, after Delay).
	Status int
	// Code is the Teams error code of the answer's body.
	Code string
	// InnerCode, if set, is put in error.innerHttpError.body.error.code,
	// where the connector reports the code of the service behind it.
	InnerCode string
	// RetryAfter is sent in a Retry-After header (whole seconds).
	RetryAfter time.Duration
	// Delay holds the answer back, until the client gives up if it is long.
	Delay time.Duration
	// Apply carries out the request before answering badly, as a server
	// that fails after taking the message does.
	Apply bool
}

type conversation struct {
	id       string
	isGroup  bool
	channel  string
	user     string
	messages []*Message
}

func (s *Server) connectorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /teams/v3/conversations", s.logged("create", s.createConversation))
	mux.HandleFunc("POST /teams/v3/conversations/{conv}/activities", s.logged("send", s.sendActivity))
	mux.HandleFunc("POST /teams/v3/conversations/{conv}/activities/{activity}", s.logged("reply", s.sendActivity))
	mux.HandleFunc("PUT /teams/v3/conversations/{conv}/activities/{activity}", s.logged("update", s.updateActivity))
	mux.HandleFunc("DELETE /teams/v3/conversations/{conv}/activities/{activity}", s.logged("delete", s.deleteActivity))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// logged records every connector request with the status it was answered.
func (s *Server) logged(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at := s.clock()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Time: at, Method: method, Conversation: r.PathValue("conv"), Status: sw.status, Authorization: r.Header.Get("Authorization") != ""})
		s.mu.Unlock()
	}
}

// Inject adds a fault; faults are tried in the order they were added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Requests returns the connector requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Messages returns what a user of the conversation sees, oldest first.
func (s *Server) Messages(conversationID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.messages))
	for _, m := range c.messages {
		cp := *m
		cp.Attachments = append([]Attachment(nil), m.Attachments...)
		out = append(out, cp)
	}
	return out
}

// changedLocked wakes every Await: a conversation changed.
func (s *Server) changedLocked() {
	if s.changed != nil {
		close(s.changed)
	}
	s.changed = make(chan struct{})
}

// Await waits until what a user of the conversation sees satisfies cond
// (for example, the bot's answer has arrived), and returns it; or returns
// ctx's error with what the conversation shows at that point.
func (s *Server) Await(ctx context.Context, conversationID string, cond func([]Message) bool) ([]Message, error) {
	for {
		s.mu.Lock()
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		wake := s.changed
		s.mu.Unlock()
		msgs := s.Messages(conversationID)
		if cond(msgs) {
			return msgs, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return msgs, ctx.Err()
		}
	}
}

// FromBot keeps the messages the bot sent.
func (s *Server) FromBot(msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		if m.From == s.BotID() {
			out = append(out, m)
		}
	}
	return out
}

// Conversations returns the IDs of the conversations the connector knows,
// in the order they began.
func (s *Server) Conversations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// PersonalConversationID returns the ID of the bot's personal chat with a
// user: the same every time, as Teams gives.
func (s *Server) PersonalConversationID(userID string) string {
	app := s.cfg.AppID
	if len(app) > 8 {
		app = app[:8]
	}
	return "a:1" + strings.NewReplacer(":", "", "-", "").Replace(userID) + "." + app
}

// conversationLocked returns the conversation, creating it if need be.
func (s *Server) conversationLocked(id string) *conversation {
	c := s.convs[id]
	if c == nil {
		c = &conversation{id: id}
		s.convs[id] = c
		s.order = append(s.order, id)
	}
	return c
}

// begin checks the token and picks the fault that answers the request, if
// any. It answers 401 itself.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, conv string) (*Fault, bool) {
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Authorization has been denied for this request."})
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Conversation != "" && f.Conversation != conv {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f, true
	}
	return nil, true
}

// fail writes a fault's answer after its delay.
func fail(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up: like a real server, send it nothing
			// (returning would answer 200 with an empty body).
			t.Stop()
			panic(http.ErrAbortHandler)
		}
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	code := f.Code
	if code == "" {
		code = http.StatusText(f.Status)
	}
	body := map[string]any{"code": code, "message": "fakebf: " + code}
	if f.InnerCode != "" {
		body["innerHttpError"] = map[string]any{"statusCode": f.Status, "body": map[string]any{"error": map[string]any{"code": f.InnerCode, "message": "fakebf: " + f.InnerCode}}}
	}
	writeJSON(w, f.Status, map[string]any{"error": body})
	return true
}

// wireActivity is the part of an activity the connector reads.
type wireActivity struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Summary   string `json:"summary"`
	ReplyToID string `json:"replyToId"`
	From      *struct {
		ID string `json:"id"`
	} `json:"from"`
	Attachments []struct {
		ContentType string          `json:"contentType"`
		Content     json.RawMessage `json:"content"`
	} `json:"attachments"`
}

func readActivity(r *http.Request) (*wireActivity, bool) {
	var a wireActivity
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&a); err != nil {
		return nil, false
	}
	return &a, true
}

func (s *Server) record(c *conversation, a *wireActivity, replyTo string) *Message {
	m := &Message{ID: s.newID(""), Text: a.Text, Summary: a.Summary, ReplyToID: replyTo, From: s.BotID()}
	for _, at := range a.Attachments {
		m.Attachments = append(m.Attachments, Attachment{ContentType: at.ContentType, Content: at.Content})
	}
	c.messages = append(c.messages, m)
	s.changedLocked()
	return m
}

func badRequest(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": code, "message": "fakebf: " + code}})
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) {
	var p struct {
		IsGroup bool `json:"isGroup"`
		Bot     *struct {
			ID string `json:"id"`
		} `json:"bot"`
		Members []struct {
			ID string `json:"id"`
		} `json:"members"`
		TenantID    string `json:"tenantId"`
		ChannelData *struct {
			Tenant *struct {
				ID string `json:"id"`
			} `json:"tenant"`
			Channel *struct {
				ID string `json:"id"`
			} `json:"channel"`
		} `json:"channelData"`
		Activity *wireActivity `json:"activity"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
		badRequest(w, "BadSyntax")
		return
	}
	tenant := p.TenantID
	if tenant == "" && p.ChannelData != nil && p.ChannelData.Tenant != nil {
		tenant = p.ChannelData.Tenant.ID
	}
	var convID string
	switch {
	case p.IsGroup && p.ChannelData != nil && p.ChannelData.Channel != nil && p.ChannelData.Channel.ID != "" && p.Activity != nil:
		convID = p.ChannelData.Channel.ID // a new thread in the channel; its ID is set below
	case !p.IsGroup && len(p.Members) == 1 && p.Members[0].ID != "":
		convID = s.PersonalConversationID(p.Members[0].ID)
	default:
		badRequest(w, "BadArgument")
		return
	}
	f, ok := s.begin(w, r, convID)
	if !ok {
		return
	}
	if tenant != s.cfg.TenantID || (!p.IsGroup && (p.Bot == nil || p.Bot.ID != s.BotID())) {
		badRequest(w, "BadArgument")
		return
	}
	apply := func() map[string]any {
		s.mu.Lock()
		defer s.mu.Unlock()
		if p.IsGroup {
			c := s.conversationLocked(convID)
			c.isGroup, c.channel = true, convID
			m := s.record(c, p.Activity, "")
			thread := convID + ";messageid=" + m.ID
			return map[string]any{"id": thread, "activityId": m.ID}
		}
		c := s.conversationLocked(convID)
		c.user = p.Members[0].ID
		return map[string]any{"id": convID}
	}
	if f != nil && f.Apply {
		apply()
	}
	if fail(w, r, f) {
		return
	}
	var out map[string]any
	if f == nil || !f.Apply {
		out = apply()
	} else {
		out = map[string]any{"id": convID}
	}
	writeJSON(w, http.StatusCreated, out)
}

// channelOf returns the conversation a thread ID belongs to: a channel
// thread "19:…;messageid=…" is kept with its channel.
func channelOf(id string) string {
	if i := strings.Index(id, ";messageid="); i >= 0 {
		return id[:i]
	}
	return id
}

func (s *Server) sendActivity(w http.ResponseWriter, r *http.Request) {
	convID := r.PathValue("conv")
	replyTo := r.PathValue("activity")
	f, ok := s.begin(w, r, convID)
	if !ok {
		return
	}
	a, valid := readActivity(r)
	s.mu.Lock()
	c := s.convs[channelOf(convID)]
	s.mu.Unlock()
	if c == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": "ConversationNotFound", "message": "fakebf: conversation not found"}})
		return
	}
	if !valid || a.Type != "message" {
		badRequest(w, "BadArgument")
		return
	}
	if replyTo == "" {
		if _, id, ok := strings.Cut(convID, ";messageid="); ok {
			replyTo = id
		}
	}
	var m *Message
	if f == nil || f.Apply {
		s.mu.Lock()
		m = s.record(c, a, replyTo)
		s.mu.Unlock()
	}
	if fail(w, r, f) {
		return
	}
	if m == nil {
		s.mu.Lock()
		m = s.record(c, a, replyTo)
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": m.ID})
}

func (s *Server) find(convID, activityID string) *Message {
	c := s.convs[channelOf(convID)]
	if c == nil {
		return nil
	}
	for _, m := range c.messages {
		if m.ID == activityID && !m.Deleted {
			return m
		}
	}
	return nil
}

func (s *Server) updateActivity(w http.ResponseWriter, r *http.Request) {
	convID, id := r.PathValue("conv"), r.PathValue("activity")
	f, ok := s.begin(w, r, convID)
	if !ok {
		return
	}
	a, valid := readActivity(r)
	if !valid || a.Type != "message" {
		badRequest(w, "BadArgument")
		return
	}
	apply := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.find(convID, id)
		if m == nil {
			return false
		}
		m.Text, m.Summary, m.Updates = a.Text, a.Summary, m.Updates+1
		m.Attachments = nil
		for _, at := range a.Attachments {
			m.Attachments = append(m.Attachments, Attachment{ContentType: at.ContentType, Content: at.Content})
		}
		s.changedLocked()
		return true
	}
	applied := false
	if f != nil && f.Apply {
		applied = apply()
	}
	if fail(w, r, f) {
		return
	}
	if !applied && !apply() {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": "ActivityNotFoundInConversation", "message": "fakebf: activity not found"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id})
}

func (s *Server) deleteActivity(w http.ResponseWriter, r *http.Request) {
	convID, id := r.PathValue("conv"), r.PathValue("activity")
	f, ok := s.begin(w, r, convID)
	if !ok {
		return
	}
	apply := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.find(convID, id)
		if m == nil {
			return false
		}
		m.Deleted = true
		s.changedLocked()
		return true
	}
	applied := false
	if f != nil && f.Apply {
		applied = apply()
	}
	if fail(w, r, f) {
		return
	}
	if !applied && !apply() {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": "ActivityNotFoundInConversation", "message": "fakebf: activity not found"}})
		return
	}
	w.WriteHeader(http.StatusOK)
}
