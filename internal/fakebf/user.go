package fakebf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Account is a user or bot in an activity.
type Account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
}

// Conversation is an activity's conversation.
type Conversation struct {
	ID               string `json:"id"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
	Name             string `json:"name,omitempty"`
}

// Activity is an activity as Teams sends it to a bot.
type Activity struct {
	Type           string           `json:"type"`
	ID             string           `json:"id"`
	Timestamp      string           `json:"timestamp"`
	LocalTimestamp string           `json:"localTimestamp,omitempty"`
	LocalTimezone  string           `json:"localTimezone,omitempty"`
	ServiceURL     string           `json:"serviceUrl"`
	ChannelID      string           `json:"channelId"`
	From           Account          `json:"from"`
	Conversation   Conversation     `json:"conversation"`
	Recipient      Account          `json:"recipient"`
	Text           string           `json:"text,omitempty"`
	TextFormat     string           `json:"textFormat,omitempty"`
	Locale         string           `json:"locale,omitempty"`
	Entities       []map[string]any `json:"entities,omitempty"`
	ChannelData    map[string]any   `json:"channelData,omitempty"`
	Value          any              `json:"value,omitempty"`
	Name           string           `json:"name,omitempty"`
	ReplyToID      string           `json:"replyToId,omitempty"`
	MembersAdded   []Account        `json:"membersAdded,omitempty"`
	MembersRemoved []Account        `json:"membersRemoved,omitempty"`
	Action         string           `json:"action,omitempty"`
}

// User is a Teams user of the fake tenant.
type User struct {
	ID          string // "29:…"
	AADObjectID string
	Name        string
	Locale      string // such as "ja-JP"
	Timezone    string // IANA, such as "Asia/Tokyo"; "" sends none
}

// NewUser returns a user whose IDs derive from the name.
func NewUser(name, locale, timezone string) User {
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:])
	aad := h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
	return User{ID: "29:1" + h[:40], AADObjectID: aad, Name: name, Locale: locale, Timezone: timezone}
}

// Team is a team and one of its channels.
type Team struct {
	ID, Name               string
	ChannelID, ChannelName string
}

// NewTeam returns a team whose general channel is the one named.
func NewTeam(name string) Team {
	sum := sha256.Sum256([]byte(name))
	id := "19:" + hex.EncodeToString(sum[:16]) + "@thread.tacv2"
	return Team{ID: id, Name: name, ChannelID: id, ChannelName: "General"}
}

func (s *Server) base(u User, typ string) *Activity {
	now := s.clock()
	a := &Activity{
		Type:       typ,
		ID:         s.nextActivityID(),
		Timestamp:  now.UTC().Format("2006-01-02T15:04:05.0000000Z"),
		ServiceURL: s.ServiceURL(),
		ChannelID:  ChannelID,
		From:       Account{ID: u.ID, Name: u.Name, AADObjectID: u.AADObjectID},
		Recipient:  Account{ID: s.BotID(), Name: BotName},
		Locale:     u.Locale,
		ChannelData: map[string]any{
			"tenant": map[string]any{"id": s.cfg.TenantID},
		},
	}
	if loc, err := time.LoadLocation(u.Timezone); u.Timezone != "" && err == nil {
		a.LocalTimestamp = now.In(loc).Format("2006-01-02T15:04:05.000-07:00")
		a.LocalTimezone = u.Timezone
	}
	return a
}

func (s *Server) nextActivityID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newID("")
}

func (s *Server) personal(u User, typ string) *Activity {
	a := s.base(u, typ)
	a.Conversation = Conversation{ID: s.PersonalConversationID(u.ID), ConversationType: "personal", TenantID: s.cfg.TenantID}
	return a
}

func clientInfo(u User) map[string]any {
	e := map[string]any{"type": "clientInfo", "locale": u.Locale, "country": "JP", "platform": "Web"}
	if u.Timezone != "" {
		e["timezone"] = u.Timezone
	}
	return e
}

// Personal is a message the user writes in the bot's personal chat.
func (s *Server) Personal(u User, text string) *Activity {
	a := s.personal(u, "message")
	a.Text, a.TextFormat = text, "plain"
	a.Entities = []map[string]any{clientInfo(u)}
	return a
}

// InChannel is a message in the team's channel that @mentions the bot
// before text, as Teams sends it.
func (s *Server) InChannel(u User, t Team, text string) *Activity {
	a := s.base(u, "message")
	mention := "<at>" + BotName + "</at>"
	a.Text, a.TextFormat = mention+" "+text, "plain"
	a.Conversation = Conversation{ID: t.ChannelID + ";messageid=" + a.ID, ConversationType: "channel", TenantID: s.cfg.TenantID, IsGroup: true}
	a.Entities = []map[string]any{
		{"type": "mention", "text": mention, "mentioned": map[string]any{"id": s.BotID(), "name": BotName}},
		clientInfo(u),
	}
	a.ChannelData["team"] = map[string]any{"id": t.ID, "name": t.Name}
	a.ChannelData["channel"] = map[string]any{"id": t.ChannelID, "name": t.ChannelName}
	a.ChannelData["teamsTeamId"] = t.ID
	a.ChannelData["teamsChannelId"] = t.ChannelID
	return a
}

// Submit is the press of a card's Action.Submit on the message replyTo of
// the conversation where base was written: a message with the card's data
// in value and no text.
func (s *Server) Submit(base *Activity, replyTo string, value any) *Activity {
	a := s.follow(base, "message")
	a.ReplyToID, a.Value = replyTo, value
	return a
}

// Invoke is an invoke (such as "task/fetch" or "task/submit") from the
// conversation where base was written.
func (s *Server) Invoke(base *Activity, name string, value any) *Activity {
	a := s.follow(base, "invoke")
	a.Name, a.Value = name, value
	return a
}

func (s *Server) follow(base *Activity, typ string) *Activity {
	a := *base
	a.Type, a.ID, a.Text, a.TextFormat, a.Value, a.Name, a.ReplyToID = typ, s.nextActivityID(), "", "", nil, "", ""
	a.Timestamp = s.clock().UTC().Format("2006-01-02T15:04:05.0000000Z")
	a.Entities = nil
	return &a
}

// Installed is the installationUpdate Teams sends when the user adds the
// app for themselves.
func (s *Server) Installed(u User) *Activity {
	a := s.personal(u, "installationUpdate")
	a.Action = "add"
	return a
}

// Uninstalled is the installationUpdate of the user removing the app.
func (s *Server) Uninstalled(u User) *Activity {
	a := s.personal(u, "installationUpdate")
	a.Action = "remove"
	return a
}

// MembersAdded is the conversationUpdate that tells the bot it was added
// to the user's personal chat.
func (s *Server) MembersAdded(u User) *Activity {
	a := s.personal(u, "conversationUpdate")
	a.MembersAdded = []Account{{ID: s.BotID()}}
	return a
}

// MembersRemoved is the conversationUpdate of the bot leaving the user's
// personal chat.
func (s *Server) MembersRemoved(u User) *Activity {
	a := s.personal(u, "conversationUpdate")
	a.MembersRemoved = []Account{{ID: s.BotID()}}
	return a
}

// TeamInstalled is the installationUpdate of u adding the app to a team
// (remove: taking it out).
func (s *Server) TeamInstalled(u User, t Team, remove bool) *Activity {
	a := s.base(u, "installationUpdate")
	a.Action = "add"
	if remove {
		a.Action = "remove"
	}
	a.Conversation = Conversation{ID: t.ChannelID, ConversationType: "channel", TenantID: s.cfg.TenantID, IsGroup: true}
	a.ChannelData["team"] = map[string]any{"id": t.ID, "name": t.Name}
	a.ChannelData["channel"] = map[string]any{"id": t.ChannelID, "name": t.ChannelName}
	return a
}

// Forgery says how Post spoils the token, for the tests that must fail.
type Forgery int

// Forgeries.
const (
	Genuine            Forgery = iota
	NoToken                    // no Authorization header
	WrongIssuer                // iss names someone else
	WrongAudience              // aud is another app
	Expired                    // exp ten minutes ago, past the allowed skew
	NotYetValid                // nbf ten minutes ahead
	UnknownKey                 // signed with a key the key set does not list
	Unendorsed                 // signed with a listed key endorsed for no channel
	ServiceURLMismatch         // the serviceurl claim names another URL
	AlgNone                    // alg "none", no signature
	HS256PublicKey             // HS256 with the public key's PEM as the secret
	TamperedServiceURL         // genuine token, then the activity's serviceUrl changed
	TenantIssued               // signed by the tenant's Entra key, issuer the tenant's
	WithinSkew                 // expired four minutes ago: inside the skew, accepted
)

// Token signs the token the Bot Framework would send with an activity for
// serviceURL, spoiled as f says.
func (s *Server) Token(serviceURL string, f Forgery) string {
	now := s.clock()
	claims := jwt.MapClaims{
		"iss":        Issuer,
		"aud":        s.cfg.AppID,
		"serviceurl": serviceURL,
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        now.Add(time.Hour).Unix(),
	}
	s.mu.Lock()
	k, unendorsed := s.signer, s.keys[1]
	s.mu.Unlock()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	var secret any = k.priv
	switch f {
	case WrongIssuer:
		claims["iss"] = "https://api.example.com"
	case WrongAudience:
		claims["aud"] = "11111111-2222-4333-8444-555555555555"
	case Expired:
		claims["iat"], claims["nbf"], claims["exp"] = now.Add(-70*time.Minute).Unix(), now.Add(-70*time.Minute).Unix(), now.Add(-10*time.Minute).Unix()
	case WithinSkew:
		claims["iat"], claims["nbf"], claims["exp"] = now.Add(-64*time.Minute).Unix(), now.Add(-64*time.Minute).Unix(), now.Add(-4*time.Minute).Unix()
	case NotYetValid:
		claims["iat"], claims["nbf"] = now.Add(10*time.Minute).Unix(), now.Add(10*time.Minute).Unix()
	case UnknownKey:
		k = s.hidden
		secret = k.priv
	case Unendorsed:
		k = unendorsed
		secret = k.priv
	case ServiceURLMismatch:
		claims["serviceurl"] = "https://smba.trafficmanager.net/teams/"
	case TenantIssued:
		claims["iss"] = s.TenantIssuer()
		k = s.tenant
		secret = k.priv
	case AlgNone:
		method, secret = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
	case HS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
		if err != nil {
			panic(err)
		}
		method, secret = jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = k.kid
	t.Header["x5t"] = k.kid
	signed, err := t.SignedString(secret)
	if err != nil {
		panic("fakebf: " + err.Error())
	}
	return signed
}

// Post sends an activity to the bot's endpoint as the Bot Framework does,
// with a token spoiled as f says, and returns the answer. A message also
// shows in the conversation the connector records, as the user's own.
func (s *Server) Post(ctx context.Context, botURL string, a *Activity, f Forgery) (int, []byte, error) {
	token := s.Token(a.ServiceURL, f)
	sent := *a
	if f == TamperedServiceURL {
		sent.ServiceURL = "https://attacker.example/teams/"
	}
	body, err := json.Marshal(&sent)
	if err != nil {
		return 0, nil, err
	}
	s.userSide(a)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, botURL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if f != NoToken {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Ms-Conversation-Id", a.Conversation.ID)
	req.Header.Set("X-Ms-Tenant-Id", s.cfg.TenantID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("fakebf: post to the bot: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, out, err
}

// userSide makes the activity's conversation known to the connector and
// records the user's message in it.
func (s *Server) userSide(a *Activity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversationLocked(channelOf(a.Conversation.ID))
	switch a.Conversation.ConversationType {
	case "personal":
		c.user = a.From.ID
	case "channel":
		c.isGroup, c.channel = true, channelOf(a.Conversation.ID)
	}
	if a.Type == "message" && strings.TrimSpace(a.Text) != "" {
		c.messages = append(c.messages, &Message{ID: a.ID, From: a.From.ID, Text: a.Text, ReplyToID: a.ReplyToID})
		s.changedLocked()
	}
}

// Join makes the user's personal chat with the bot known to the connector,
// as after the user installed the app, and returns its ID.
func (s *Server) Join(u User) string {
	id := s.PersonalConversationID(u.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conversationLocked(id).user = u.ID
	return id
}

// JoinTeam makes the team's channel known to the connector, as after the
// app was added to the team.
func (s *Server) JoinTeam(t Team) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversationLocked(t.ChannelID)
	c.isGroup, c.channel = true, t.ChannelID
}
