package slack

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// disabling is the store, telling the test of each installation it
// disables.
type disabling struct {
	*store.DB
	disabled chan string
}

func (d disabling) DisableInstallation(ctx context.Context, enterprise, team string) (bool, error) {
	ok, err := d.DB.DisableInstallation(ctx, enterprise, team)
	d.disabled <- team
	return ok, err
}

// installApp is the install flow and an HTTP-mode client on one test
// server, with a fake Slack that runs OAuth and a real SQLite store.
type installApp struct {
	fake  *fakeslack.Server
	db    disabling
	oauth *OAuth
	c     *Client
	base  string
	mu    sync.Mutex
	now   time.Time
	log   *lockedBuffer
}

func (a *installApp) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *installApp) advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

func runInstallApp(t *testing.T) *installApp {
	t.Helper()
	ctx := context.Background()
	a := &installApp{fake: fakeslack.New(), now: time.Now(), log: &lockedBuffer{}}
	t.Cleanup(a.fake.Close)
	a.fake.SetOAuth("cid", "csecret")
	db := testdb.Open(t)
	a.db = disabling{db.DB, make(chan string, 10)}
	a.db.Keys = testKeyring(t)
	log := slog.New(slog.NewTextHandler(a.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a.base = srv.URL
	a.oauth = NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "csecret", PublicURL: srv.URL, AuthorizeURL: a.fake.AuthorizeURL(),
		APIURL: a.fake.APIURL(), Store: a.db, Logger: log, Now: a.clock,
		T: func(lang trustbot.Lang, key string, args ...string) string {
			return "[" + string(lang) + "]" + key + strings.Join(args, "=")
		}})
	a.oauth.Routes(mux)
	a.c = New(Config{SigningSecret: fakeslack.SigningSecret, APIURL: a.fake.APIURL(), Workers: 1, Tokens: a.oauth.Token,
		Uninstalled: a.oauth.Uninstalled, Logger: log})
	a.c.SetHandler(&recorder{})
	a.c.Routes(mux)
	a.fake.SetRequestURLs(srv.URL+EventsPath, srv.URL+InteractivePath, srv.URL+CommandsPath)
	if err := a.c.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.c.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// browser is a browser with its own cookies that follows redirects and
// remembers the last URL it was sent to.
type browser struct {
	*http.Client
	lang string
	last *url.URL
}

func newBrowser(t *testing.T, lang string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{lang: lang}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		b.last = r.URL
		r.Header.Set("Accept-Language", lang)
		return nil
	}}
	return b
}

// pageResult reads what a page shows: nothing on the install page,
// "success", or an error page's reason.
var pageResult = regexp.MustCompile(`<main id="page"(?: data-result="([a-z]+)")?(?: data-reason="([a-z]+)")?>`)

// get returns the status, the page and its result: "" on the install
// page, "success", or an error page's reason.
func (b *browser) get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := pageResult.FindStringSubmatch(string(body))
	switch {
	case m == nil:
		t.Fatalf("no page: %s", body)
	case m[1] == "error" && m[2] != "":
		return res.StatusCode, string(body), m[2]
	case m[1] == "error" || m[2] != "":
		t.Fatalf("an error page without a reason, or a reason without an error: %s", body)
	}
	return res.StatusCode, string(body), m[1]
}

var buttonHref = regexp.MustCompile(`id="add-to-slack" href="([^"]+)"`)

// button opens the install page and returns where its button leads.
func (b *browser) button(t *testing.T, a *installApp) string {
	t.Helper()
	status, page, result := b.get(t, a.base+InstallPath)
	m := buttonHref.FindStringSubmatch(page)
	if status != http.StatusOK || result != "" || m == nil {
		t.Fatalf("install page: %d %q %s", status, result, page)
	}
	return html.UnescapeString(m[1])
}

func TestInstallFlow(t *testing.T) {
	a := runInstallApp(t)
	ctx := context.Background()
	alice := newBrowser(t, "en-US,en;q=0.8")

	href := alice.button(t, a)
	u, _ := url.Parse(href)
	q := u.Query()
	if !strings.HasPrefix(href, a.fake.AuthorizeURL()+"?") || q.Get("client_id") != "cid" || q.Get("scope") != strings.Join(BotScopes, ",") ||
		q.Get("redirect_uri") != a.base+CallbackPath || len(q.Get("state")) < 40 {
		t.Fatalf("the button leads to %s", href)
	}
	callback, _ := url.Parse(a.base + CallbackPath)
	if !slices.ContainsFunc(alice.Jar.Cookies(callback), func(c *http.Cookie) bool { return c.Name == browserCookie }) {
		t.Fatalf("cookies sent to the callback: %v", alice.Jar.Cookies(callback))
	}

	a.fake.NextInstall(fakeslack.Install{Team: "TA", TeamName: "Alpha", User: "UA"})
	status, page, result := alice.get(t, href)
	if status != http.StatusOK || result != "success" || !strings.Contains(page, "[en]install.done") || !strings.Contains(page, "workspace=Alpha") ||
		!strings.Contains(page, `id="next"`) {
		t.Fatalf("callback: %d %q %s", status, result, page)
	}
	in, err := a.db.Installation(ctx, "", "TA")
	if err != nil || in.BotToken == "" || in.Installer != "UA" || in.BotUser != fakeslack.BotUserID || in.Disabled() {
		t.Fatalf("stored: %+v %v", in, err)
	}
	if strings.Contains(a.log.String(), in.BotToken) {
		t.Fatal("the token is in the log")
	}
	tok, err := a.oauth.Token(ctx, "TA")
	if team, ok := a.fake.TokenTeam(tok); err != nil || !ok || team != "TA" {
		t.Fatalf("token of TA: %q %v (%q %v)", tok, err, team, ok)
	}
	if _, err := a.oauth.Token(ctx, "TZ"); err == nil {
		t.Fatal("a token for a workspace never installed")
	}

	t.Run("Replayed", func(t *testing.T) {
		if status, _, result := alice.get(t, alice.last.String()); status != http.StatusBadRequest || result != "replayed" {
			t.Fatalf("replayed callback: %d %q", status, result)
		}
	})
	t.Run("AnotherBrowser", func(t *testing.T) {
		href := alice.button(t, a)
		mallory := newBrowser(t, "ja")
		status, page, result := mallory.get(t, href)
		if status != http.StatusForbidden || result != "browser" || !strings.Contains(page, "[ja]install.browser") {
			t.Fatalf("another browser: %d %q %s", status, result, page)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		href := alice.button(t, a)
		a.advance(StateTTL + time.Second)
		if status, _, result := alice.get(t, href); status != http.StatusBadRequest || result != "expired" {
			t.Fatalf("expired: %d %q", status, result)
		}
	})
	t.Run("Denied", func(t *testing.T) {
		a.fake.NextInstall(fakeslack.Install{Team: "TC", Deny: true})
		if status, _, result := alice.get(t, alice.button(t, a)); status != http.StatusOK || result != "denied" {
			t.Fatalf("denied: %d %q", status, result)
		}
		if _, err := a.db.Installation(ctx, "", "TC"); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Fatalf("a denied install stored: %v", err)
		}
	})
	t.Run("ExchangeFails", func(t *testing.T) {
		a.fake.FailNext("oauth.v2.access", "invalid_code", 1)
		status, page, result := alice.get(t, alice.button(t, a))
		if status != http.StatusBadGateway || result != "failed" || strings.Contains(page, "goroutine") {
			t.Fatalf("exchange failed: %d %q %s", status, result, page)
		}
	})
	t.Run("Language", func(t *testing.T) {
		_, page, _ := newBrowser(t, "ja,en;q=0.5").get(t, a.base+InstallPath)
		if !strings.Contains(page, `<html lang="ja">`) || !strings.Contains(page, "[ja]install.button") || !strings.Contains(page, `href="?lang=en"`) {
			t.Fatalf("Japanese page: %s", page)
		}
		// Switched to English in a Japanese browser: the page Slack sends
		// the browser back to is in English too, with no switch (it
		// cannot be opened again), and so is the next visit.
		bob := newBrowser(t, "ja")
		status, page, result := bob.get(t, a.base+InstallPath+"?lang=en")
		if status != http.StatusOK || result != "" || !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "[en]install.button") {
			t.Fatalf("switched to English: %d %q %s", status, result, page)
		}
		a.fake.NextInstall(fakeslack.Install{Team: "TD", TeamName: "Delta", User: "UD"})
		status, page, result = bob.get(t, html.UnescapeString(buttonHref.FindStringSubmatch(page)[1]))
		if status != http.StatusOK || result != "success" || !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "[en]install.done") ||
			strings.Contains(page, "lang-switch") {
			t.Fatalf("installed after switching to English: %d %q %s", status, result, page)
		}
		if _, page, _ := bob.get(t, a.base+InstallPath); !strings.Contains(page, `<html lang="en">`) {
			t.Fatalf("the next visit forgot the language: %s", page)
		}
	})

	t.Run("RotateAndUninstall", func(t *testing.T) {
		a.fake.SetTokenRotation(time.Hour)
		a.fake.NextInstall(fakeslack.Install{Team: "TB", User: "UB"})
		if _, _, result := alice.get(t, alice.button(t, a)); result != "success" {
			t.Fatalf("TB: %q", result)
		}
		first, _ := a.db.Installation(ctx, "", "TB")
		// Used with more than half its hour left: kept.
		if tok, err := a.oauth.Token(ctx, "TB"); err != nil || tok != first.BotToken {
			t.Fatalf("renewed early: %q %v", tok, err)
		}
		// 40 minutes later, within half its lifetime of its expiry
		// (RefreshBefore, 2 hours, is longer): renewed once, then kept.
		a.advance(40 * time.Minute)
		tok, err := a.oauth.Token(ctx, "TB")
		if err != nil || tok == first.BotToken {
			t.Fatalf("not renewed: %q %v", tok, err)
		}
		if team, ok := a.fake.TokenTeam(tok); !ok || team != "TB" {
			t.Fatalf("renewed token: %q %v", team, ok)
		}
		if again, _ := a.db.Installation(ctx, "", "TB"); again.BotToken != tok || again.RefreshToken == first.RefreshToken {
			t.Fatalf("stored after renewal: %+v", again)
		}
		a.advance(2 * time.Minute) // past the cache
		if again, err := a.oauth.Token(ctx, "TB"); err != nil || again != tok {
			t.Fatalf("renewed again: %q %v", again, err)
		}
		if n := len(a.fake.Calls("oauth.v2.access")); n != 5 {
			t.Fatalf("%d calls of oauth.v2.access, want 5 (4 installs and 1 renewal)", n)
		}

		if _, err := a.fake.Uninstall("TA"); err != nil {
			t.Fatal(err)
		}
		if team := <-a.db.disabled; team != "TA" {
			t.Fatalf("disabled %q", team)
		}
		if _, err := a.oauth.Token(ctx, "TA"); err == nil {
			t.Fatal("TA still has a token after its uninstall")
		}
		if _, err := a.oauth.Token(ctx, "TB"); err != nil {
			t.Fatalf("TB after TA's uninstall: %v", err)
		}
		if _, err := a.fake.RevokeTokens("TB"); err != nil {
			t.Fatal(err)
		}
		if team := <-a.db.disabled; team != "TB" {
			t.Fatalf("disabled %q", team)
		}
		if in, _ := a.db.Installation(ctx, "", "TB"); !in.Disabled() || in.BotToken != "" {
			t.Fatalf("TB after tokens_revoked: %+v", in)
		}
	})
}

func testKeyring(t *testing.T) *secret.Keyring {
	k, err := secret.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The browser's cookies (its secret and the page's language) are
// HttpOnly and SameSite=Lax, Secure when the public URL is https, and
// scoped to Slack's paths.
func TestInstallCookie(t *testing.T) {
	for _, public := range []string{"https://trustbot.example.com", "http://127.0.0.1:3978"} {
		a := runInstallApp(t)
		a.oauth.cfg.PublicURL = public
		rec := httptest.NewRecorder()
		a.oauth.serveInstall(rec, httptest.NewRequest(http.MethodGet, InstallPath, nil))
		cs := rec.Result().Cookies()
		if len(cs) != 2 || cs[0].Name != langCookie || cs[0].Value != "ja" || cs[1].Name != browserCookie {
			t.Fatalf("%s: cookies %v", public, cs)
		}
		for _, c := range cs {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != strings.HasPrefix(public, "https:") || c.Path != "/slack/" || c.MaxAge != 600 {
				t.Errorf("%s: cookie %+v", public, c)
			}
		}
		if !strings.Contains(rec.Body.String(), url.QueryEscape(public+CallbackPath)) {
			t.Errorf("%s: the button does not send Slack back to %s", public, public+CallbackPath)
		}
	}
}

// TestPageCommands: a page's text is escaped (a workspace's name comes
// from Slack), and its /trust commands are set apart.
func TestPageCommands(t *testing.T) {
	got := string(commands(`<b>"Acme"</b> & co: type /trust help, or /trust.`))
	want := `&lt;b&gt;&#34;Acme&#34;&lt;/b&gt; &amp; co: type <code>/trust help</code>, or <code>/trust</code>.`
	if got != want {
		t.Fatalf("commands:\n got %s\nwant %s", got, want)
	}
}

// TestRenewTokensOnceAcrossReplicas: two processes on one database renew
// an expiring token before its expiry, each from several goroutines at
// once: Slack is asked once, and both then hand out the new token.
func TestRenewTokensOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	fake.SetOAuth("cid", "csecret")
	fake.SetTokenRotation(time.Hour)
	fake.NextInstall(fakeslack.Install{Team: "TA", User: "UA"})
	const back = "https://trustbot.example/slack/oauth/callback"
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(fake.AuthorizeURL() + "?" + url.Values{"client_id": {"cid"}, "scope": {"commands"}, "redirect_uri": {back}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "cid", "csecret", loc.Query().Get("code"), back, slack.OAuthOptionAPIURL(fake.APIURL()))
	if err != nil {
		t.Fatal(err)
	}
	path := testdb.DSN(t)
	installedAt := time.Now()
	// An hour-long token is renewed in its last half hour: at 59
	// minutes, both processes find it due.
	var shift atomic.Int64
	shift.Store(int64(59 * time.Minute))
	later := func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	var replicas []*OAuth
	for i := range 2 {
		st := testdb.OpenAt(t, path).DB
		st.Keys = testKeyring(t)
		if i == 0 {
			st.Now = func() time.Time { return installedAt }
			if err := st.SaveInstallation(ctx, trustbot.Installation{Team: "TA", BotToken: first.AccessToken, RefreshToken: first.RefreshToken,
				ExpiresAt: installedAt.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			st.Now = time.Now
		}
		replicas = append(replicas, NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "csecret", APIURL: fake.APIURL(), Store: st, Now: later}))
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { replicas[i%2].RenewTokens(ctx) })
	}
	wg.Wait()
	refreshes := 0
	for _, c := range fake.Calls("oauth.v2.access") {
		if c.Params["grant_type"] == "refresh_token" {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Fatalf("Slack asked %d times for a new token, want 1", refreshes)
	}
	for i, o := range replicas {
		tok, err := o.Token(ctx, "TA")
		if err != nil || tok == first.AccessToken {
			t.Fatalf("replica %d hands out %q (%v)", i, tok, err)
		}
		if team, valid := fake.TokenTeam(tok); team != "TA" || !valid {
			t.Fatalf("replica %d hands out a token of %q, valid %v", i, team, valid)
		}
	}
	// The new token is not due for half an hour: nothing is renewed,
	// and the next look comes within the longest wait.
	shift.Store(0)
	if wait := replicas[0].RenewTokens(ctx); wait != maxRenewWait {
		t.Fatalf("next look in %v", wait)
	}
	if n := fake.Calls("oauth.v2.access"); len(n) != 2 {
		t.Fatalf("renewed again: %d calls", len(n))
	}
}
