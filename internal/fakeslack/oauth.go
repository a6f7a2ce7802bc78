package fakeslack

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OAuth v2 as Slack runs it for an app distributed to many workspaces:
//
//   - GET /oauth/v2/authorize (AuthorizeURL) plays the person who approves
//     the install: it redirects the browser to redirect_uri with a code and
//     the state, or with error=access_denied (NextInstall decides who
//     installs where, and whether they cancel).
//   - oauth.v2.access exchanges a code (single-use, 10 minutes, with the
//     same redirect_uri) or, with grant_type=refresh_token, a refresh
//     token (single-use: the old one stops working) for a bot token of
//     that workspace. With SetTokenRotation the tokens expire.
//   - Every Web API call with an issued token acts in that token's
//     workspace only: a user of another workspace is not found.
//   - Uninstall and RevokeTokens revoke a workspace's tokens and post
//     app_uninstalled or tokens_revoked to the events URL.
//
// The fake's own BotToken keeps acting in TeamID, as before.

// Install is what the person on the authorize page does.
type Install struct {
	Team, TeamName string
	Enterprise     string // set for a workspace of an Enterprise Grid org
	EnterpriseName string
	// OrgWide: an admin of the organisation Enterprise installs the app
	// for the whole organisation (Team is ignored): oauth.v2.access
	// answers is_enterprise_install with no team, and the token acts in
	// every workspace the app is added to (GrantTeamAccess).
	OrgWide bool
	User    string // who installs; DefaultUserID when empty
	Deny    bool   // they press Cancel: error=access_denied
}

// Authorize is one request of a browser to the authorize page.
type Authorize struct {
	ClientID, Scope, UserScope, RedirectURI, State string
}

type oauthState struct {
	clientID, clientSecret string
	lifetime               time.Duration // token lifetime with rotation; 0: tokens never expire
	next                   []Install
	authorizes             []Authorize
	codes                  map[string]*oauthCode
	tokens                 map[string]*issuedToken // access tokens issued
	refresh                map[string]*issuedToken // refresh tokens issued, by refresh token
	n                      int
	// orgOf is the organisation of each workspace of an Enterprise Grid
	// org (AddOrgWorkspace); granted, the workspaces an org-wide app was
	// added to (GrantTeamAccess).
	orgOf   map[string]string
	granted map[string]bool
}

type oauthCode struct {
	in          Install
	redirectURI string
	expires     time.Time
	used        bool
}

type issuedToken struct {
	team, enterprise string
	expires          time.Time
	revoked          bool
}

// CodeTTL is how long an authorization code may be exchanged.
const CodeTTL = 10 * time.Minute

// SetOAuth sets the app's client ID and secret, which the authorize page
// and oauth.v2.access check.
func (s *Server) SetOAuth(clientID, clientSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.clientID, s.oauth.clientSecret = clientID, clientSecret
}

// SetTokenRotation turns token rotation on: tokens issued from now on
// expire after lifetime (Slack's is 12 hours) and come with a refresh
// token. 0 turns it off.
func (s *Server) SetTokenRotation(lifetime time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.lifetime = lifetime
}

// NextInstall queues what the next visit of the authorize page does; with
// nothing queued, DefaultUserID installs into TeamID.
func (s *Server) NextInstall(in Install) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.next = append(s.oauth.next, in)
}

// AuthorizeURL is the authorize page's address.
func (s *Server) AuthorizeURL() string { return s.base + "/oauth/v2/authorize" }

// Authorizes returns every request made to the authorize page.
func (s *Server) Authorizes() []Authorize {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Authorize(nil), s.oauth.authorizes...)
}

// TokenTeam returns the workspace a token acts in, and whether it is
// valid now (issued, not revoked, not expired).
func (s *Server) TokenTeam(token string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	team, code := s.tokenTeamLocked(token)
	return team, code == ""
}

// ValidTokens counts the access tokens of team (or of an organisation's
// install for all its workspaces, by its enterprise ID) that are valid
// now.
func (s *Server) ValidTokens(team string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for tok, t := range s.oauth.tokens {
		if _, code := s.tokenTeamLocked(tok); (t.team == team || t.team == "" && t.enterprise == team) && code == "" {
			n++
		}
	}
	return n
}

func (s *Server) tokenTeamLocked(token string) (team, code string) {
	if token == BotToken {
		return TeamID, ""
	}
	t := s.oauth.tokens[token]
	switch {
	case t == nil:
		return "", "invalid_auth"
	case t.revoked:
		return t.team, "token_revoked"
	case !t.expires.IsZero() && !time.Now().Before(t.expires):
		return t.team, "token_expired"
	}
	return t.team, ""
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := Authorize{ClientID: q.Get("client_id"), Scope: q.Get("scope"), UserScope: q.Get("user_scope"), RedirectURI: q.Get("redirect_uri"), State: q.Get("state")}
	s.mu.Lock()
	s.oauth.authorizes = append(s.oauth.authorizes, a)
	s.notifyLocked()
	in := Install{Team: TeamID, User: DefaultUserID}
	if len(s.oauth.next) > 0 {
		in, s.oauth.next = s.oauth.next[0], s.oauth.next[1:]
	}
	clientID := s.oauth.clientID
	s.mu.Unlock()
	back, err := url.Parse(a.RedirectURI)
	switch {
	case a.ClientID == "" || a.ClientID != clientID:
		http.Error(w, "invalid_client_id", http.StatusBadRequest)
		return
	case a.Scope == "" && a.UserScope == "":
		http.Error(w, "invalid_scope", http.StatusBadRequest)
		return
	case a.RedirectURI == "" || err != nil || back.Host == "":
		http.Error(w, "bad_redirect_uri", http.StatusBadRequest)
		return
	}
	v := back.Query()
	if in.Deny {
		v.Set("error", "access_denied")
	} else {
		if in.User == "" {
			in.User = DefaultUserID
		}
		s.mu.Lock()
		if s.oauth.codes == nil {
			s.oauth.codes = map[string]*oauthCode{}
		}
		code := "code-" + randHex(12)
		s.oauth.codes[code] = &oauthCode{in: in, redirectURI: a.RedirectURI, expires: time.Now().Add(CodeTTL)}
		s.mu.Unlock()
		v.Set("code", code)
	}
	if a.State != "" {
		v.Set("state", a.State)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// oauthAccess is oauth.v2.access: a code or a refresh token for a bot
// token. The client's credentials come as form fields or HTTP Basic.
func (s *Server) oauthAccess(p params) (obj, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &s.oauth
	if p["client_id"] != o.clientID || o.clientID == "" {
		return nil, fail("invalid_client_id")
	}
	if p["client_secret"] != o.clientSecret {
		return nil, fail("bad_client_secret")
	}
	var in Install
	if p["grant_type"] == "refresh_token" {
		t := o.refresh[p["refresh_token"]]
		if t == nil || t.revoked {
			return nil, fail("invalid_refresh_token")
		}
		t.revoked = true // single-use
		in = Install{Team: t.team, Enterprise: t.enterprise, OrgWide: t.team == ""}
	} else {
		c := o.codes[p["code"]]
		switch {
		case c == nil || c.used:
			return nil, fail("invalid_code")
		case time.Now().After(c.expires):
			return nil, fail("code_expired")
		case p["redirect_uri"] != c.redirectURI:
			return nil, fail("bad_redirect_uri")
		}
		c.used = true
		in = c.in
	}
	if o.tokens == nil {
		o.tokens, o.refresh = map[string]*issuedToken{}, map[string]*issuedToken{}
	}
	o.n++
	if in.OrgWide {
		in.Team, in.TeamName = "", ""
	}
	t := &issuedToken{team: in.Team, enterprise: in.Enterprise}
	prefix := "xoxb-"
	res := obj{"token_type": "bot", "scope": "chat:write,commands,im:history,im:write,users:read",
		"bot_user_id": BotUserID, "app_id": AppID, "is_enterprise_install": in.OrgWide,
		"team": obj{"id": in.Team, "name": in.TeamName}, "enterprise": nil}
	if in.OrgWide {
		res["team"] = nil // an org-wide install belongs to no one workspace
	}
	if in.Enterprise != "" {
		res["enterprise"] = obj{"id": in.Enterprise, "name": in.EnterpriseName}
	}
	if in.User != "" {
		res["authed_user"] = obj{"id": in.User}
	}
	if o.lifetime > 0 {
		prefix = "xoxe.xoxb-"
		t.expires = time.Now().Add(o.lifetime)
		rt := "xoxe-1-" + cmp.Or(in.Team, in.Enterprise) + "-" + strconv.Itoa(o.n) + "-" + randHex(6)
		o.refresh[rt] = &issuedToken{team: in.Team, enterprise: in.Enterprise}
		res["refresh_token"], res["expires_in"] = rt, int(o.lifetime/time.Second)
	}
	token := prefix + cmp.Or(in.Team, in.Enterprise) + "-" + strconv.Itoa(o.n) + "-" + randHex(6)
	o.tokens[token] = t
	res["access_token"] = token
	return res, nil
}

// revokeLocked revokes every token of a workspace.
func (s *Server) revokeLocked(team string) {
	for _, m := range []map[string]*issuedToken{s.oauth.tokens, s.oauth.refresh} {
		for _, t := range m {
			if t.team == team && team != "" {
				t.revoked = true
			}
		}
	}
}

// Uninstall removes the app from a workspace: its tokens are revoked and
// app_uninstalled is posted to the events URL.
func (s *Server) Uninstall(team string) ([]Delivery, error) {
	s.mu.Lock()
	s.revokeLocked(team)
	s.mu.Unlock()
	return s.postTeamEvent(team, obj{"type": "app_uninstalled"})
}

// RevokeTokens revokes a workspace's tokens (an admin did, or the bot's
// user was removed) and posts tokens_revoked naming the bot's user.
func (s *Server) RevokeTokens(team string) ([]Delivery, error) {
	s.mu.Lock()
	s.revokeLocked(team)
	s.mu.Unlock()
	return s.postTeamEvent(team, obj{"type": "tokens_revoked", "tokens": obj{"oauth": []string{}, "bot": []string{BotUserID}}})
}

func (s *Server) postTeamEvent(team string, ev obj) ([]Delivery, error) {
	return s.postOrgEvent("", team, ev)
}

// postOrgEvent posts an event of a workspace (team), or with team empty of
// an organisation's install for all its workspaces.
func (s *Server) postOrgEvent(enterprise, team string, ev obj) ([]Delivery, error) {
	ev["event_ts"] = strconv.FormatInt(time.Now().Unix(), 10) + ".000100"
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	eventID := "Ev" + strings.ToUpper(randHex(5))
	cb := eventCallback{
		Token: VerificationToken, TeamID: team, APIAppID: AppID, Event: raw,
		Type: "event_callback", EventID: eventID, EventTime: time.Now().Unix(),
		Authorizations: []eventAuthorization{{TeamID: team, UserID: BotUserID, IsBot: true}},
		EventContext:   "4-fake-" + eventID,
	}
	if enterprise != "" {
		cb.EnterpriseID = enterprise
		cb.Authorizations[0].EnterpriseID = &enterprise
		cb.Authorizations[0].IsEnterpriseInstall = team == ""
	} else {
		s.mu.Lock()
		s.orgFieldsLocked(&cb)
		s.mu.Unlock()
	}
	b, err := json.Marshal(cb)
	if err != nil {
		return nil, fmt.Errorf("fakeslack: marshal event: %w", err)
	}
	d, err := s.postEvent(b, 0, "")
	if err != nil {
		return nil, err
	}
	return []Delivery{d}, nil
}

// otherTeamLocked reports whether a call acting in team names a user (or
// their DM) registered in another workspace.
func (s *Server) otherTeamLocked(team string, p params) bool {
	for _, k := range []string{"user", "users", "channel"} {
		for id := range strings.SplitSeq(p[k], ",") {
			id = strings.TrimPrefix(strings.TrimSpace(id), "D")
			if u, ok := s.users[id]; ok && u.TeamID != "" && u.TeamID != team && !s.sameOrgLocked(u.TeamID, team) {
				return true
			}
		}
	}
	return false
}
