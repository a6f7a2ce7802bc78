package fakeslack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// install runs the authorize redirect as a browser would and returns the
// code and state it brings back (or the error).
func install(t *testing.T, s *Server, redirect, state string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"cid"}, "scope": {"chat:write,commands"}, "redirect_uri": {redirect}, "state": {state}}
	res, err := c.Get(s.AuthorizeURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", res.Status)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), redirect) {
		t.Fatalf("redirected to %q", res.Header.Get("Location"))
	}
	return u.Query()
}

func TestOAuthInstallsRotatesAndRevokesPerWorkspace(t *testing.T) {
	s := newServer(t)
	s.SetOAuth("cid", "csecret")
	s.SetTokenRotation(time.Hour)
	s.AddUser(User{ID: "UA", TeamID: "TA", TZ: "UTC"})
	s.AddUser(User{ID: "UB", TeamID: "TB", TZ: "UTC"})
	ctx := context.Background()
	const back = "https://trustbot.example/slack/oauth/callback"

	s.NextInstall(Install{Team: "TA", User: "UA"})
	got := install(t, s, back, "st-a")
	if got.Get("state") != "st-a" || got.Get("code") == "" {
		t.Fatalf("back with %v", got)
	}
	if a := s.Authorizes(); len(a) != 1 || a[0].Scope != "chat:write,commands" || a[0].RedirectURI != back {
		t.Fatalf("authorizes: %+v", a)
	}
	api := slack.OAuthOptionAPIURL(s.APIURL())
	if _, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "wrong", got.Get("code"), back, api); err == nil || err.Error() != "bad_client_secret" {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "csecret", got.Get("code"), back+"x", api); err == nil || err.Error() != "bad_redirect_uri" {
		t.Fatalf("another redirect_uri: %v", err)
	}
	a, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "csecret", got.Get("code"), back, api)
	if err != nil || a.Team.ID != "TA" || a.AuthedUser.ID != "UA" || a.BotUserID != BotUserID || !strings.HasPrefix(a.AccessToken, "xoxe.xoxb-") ||
		a.RefreshToken == "" || a.ExpiresIn != 3600 {
		t.Fatalf("exchange: %+v %v", a, err)
	}
	if _, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "csecret", got.Get("code"), back, api); err == nil || err.Error() != "invalid_code" {
		t.Fatalf("a code used twice: %v", err)
	}

	s.NextInstall(Install{Team: "TB", User: "UB"})
	b, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "csecret", install(t, s, back, "st-b").Get("code"), back, api)
	if err != nil || b.Team.ID != "TB" {
		t.Fatalf("exchange B: %+v %v", b, err)
	}

	// A workspace's token acts there only.
	ta := slack.New(a.AccessToken, slack.OptionAPIURL(s.APIURL()))
	if _, err := ta.GetUserInfoContext(ctx, "UA"); err != nil {
		t.Fatalf("A's token in A: %v", err)
	}
	if _, err := ta.GetUserInfoContext(ctx, "UB"); err == nil || err.Error() != "user_not_found" {
		t.Fatalf("A's token reaches B's user: %v", err)
	}
	if _, _, err := ta.PostMessageContext(ctx, "UB", slack.MsgOptionText("hi", false)); err == nil {
		t.Fatal("A's token posted to B's user")
	}
	if c := s.Calls("users.info"); c[0].Team != "TA" {
		t.Fatalf("call recorded in %q", c[0].Team)
	}

	// Rotation: the refresh token works once.
	r, err := slack.RefreshOAuthV2TokenContext(ctx, http.DefaultClient, "cid", "csecret", a.RefreshToken, api)
	if err != nil || r.AccessToken == a.AccessToken || r.RefreshToken == a.RefreshToken || r.Team.ID != "TA" {
		t.Fatalf("refresh: %+v %v", r, err)
	}
	if _, err := slack.RefreshOAuthV2TokenContext(ctx, http.DefaultClient, "cid", "csecret", a.RefreshToken, api); err == nil || err.Error() != "invalid_refresh_token" {
		t.Fatalf("a refresh token used twice: %v", err)
	}

	// Cancel on the authorize page.
	s.NextInstall(Install{Team: "TC", Deny: true})
	if got := install(t, s, back, "st-c"); got.Get("error") != "access_denied" || got.Get("code") != "" || got.Get("state") != "st-c" {
		t.Fatalf("denied: %v", got)
	}

	// Uninstall: A's tokens stop working, app_uninstalled is posted; B
	// keeps working.
	rec := &app{answer: func(w http.ResponseWriter, n int) {}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	s.SetRequestURLs(srv.URL+"/events", srv.URL+"/interactive", srv.URL+"/commands")
	ds, err := s.Uninstall("TA")
	if err != nil || len(ds) != 1 || !ds[0].OK() {
		t.Fatalf("uninstall: %+v %v", ds, err)
	}
	if body := string(rec.bodies[0]); !strings.Contains(body, `"app_uninstalled"`) || !strings.Contains(body, `"team_id":"TA"`) {
		t.Fatalf("posted %s", body)
	}
	if _, err := slack.New(r.AccessToken, slack.OptionAPIURL(s.APIURL())).GetUserInfoContext(ctx, "UA"); err == nil || err.Error() != "token_revoked" {
		t.Fatalf("A's token after the uninstall: %v", err)
	}
	tb := slack.New(b.AccessToken, slack.OptionAPIURL(s.APIURL()))
	if _, err := tb.GetUserInfoContext(ctx, "UB"); err != nil {
		t.Fatalf("B after A's uninstall: %v", err)
	}
	if ds, err := s.RevokeTokens("TB"); err != nil || len(ds) != 1 || !strings.Contains(string(rec.bodies[1]), `"tokens_revoked"`) {
		t.Fatalf("revoke: %+v %v", ds, err)
	}
	if _, err := tb.GetUserInfoContext(ctx, "UB"); err == nil || err.Error() != "token_revoked" {
		t.Fatalf("B's token after revoking: %v", err)
	}
}

func TestOAuthOrgWideInstall(t *testing.T) {
	s := newServer(t)
	s.SetOAuth("cid", "csecret")
	s.AddOrgWorkspace("E1", "T1")
	s.AddOrgWorkspace("E1", "T2")
	s.AddUser(User{ID: "W1", TeamID: "T1", TZ: "UTC"})
	s.AddUser(User{ID: "W2", TeamID: "T2", TZ: "UTC"})
	s.AddUser(User{ID: "UX", TeamID: "TX", TZ: "UTC"})
	ctx := context.Background()
	const back = "https://trustbot.example/slack/oauth/callback"
	s.NextInstall(Install{Enterprise: "E1", EnterpriseName: "Org", OrgWide: true, User: "W1"})
	res, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "csecret", install(t, s, back, "st").Get("code"), back, slack.OAuthOptionAPIURL(s.APIURL()))
	if err != nil || !res.IsEnterpriseInstall || res.Team.ID != "" || res.Enterprise.ID != "E1" || res.AccessToken == "" {
		t.Fatalf("org-wide exchange: %+v %v", res, err)
	}
	api := slack.New(res.AccessToken, slack.OptionAPIURL(s.APIURL()))
	// Added to no workspace yet: the token acts in none.
	if _, err := api.GetUserInfoContext(ctx, "W1"); err == nil || err.Error() != "user_not_found" {
		t.Fatalf("before the app is added to T1: %v", err)
	}
	var events []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		_, _ = io.Copy(&b, r.Body)
		events = append(events, b.String())
	}))
	defer srv.Close()
	s.SetRequestURLs(srv.URL, srv.URL, srv.URL)
	if ds, err := s.GrantTeamAccess("E1", "T1"); err != nil || !ds[0].OK() {
		t.Fatalf("grant: %+v %v", ds, err)
	}
	if len(events) != 1 || !strings.Contains(events[0], `"team_access_granted"`) || !strings.Contains(events[0], `"is_enterprise_install":true`) {
		t.Fatalf("team_access_granted: %q", events)
	}
	if _, err := api.GetUserInfoContext(ctx, "W1"); err != nil {
		t.Fatalf("in T1: %v", err)
	}
	if c := s.Calls("users.info"); c[len(c)-1].Team != "T1" || c[len(c)-1].Enterprise != "E1" {
		t.Fatalf("acted as %+v", c[len(c)-1])
	}
	for _, u := range []string{"W2", "UX"} { // T2 not added; TX of no organisation
		if _, err := api.GetUserInfoContext(ctx, u); err == nil || err.Error() != "user_not_found" {
			t.Fatalf("%s: %v", u, err)
		}
	}
	// Requests from T1 say the app came through the organisation's install.
	raw, err := s.BuildSlashCommand(SlashCommand{TeamID: "T1", UserID: "W1"})
	if err != nil || !strings.Contains(string(raw), `"enterprise_id":"E1"`) || !strings.Contains(string(raw), `"is_enterprise_install":"true"`) {
		t.Fatalf("slash command: %s %v", raw, err)
	}
	ev, err := s.BuildEvent(map[string]any{"type": "app_home_opened", "user": "W1", "team": "T1", "tab": "home"}, "")
	if err != nil || !strings.Contains(string(ev), `"enterprise_id":"E1"`) || !strings.Contains(string(ev), `"is_enterprise_install":true`) {
		t.Fatalf("event: %s %v", ev, err)
	}
	if _, err := s.UninstallOrg("E1"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetUserInfoContext(ctx, "W1"); err == nil || err.Error() != "token_revoked" {
		t.Fatalf("after the organisation's uninstall: %v", err)
	}
	if raw, _ := s.BuildSlashCommand(SlashCommand{TeamID: "T1", UserID: "W1"}); !strings.Contains(string(raw), `"is_enterprise_install":"false"`) {
		t.Fatalf("slash command after the uninstall: %s", raw)
	}
}
