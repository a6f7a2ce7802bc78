package fakeslack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type obj = map[string]any

type params map[string]string

func (p params) has(k string) bool { _, ok := p[k]; return ok }

func (p params) bool(k string) bool {
	v := strings.ToLower(p[k])
	return v == "true" || v == "1"
}

type apiErr struct {
	code     string
	messages []string
}

func fail(code string, messages ...string) *apiErr { return &apiErr{code: code, messages: messages} }

type handler func(s *Server, p params) (obj, *apiErr)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"api.test":                     (*Server).apiTest,
		"auth.test":                    (*Server).authTest,
		"apps.connections.open":        (*Server).appsConnectionsOpen,
		"chat.postMessage":             (*Server).chatPostMessage,
		"chat.postEphemeral":           (*Server).chatPostEphemeral,
		"chat.update":                  (*Server).chatUpdate,
		"chat.delete":                  (*Server).chatDelete,
		"chat.getPermalink":            (*Server).chatGetPermalink,
		"users.info":                   (*Server).usersInfo,
		"conversations.info":           (*Server).conversationsInfo,
		"conversations.history":        (*Server).conversationsHistory,
		"conversations.open":           (*Server).conversationsOpen,
		"views.open":                   (*Server).viewsOpen,
		"views.push":                   (*Server).viewsPush,
		"views.update":                 (*Server).viewsUpdate,
		"views.publish":                (*Server).viewsPublish,
		"files.getUploadURLExternal":   (*Server).filesGetUploadURLExternal,
		"files.completeUploadExternal": (*Server).filesCompleteUploadExternal,
		"oauth.v2.access":              (*Server).oauthAccess,
	}
}

// getAllowed lists the methods slack-go calls with GET.
var getAllowed = map[string]bool{"chat.getPermalink": true, "api.test": true}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"ok":false,"error":"fatal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, status int, e *apiErr) {
	body := obj{"ok": false, "error": e.code}
	if len(e.messages) > 0 {
		body["response_metadata"] = obj{"messages": e.messages}
	}
	writeJSON(w, status, body)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// parseParams reads query parameters and the body (JSON, form or multipart).
func parseParams(r *http.Request, body []byte) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return p, err
		}
		for k, v := range m {
			var str string
			if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &str) == nil {
				p[k] = str
			} else {
				p[k] = string(v)
			}
		}
	case "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return p, err
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	default:
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return p, err
		}
		for k, v := range vals {
			p[k] = v[0]
		}
	}
	return p, nil
}

// sleepFor waits d unless the request or the server ends first.
func (s *Server) sleepFor(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Server) delayLocked(method string) time.Duration {
	if d, ok := s.delays[method]; ok {
		return d
	}
	return s.delays["*"]
}

// applyFaults writes an injected failure and reports whether it did.
func (s *Server) applyFaults(w http.ResponseWriter, method string) bool {
	s.mu.Lock()
	rl := takeFault(s.rateLimits, method)
	var fh, fn *countFault
	if rl == nil {
		fh = takeFault(s.failHTTP, method)
	}
	if rl == nil && fh == nil {
		fn = takeFault(s.failNext, method)
	}
	s.mu.Unlock()
	switch {
	case rl != nil:
		if rl.code != "" {
			w.Header().Set("Retry-After", rl.code)
		}
		writeErr(w, http.StatusTooManyRequests, fail("ratelimited"))
	case fh != nil:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(fh.status)
		_, _ = fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", fh.status, http.StatusText(fh.status))
	case fn != nil:
		writeErr(w, http.StatusOK, fail(fn.code))
	default:
		return false
	}
	return true
}

// handleAPI serves /api/<method>.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		writeErr(w, http.StatusServiceUnavailable, fail("service_unavailable"))
		return
	}
	defer s.wg.Done()

	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	p, perr := parseParams(r, body)
	token := bearer(r)
	if token == "" {
		token = p["token"]
	}
	if u, pw, ok := r.BasicAuth(); ok && method == "oauth.v2.access" {
		p["client_id"], p["client_secret"] = u, pw
	}
	s.mu.Lock()
	team, authErr := s.checkAuthLocked(method, token, bearer(r))
	if authErr != "" {
		team = ""
	}
	enterprise, other := "", false
	if t := s.oauth.tokens[token]; authErr == "" && t != nil && t.team == "" {
		// An organisation's token acts in the workspace the call names.
		enterprise = t.enterprise
		team, other = s.orgTeamLocked(enterprise, p)
		other = !other
	}
	s.calls = append(s.calls, Call{Method: method, Token: token, Team: team, Enterprise: enterprise, Params: p, Body: body, At: time.Now()})
	other = other || team != "" && s.otherTeamLocked(team, p)
	s.notifyLocked()
	delay := s.delayLocked(method)
	offset := s.clockOffset
	s.mu.Unlock()
	// Slack's clock, in every answer's Date header as in its timestamps.
	w.Header().Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))

	if !s.sleepFor(r, delay) {
		return
	}
	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && getAllowed[method]) {
		writeErr(w, http.StatusMethodNotAllowed, fail("method_not_allowed"))
		return
	}
	h, ok := handlers[method]
	if !ok {
		writeJSON(w, http.StatusOK, obj{"ok": false, "error": "unknown_method", "req_method": method})
		return
	}
	if authErr != "" {
		writeErr(w, http.StatusOK, fail(authErr))
		return
	}
	if other {
		// A token acts in its own workspace: another's users are not
		// found there.
		code := "channel_not_found"
		if method == "users.info" || method == "conversations.open" {
			code = "user_not_found"
		}
		writeErr(w, http.StatusOK, fail(code))
		return
	}
	if s.overTier(w, method, team) {
		return
	}
	if s.applyFaults(w, method) {
		return
	}
	if perr != nil {
		writeErr(w, http.StatusOK, fail("invalid_json"))
		return
	}
	res, e := h(s, p)
	s.mu.Lock()
	lost := takeFault(s.loseAnswer, method) != nil
	s.mu.Unlock()
	if lost {
		panic(http.ErrAbortHandler) // the call took effect; its answer is cut off
	}
	if e != nil {
		writeErr(w, http.StatusOK, e)
		return
	}
	if res == nil {
		res = obj{}
	}
	res["ok"] = true
	writeJSON(w, http.StatusOK, res)
}

// checkAuthLocked returns the workspace a call acts in, or why its token
// is refused. oauth.v2.access takes the client's credentials instead.
func (s *Server) checkAuthLocked(method, token, bearerToken string) (team, code string) {
	switch method {
	case "apps.connections.open":
		switch {
		case token == "":
			return "", "not_authed"
		case bearerToken != AppToken: // the app token must be in the header
			return "", "invalid_auth"
		}
		return "", ""
	case "oauth.v2.access":
		return "", ""
	}
	switch token {
	case "":
		return "", "not_authed"
	case AppToken:
		return "", "not_allowed_token_type"
	}
	return s.tokenTeamLocked(token)
}

// ---- auth / apps ----

func (s *Server) apiTest(p params) (obj, *apiErr) {
	if e := p["error"]; e != "" {
		return nil, fail(e)
	}
	return obj{"args": p}, nil
}

func (s *Server) authTest(params) (obj, *apiErr) {
	return obj{
		"url": "https://" + TeamDomain + ".slack.com/", "team": "Fake Workspace", "user": "trustbot",
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID, "is_enterprise_install": false,
	}, nil
}

func (s *Server) appsConnectionsOpen(params) (obj, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ticketN++
	t := strconv.Itoa(s.ticketN)
	s.tickets[t] = true
	s.connections++
	s.notifyLocked()
	return obj{"url": "ws://" + s.host + "/link/?ticket=" + t}, nil
}

// ---- chat.* ----

// chanErrLocked returns the configured error for a channel or user ID.
func (s *Server) chanErrLocked(ids ...string) string {
	for _, id := range ids {
		if id == "" {
			continue
		}
		if c := s.chanErr[id]; c != "" {
			return c
		}
		if c := s.chanErr[dmChannel(id)]; c != "" {
			return c
		}
		// A DM channel "D"+userID also fails like its user.
		if u, ok := strings.CutPrefix(id, "D"); ok && (strings.HasPrefix(u, "U") || strings.HasPrefix(u, "W")) {
			if c := s.chanErr[u]; c != "" {
				return c
			}
		}
	}
	return ""
}

// parseBlocks validates a blocks parameter (a JSON array, at most max items).
func parseBlocks(v string, maxBlocks int) (json.RawMessage, int, *apiErr) {
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(v), &arr); err != nil {
		return nil, 0, fail("invalid_blocks_format")
	}
	if len(arr) > maxBlocks {
		return nil, 0, fail("invalid_blocks", fmt.Sprintf("[ERROR] no more than %d items allowed [json-pointer:/blocks]", maxBlocks))
	}
	return json.RawMessage(v), len(arr), nil
}

func parseMetadata(v string) (json.RawMessage, *apiErr) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, fail("invalid_metadata_format")
	}
	if _, ok := m["event_type"]; !ok {
		return nil, fail("invalid_metadata_schema")
	}
	return json.RawMessage(v), nil
}

// messageContent reads text, blocks, attachments and metadata.
func messageContent(p params) (text string, blocks, meta json.RawMessage, nblocks int, e *apiErr) {
	text = p["text"]
	if v := p["blocks"]; v != "" {
		if blocks, nblocks, e = parseBlocks(v, 50); e != nil {
			return
		}
	}
	if v := p["metadata"]; v != "" {
		if meta, e = parseMetadata(v); e != nil {
			return
		}
	}
	return
}

func (s *Server) msgJSON(m *msgRec, withMeta bool) obj {
	if m.byUser {
		return userMessageJSON(m)
	}
	o := obj{"type": "message", "user": BotUserID, "bot_id": BotID, "app_id": AppID, "text": m.Text, "ts": m.TS, "team": TeamID}
	if len(m.Blocks) > 0 {
		o["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if withMeta && len(m.Metadata) > 0 {
		o["metadata"] = m.Metadata
	}
	if m.edited != "" {
		o["edited"] = obj{"user": BotUserID, "ts": m.edited}
	}
	return o
}

func (s *Server) chatPostMessage(p params) (obj, *apiErr) {
	ch := p["channel"]
	if ch == "" {
		return nil, fail("channel_not_found")
	}
	text, blocks, meta, nblocks, e := messageContent(p)
	if e != nil {
		return nil, e
	}
	if text == "" && nblocks == 0 && p["attachments"] == "" {
		return nil, fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chanErrLocked(ch); c != "" {
		return nil, fail(c)
	}
	m := &msgRec{Message: Message{
		Channel: dmChannel(ch), Text: text, User: BotUserID, Blocks: blocks, Metadata: meta, ThreadTS: p["thread_ts"],
	}, broadcast: p.bool("reply_broadcast")}
	m.TS = s.nextTSLocked()
	s.messages = append(s.messages, m)
	s.notifyLocked()
	s.echoPostLocked(m)
	return obj{"channel": m.Channel, "ts": m.TS, "message": s.msgJSON(m, true)}, nil
}

func (s *Server) chatPostEphemeral(p params) (obj, *apiErr) {
	ch, user := p["channel"], p["user"]
	if ch == "" {
		return nil, fail("channel_not_found")
	}
	if user == "" {
		return nil, fail("user_not_found")
	}
	text, blocks, meta, nblocks, e := messageContent(p)
	if e != nil {
		return nil, e
	}
	if text == "" && nblocks == 0 && p["attachments"] == "" {
		return nil, fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chanErrLocked(ch, user); c != "" {
		return nil, fail(c)
	}
	m := &msgRec{Message: Message{
		Channel: dmChannel(ch), Text: text, User: user, Blocks: blocks, Metadata: meta,
		ThreadTS: p["thread_ts"], Ephemeral: true,
	}}
	m.TS = s.nextTSLocked()
	s.messages = append(s.messages, m)
	s.notifyLocked()
	return obj{"message_ts": m.TS}, nil
}

// findLocked finds a live, non-ephemeral message.
func (s *Server) findLocked(ch, ts string) *msgRec {
	ch = dmChannel(ch)
	for _, m := range s.messages {
		if m.Channel == ch && m.TS == ts && !m.Ephemeral && !m.deleted {
			return m
		}
	}
	return nil
}

func (s *Server) chatUpdate(p params) (obj, *apiErr) {
	ch, ts := p["channel"], p["ts"]
	if ch == "" {
		return nil, fail("channel_not_found")
	}
	text, blocks, meta, _, e := messageContent(p)
	if e != nil {
		return nil, e
	}
	if !p.has("text") && !p.has("blocks") && !p.has("attachments") {
		return nil, fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chanErrLocked(ch); c == "channel_not_found" || c == "is_archived" {
		return nil, fail(c)
	}
	m := s.findLocked(ch, ts)
	if m == nil {
		return nil, fail("message_not_found")
	}
	before := s.msgJSON(m, false)
	if p.has("text") {
		m.Text = text
	}
	if p.has("blocks") {
		m.Blocks = blocks
	}
	if p.has("metadata") {
		m.Metadata = meta
	}
	m.Updated = true
	m.edited = s.nextTSLocked()
	s.notifyLocked()
	s.echoEditLocked(m, before)
	return obj{"channel": m.Channel, "ts": m.TS, "text": m.Text, "message": s.msgJSON(m, true)}, nil
}

func (s *Server) chatDelete(p params) (obj, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(p["channel"], p["ts"])
	if m == nil {
		return nil, fail("message_not_found")
	}
	m.deleted = true
	s.notifyLocked()
	return obj{"channel": m.Channel, "ts": m.TS}, nil
}

func (s *Server) chatGetPermalink(p params) (obj, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(p["channel"], p["message_ts"])
	if m == nil {
		return nil, fail("message_not_found")
	}
	return obj{"channel": m.Channel, "permalink": fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", TeamDomain, m.Channel, strings.ReplaceAll(m.TS, ".", ""))}, nil
}

// ---- users.info ----

func (s *Server) usersInfo(p params) (obj, *apiErr) {
	if !isUserID(p["user"]) {
		return nil, fail("user_not_found") // a channel or bot ID is not a user
	}
	s.mu.Lock()
	u, ok := s.users[p["user"]]
	s.mu.Unlock()
	if !ok {
		return nil, fail("user_not_found")
	}
	return obj{"user": userJSON(u, p.bool("include_locale"))}, nil
}

func userJSON(u User, locale bool) obj {
	teamID := u.TeamID
	if teamID == "" {
		teamID = TeamID
	}
	name := u.Name
	if name == "" {
		name = strings.ToLower(u.ID)
	}
	o := obj{
		"id": u.ID, "team_id": teamID, "name": name, "deleted": u.Deleted, "real_name": u.RealName,
		"is_bot": u.IsBot, "is_admin": false, "is_owner": false, "is_app_user": false,
		"updated": 1700000000, "color": "9f69e7",
		"profile": obj{"real_name": u.RealName, "display_name": name, "team": teamID},
	}
	if u.TZ != "" {
		label, offset := u.TZLabel, u.TZOffset
		if loc, err := time.LoadLocation(u.TZ); err == nil {
			abbr, off := time.Now().In(loc).Zone()
			if label == "" {
				label = abbr
			}
			if offset == 0 {
				offset = off
			}
		}
		o["tz"], o["tz_label"], o["tz_offset"] = u.TZ, label, offset
	}
	if locale {
		l := u.Locale
		if l == "" {
			l = "en-US"
		}
		o["locale"] = l
	}
	return o
}

// ---- conversations.* ----

func (s *Server) channelJSONLocked(id string, code string) obj {
	o := obj{
		"id": id, "created": 1700000000, "creator": DefaultUserID,
		"is_channel": strings.HasPrefix(id, "C"), "is_group": strings.HasPrefix(id, "G"),
		"is_im": strings.HasPrefix(id, "D"), "is_mpim": false,
		"is_private":  strings.HasPrefix(id, "G") || strings.HasPrefix(id, "D"),
		"is_archived": code == "is_archived", "is_general": id == DefaultChannelID,
		"is_member": code != "not_in_channel", "is_ext_shared": false, "is_org_shared": false,
		"context_team_id": TeamID,
	}
	if strings.HasPrefix(id, "D") {
		o["user"] = strings.TrimPrefix(id, "D")
		o["is_open"] = true
	} else {
		name := s.channelNameLocked(id)
		o["name"], o["name_normalized"] = name, name
	}
	return o
}

func (s *Server) conversationsInfo(p params) (obj, *apiErr) {
	ch := p["channel"]
	if ch == "" {
		return nil, fail("channel_not_found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.chanErr[ch]
	if code == "channel_not_found" {
		return nil, fail(code)
	}
	return obj{"channel": s.channelJSONLocked(ch, code)}, nil
}

// parseTS converts "seconds.micros" to microseconds.
func parseTS(v string) (int64, bool) {
	sec, frac, _ := strings.Cut(v, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	us := n * 1e6
	if frac != "" {
		frac = (frac + "000000")[:6]
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, false
		}
		us += f
	}
	return us, true
}

func (s *Server) conversationsHistory(p params) (obj, *apiErr) {
	ch := p["channel"]
	if ch == "" {
		return nil, fail("channel_not_found")
	}
	oldest, latest := int64(0), int64(1<<62)
	inclusive := p.bool("inclusive")
	if v := p["oldest"]; v != "" {
		var ok bool
		if oldest, ok = parseTS(v); !ok {
			return nil, fail("invalid_ts_oldest")
		}
	}
	if v := p["latest"]; v != "" {
		var ok bool
		if latest, ok = parseTS(v); !ok {
			return nil, fail("invalid_ts_latest")
		}
	}
	if c := p["cursor"]; c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		ts, ok := strings.CutPrefix(string(b), "next_ts:")
		cur, ok2 := parseTS(ts)
		if err != nil || !ok || !ok2 {
			return nil, fail("invalid_cursor")
		}
		latest, inclusive = cur, false
	}
	limit := 100
	if v := p["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fail("invalid_limit")
		}
		if n > 0 {
			limit = min(n, 999)
		}
	}
	withMeta := p.bool("include_all_metadata")

	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chanErr[ch]; c == "channel_not_found" || c == "not_in_channel" {
		return nil, fail(c)
	}
	ch = dmChannel(ch)
	msgs := []obj{}
	hasMore := false
	var lastTS string
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.Channel != ch || m.Ephemeral || m.deleted {
			continue
		}
		if m.ThreadTS != "" && m.ThreadTS != m.TS && !m.broadcast {
			continue // thread replies are only in conversations.replies
		}
		ts, _ := parseTS(m.TS)
		if inclusive {
			if ts < oldest || ts > latest {
				continue
			}
		} else if ts <= oldest || ts >= latest {
			continue
		}
		if len(msgs) == limit {
			hasMore = true
			break
		}
		msgs = append(msgs, s.msgJSON(m, withMeta))
		lastTS = m.TS
	}
	next := ""
	if hasMore {
		next = base64.StdEncoding.EncodeToString([]byte("next_ts:" + lastTS))
	}
	return obj{"messages": msgs, "has_more": hasMore, "pin_count": 0, "response_metadata": obj{"next_cursor": next}}, nil
}

func (s *Server) conversationsOpen(p params) (obj, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := p["channel"]; ch != "" {
		if c := s.chanErr[ch]; c == "channel_not_found" {
			return nil, fail(c)
		}
		if !strings.HasPrefix(ch, "D") && !strings.HasPrefix(ch, "G") {
			return nil, fail("method_not_supported_for_channel_type") // only a DM or group DM resumes
		}
		return obj{"no_op": true, "already_open": true, "channel": obj{"id": ch}}, nil
	}
	var users []string
	for u := range strings.SplitSeq(p["users"], ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return nil, fail("users_list_not_supplied")
	}
	if len(users) > 8 {
		return nil, fail("too_many_users")
	}
	for _, u := range users {
		if !isUserID(u) {
			return nil, fail("user_not_found") // Slack: "Value(s) passed for users was invalid"
		}
		if c := s.chanErr[u]; c != "" && c != "not_in_channel" && c != "is_archived" {
			return nil, fail(c)
		}
	}
	var ch obj
	if len(users) == 1 {
		ch = obj{"id": "D" + users[0], "is_im": true, "user": users[0], "created": 1700000000}
	} else {
		sorted := slices.Sorted(slices.Values(users))
		ch = obj{"id": "G" + strings.Join(sorted, ""), "is_mpim": true, "created": 1700000000}
	}
	id := ch["id"].(string)
	already := s.dms[id]
	s.dms[id] = true
	return obj{"no_op": already, "already_open": already, "channel": ch}, nil
}

// ---- views.* ----

type viewReq struct {
	raw json.RawMessage
	m   map[string]json.RawMessage
	typ string
	ext string
}

func textLen(raw json.RawMessage) int {
	var t struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &t)
	return utf8.RuneCountInString(t.Text)
}

// parseView validates a view parameter for a surface ("modal" or "home").
func parseView(v, want string) (*viewReq, *apiErr) {
	if v == "" {
		return nil, fail("invalid_arguments", "[ERROR] missing required field: view")
	}
	if len(v) > 250*1024 {
		return nil, fail("view_too_large")
	}
	vr := &viewReq{raw: json.RawMessage(v)}
	if err := json.Unmarshal(vr.raw, &vr.m); err != nil || vr.m == nil {
		return nil, fail("invalid_arguments", "[ERROR] failed to match all allowed schemas [json-pointer:/view]")
	}
	_ = json.Unmarshal(vr.m["type"], &vr.typ)
	_ = json.Unmarshal(vr.m["external_id"], &vr.ext)
	var msgs []string
	if vr.typ != want {
		msgs = append(msgs, fmt.Sprintf("[ERROR] must be %q [json-pointer:/view/type]", want))
	}
	var blocks []json.RawMessage
	if raw, ok := vr.m["blocks"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &blocks); err != nil {
			msgs = append(msgs, "[ERROR] must be an array [json-pointer:/view/blocks]")
		}
	}
	if len(blocks) > 100 {
		msgs = append(msgs, "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]")
	}
	if want == "modal" {
		if _, ok := vr.m["title"]; !ok {
			msgs = append(msgs, "[ERROR] missing required field: title [json-pointer:/view]")
		}
		for _, f := range []string{"title", "submit", "close"} {
			if raw, ok := vr.m[f]; ok && textLen(raw) > 24 {
				msgs = append(msgs, fmt.Sprintf("[ERROR] must be less than 25 characters [json-pointer:/view/%s/text]", f))
			}
		}
	}
	var pm, cb string
	_ = json.Unmarshal(vr.m["private_metadata"], &pm)
	_ = json.Unmarshal(vr.m["callback_id"], &cb)
	if len(pm) > 3000 {
		msgs = append(msgs, "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
	}
	if len(cb) > 255 {
		msgs = append(msgs, "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
	}
	if len(vr.ext) > 255 {
		msgs = append(msgs, "[ERROR] must be less than 256 characters [json-pointer:/view/external_id]")
	}
	if len(msgs) > 0 {
		return nil, fail("invalid_arguments", msgs...)
	}
	return vr, nil
}

// checkTriggerLocked validates a trigger_id without consuming it.
func (s *Server) checkTriggerLocked(id string) (*trigger, *apiErr) {
	t := s.triggers[id]
	switch {
	case id == "" || t == nil:
		return nil, fail("invalid_trigger_id")
	case t.used:
		return nil, fail("exchanged_trigger_id")
	case s.triggerTTL > 0 && time.Since(t.issued) > s.triggerTTL:
		return nil, fail("expired_trigger_id")
	}
	return t, nil
}

func (s *Server) newViewLocked(kind, user string, vr *viewReq) *viewRec {
	s.viewN++
	rec := &viewRec{
		id: fmt.Sprintf("V%08X", s.viewN), kind: kind, user: user, externalID: vr.ext,
		hash: fmt.Sprintf("%d.%s", time.Now().Unix(), randHex(4)), view: vr.raw,
	}
	s.viewByID[rec.id] = rec
	if vr.ext != "" {
		s.viewByExt[vr.ext] = rec
	}
	return rec
}

func (s *Server) viewJSON(rec *viewRec, vr *viewReq) obj {
	o := obj{}
	for k, v := range vr.m {
		o[k] = v
	}
	defaults := obj{
		"private_metadata": "", "callback_id": "", "external_id": "", "clear_on_close": false,
		"notify_on_close": false, "blocks": []any{},
	}
	for k, v := range defaults {
		if _, ok := o[k]; !ok {
			o[k] = v
		}
	}
	o["id"], o["team_id"], o["app_id"], o["bot_id"] = rec.id, TeamID, AppID, BotID
	o["app_installed_team_id"] = TeamID
	o["hash"], o["root_view_id"], o["previous_view_id"] = rec.hash, rec.id, nil
	o["state"] = obj{"values": obj{}}
	return o
}

func (s *Server) recordViewLocked(kind string, rec *viewRec, trig string, vr *viewReq) {
	s.views = append(s.views, View{ID: rec.id, Kind: kind, UserID: rec.user, TriggerID: trig, ExternalID: rec.externalID, View: vr.raw})
	s.notifyLocked()
}

func (s *Server) viewsOpenOrPush(kind string, p params) (obj, *apiErr) {
	trig := p["trigger_id"]
	if trig == "" {
		trig = p["interactivity_pointer"]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.checkTriggerLocked(trig)
	if e != nil {
		return nil, e
	}
	vr, e := parseView(p["view"], "modal")
	if e != nil {
		return nil, e
	}
	if vr.ext != "" && s.viewByExt[vr.ext] != nil {
		return nil, fail("duplicate_external_id")
	}
	t.used = true
	rec := s.newViewLocked(kind, t.user, vr)
	s.recordViewLocked(kind, rec, trig, vr)
	return obj{"view": s.viewJSON(rec, vr)}, nil
}

func (s *Server) viewsOpen(p params) (obj, *apiErr) { return s.viewsOpenOrPush("open", p) }

func (s *Server) viewsPush(p params) (obj, *apiErr) { return s.viewsOpenOrPush("push", p) }

func (s *Server) viewsUpdate(p params) (obj, *apiErr) {
	id, ext := p["view_id"], p["external_id"]
	if id == "" && ext == "" {
		return nil, fail("invalid_arguments", "[ERROR] view_id or external_id is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.viewByID[id]
	if id == "" {
		rec = s.viewByExt[ext]
	}
	if rec == nil {
		return nil, fail("not_found")
	}
	if h := p["hash"]; h != "" && h != rec.hash {
		return nil, fail("hash_conflict")
	}
	want := "modal"
	if rec.kind == "publish" {
		want = "home"
	}
	vr, e := parseView(p["view"], want)
	if e != nil {
		return nil, e
	}
	if vr.ext != "" && vr.ext != rec.externalID {
		if other := s.viewByExt[vr.ext]; other != nil && other != rec {
			return nil, fail("duplicate_external_id")
		}
		s.viewByExt[vr.ext] = rec
		rec.externalID = vr.ext
	}
	rec.view = vr.raw
	rec.hash = fmt.Sprintf("%d.%s", time.Now().Unix(), randHex(4))
	s.recordViewLocked("update", rec, "", vr)
	return obj{"view": s.viewJSON(rec, vr)}, nil
}

func (s *Server) viewsPublish(p params) (obj, *apiErr) {
	user := p["user_id"]
	if user == "" {
		return nil, fail("invalid_arguments", "[ERROR] missing required field: user_id")
	}
	vr, e := parseView(p["view"], "home")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chanErr[user]; c == "user_not_found" || c == "account_inactive" {
		return nil, fail(c)
	}
	rec := s.homeViews[user]
	if h := p["hash"]; h != "" && h != "null" && rec != nil && h != rec.hash {
		return nil, fail("hash_conflict")
	}
	if rec == nil {
		rec = s.newViewLocked("publish", user, vr)
		s.homeViews[user] = rec
	} else {
		rec.view = vr.raw
		rec.hash = fmt.Sprintf("%d.%s", time.Now().Unix(), randHex(4))
	}
	s.recordViewLocked("publish", rec, "", vr)
	return obj{"view": s.viewJSON(rec, vr)}, nil
}

// ---- response_url ----

func (s *Server) handleResponse(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		writeErr(w, http.StatusServiceUnavailable, fail("service_unavailable"))
		return
	}
	defer s.wg.Done()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/response/"))
	if err != nil {
		n = 0
	}
	s.mu.Lock()
	delay := s.delayLocked("response_url")
	s.mu.Unlock()
	if !s.sleepFor(r, delay) {
		return
	}
	if r.Method != http.MethodPost {
		writeErr(w, http.StatusMethodNotAllowed, fail("method_not_allowed"))
		return
	}
	if s.applyFaults(w, "response_url") {
		return
	}
	if !json.Valid(body) {
		writeErr(w, http.StatusBadRequest, fail("invalid_payload"))
		return
	}
	s.mu.Lock()
	rec := s.responses[n]
	status, e := http.StatusOK, (*apiErr)(nil)
	switch {
	case rec == nil:
		status, e = http.StatusNotFound, fail("expired_url")
	case rec.uses >= MaxResponseUses:
		status, e = http.StatusNotFound, fail("used_url")
	default:
		rec.uses++
		rec.bodies = append(rec.bodies, json.RawMessage(body))
		rec.answers = append(rec.answers, Answer{Via: ViaResponseURL, Body: json.RawMessage(body), At: time.Now()})
		s.notifyLocked()
	}
	s.mu.Unlock()
	if e != nil {
		writeErr(w, status, e)
		return
	}
	writeJSON(w, status, obj{"ok": true})
}
