package slack

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Paths of the "Add to Slack" flow on the public address.
const (
	InstallPath  = "/slack/install"
	CallbackPath = "/slack/oauth/callback"
)

// DefaultAuthorizeURL is where Slack's install page is.
const DefaultAuthorizeURL = "https://slack.com/oauth/v2/authorize"

// BotScopes are the bot scopes trustbot asks for: those of
// deploy/slack/manifest-http.yaml, no more.
var BotScopes = []string{"commands", "chat:write", "users:read", "files:write", "channels:read", "groups:read",
	"im:write", "im:history", "channels:history", "groups:history"}

// StateTTL is how long an install may take from the install page to the
// callback.
const StateTTL = 10 * time.Minute

// browserCookie holds the secret that binds a state to the browser that
// asked for it.
const browserCookie = "trustbot_install"

// Installations keeps the installations and the OAuth states (the store).
type Installations interface {
	SaveInstallation(ctx context.Context, in trustbot.Installation) error
	Installation(ctx context.Context, enterprise, team string) (trustbot.Installation, error)
	RefreshInstallation(ctx context.Context, enterprise, team string, before time.Time, refresh func(trustbot.Installation) (trustbot.Installation, error)) (trustbot.Installation, error)
	RotatingInstallations(ctx context.Context) ([]trustbot.Installation, error)
	DisableInstallation(ctx context.Context, enterprise, team string) (bool, error)
	AddOrgWorkspace(ctx context.Context, enterprise, team string) (bool, error)
	RemoveOrgWorkspace(ctx context.Context, enterprise, team string) (bool, error)
	SaveOAuthState(ctx context.Context, state, browser string, expires time.Time) error
	ConsumeOAuthState(ctx context.Context, state, browser string, now time.Time) error
}

// OAuthConfig configures the "Add to Slack" flow.
type OAuthConfig struct {
	ClientID, ClientSecret string
	// PublicURL is the base URL people reach the public address at; the
	// redirect URL is PublicURL + CallbackPath.
	PublicURL    string
	AuthorizeURL string // default DefaultAuthorizeURL
	APIURL       string // Web API base ending in "/" (oauth.v2.access); default Slack's
	Store        Installations
	// T returns an interface text of playbooks/ui in a language.
	T func(lang trustbot.Lang, key string, args ...string) string
	// RefreshBefore is how long before its expiry a token is renewed;
	// default 2 hours (tokens that rotate last 12).
	RefreshBefore time.Duration
	// CacheFor is how long a workspace's token is kept in memory between
	// reads of the store; default 1 minute.
	CacheFor   time.Duration
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// OAuth runs the install flow and hands out each workspace's token.
type OAuth struct {
	cfg   OAuthConfig
	log   *slog.Logger
	mu    sync.Mutex
	cache map[string]cachedToken
	// orgs holds the workspaces known to belong to an organisation
	// installed for all its workspaces (team to enterprise), so that
	// each request of theirs does not write it again.
	orgs map[string]string
	// installed wakes RunRenewals when a new installation came.
	installed chan struct{}
}

type cachedToken struct {
	token      string
	enterprise string // the organisation whose install it is; "" for a workspace's own
	until      time.Time
}

// NewOAuth returns the install flow.
func NewOAuth(cfg OAuthConfig) *OAuth {
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = DefaultAuthorizeURL
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 2 * time.Hour
	}
	if cfg.CacheFor <= 0 {
		cfg.CacheFor = time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OAuth{cfg: cfg, log: cfg.Logger.With("component", "slack-oauth"), cache: map[string]cachedToken{}, orgs: map[string]string{},
		installed: make(chan struct{}, 1)}
}

// RedirectURL is the OAuth redirect URL to register with Slack.
func (o *OAuth) RedirectURL() string { return strings.TrimSuffix(o.cfg.PublicURL, "/") + CallbackPath }

// Routes adds the install page and the callback to mux.
func (o *OAuth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+InstallPath, o.serveInstall)
	mux.HandleFunc("GET "+CallbackPath, o.serveCallback)
}

// Token returns the bot token of a workspace from its installation (its
// own, or its organisation's), renewed first when it expires within
// RefreshBefore. It is a TokenFunc.
func (o *OAuth) Token(ctx context.Context, team string) (string, error) {
	now := o.cfg.Now()
	o.mu.Lock()
	c, ok := o.cache[team]
	o.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.token, nil
	}
	in, err := o.cfg.Store.Installation(ctx, "", team)
	if err != nil {
		return "", err
	}
	if in.Disabled() || in.BotToken == "" {
		return "", trustbot.Errorf(trustbot.ENOTFOUND, "trustbot is not installed in workspace %s", team)
	}
	if window := o.window(in); in.RefreshToken != "" && !in.ExpiresAt.IsZero() && in.ExpiresAt.Before(now.Add(window)) {
		in, err = o.cfg.Store.RefreshInstallation(ctx, in.Enterprise, in.Team, now.Add(window), func(old trustbot.Installation) (trustbot.Installation, error) {
			return o.refresh(ctx, old)
		})
		if err != nil {
			o.log.Error("token refresh failed", "team", team, "err", err)
			return "", err
		}
	}
	until := now.Add(o.cfg.CacheFor)
	if renew := in.ExpiresAt.Add(-o.window(in)); !in.ExpiresAt.IsZero() && renew.Before(until) {
		until = renew
	}
	o.mu.Lock()
	c = cachedToken{token: in.BotToken, until: until}
	if in.Team == "" {
		c.enterprise = in.Enterprise // the organisation's token
	}
	o.cache[team] = c
	o.mu.Unlock()
	return in.BotToken, nil
}

// Bounds of RunRenewals' wait between two looks at the expiring tokens.
const (
	minRenewWait = time.Second
	maxRenewWait = 5 * time.Minute
	// retryRenewWait is the wait after a renewal failed.
	retryRenewWait = 30 * time.Second
)

// RunRenewals renews every rotating token before it expires, whether or
// not anything uses it, until ctx ends: it looks when the next one is due
// (at most every 5 minutes, and at once after an install). Every replica
// may run it: the renewal holds the installation's row, so Slack is asked
// once per token.
func (o *OAuth) RunRenewals(ctx context.Context) {
	for {
		wait := o.RenewTokens(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-o.installed:
			t.Stop()
		case <-t.C:
		}
	}
}

// RenewTokens renews the rotating tokens that expire within their renewal
// window (RefreshBefore, or half their lifetime) and returns how long to
// wait before the next is due.
func (o *OAuth) RenewTokens(ctx context.Context) time.Duration {
	ins, err := o.cfg.Store.RotatingInstallations(ctx)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Warn("expiring tokens not read", "err", err)
		}
		return retryRenewWait
	}
	wait := maxRenewWait
	for _, in := range ins {
		now := o.cfg.Now()
		window := o.window(in)
		if due := in.ExpiresAt.Add(-window); now.Before(due) {
			wait = min(wait, due.Sub(now))
			continue
		}
		out, err := o.cfg.Store.RefreshInstallation(ctx, in.Enterprise, in.Team, now.Add(window), func(old trustbot.Installation) (trustbot.Installation, error) {
			return o.refresh(ctx, old)
		})
		if err != nil {
			if ctx.Err() != nil {
				return wait
			}
			o.log.Error("token refresh failed", "team", in.Team, "enterprise", in.Enterprise, "err", err)
			wait = min(wait, retryRenewWait)
			continue
		}
		o.dropTokens(out.Enterprise, out.Team)
		if !out.ExpiresAt.IsZero() && !out.Disabled() {
			wait = min(wait, out.ExpiresAt.Add(-o.window(out)).Sub(o.cfg.Now()))
		}
	}
	return max(wait, minRenewWait)
}

// window is how long before its expiry a token is renewed: RefreshBefore,
// or half its lifetime when that is shorter, so that a token just renewed
// is not renewed again at once.
func (o *OAuth) window(in trustbot.Installation) time.Duration {
	w := o.cfg.RefreshBefore
	if life := in.ExpiresAt.Sub(in.UpdatedAt); life > 0 && life/2 < w {
		w = life / 2
	}
	return w
}

// refresh asks Slack for a new token pair with the refresh token.
func (o *OAuth) refresh(ctx context.Context, old trustbot.Installation) (trustbot.Installation, error) {
	res, err := slack.RefreshOAuthV2TokenContext(ctx, o.cfg.HTTPClient, o.cfg.ClientID, o.cfg.ClientSecret, old.RefreshToken, slack.OAuthOptionAPIURL(o.cfg.APIURL))
	if err != nil {
		return old, errors.New("oauth.v2.access (refresh): " + err.Error())
	}
	next := old
	next.BotToken, next.RefreshToken = res.AccessToken, res.RefreshToken
	next.ExpiresAt = time.Time{}
	if res.ExpiresIn > 0 {
		next.ExpiresAt = o.cfg.Now().Add(time.Duration(res.ExpiresIn) * time.Second)
	}
	o.log.Info("token renewed", "team", old.Team, "enterprise", old.Enterprise, "expires", next.ExpiresAt)
	return next, nil
}

// Uninstalled disables a workspace's installation (app_uninstalled,
// tokens_revoked): its tokens are deleted, its waiting deliveries
// canceled, and this process forgets the token it kept.
func (o *OAuth) Uninstalled(ctx context.Context, enterprise, team string) {
	ok, err := o.cfg.Store.DisableInstallation(ctx, enterprise, team)
	switch {
	case err != nil:
		o.log.Error("uninstall not recorded", "team", team, "enterprise", enterprise, "err", err)
	case ok:
		o.log.Info("uninstalled: tokens deleted, waiting deliveries canceled", "team", team, "enterprise", enterprise)
	}
	o.forget(enterprise, team)
}

// dropTokens drops the tokens kept in memory for a workspace, or with
// team empty for every workspace of the organisation.
func (o *OAuth) dropTokens(enterprise, team string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if team != "" {
		delete(o.cache, team)
		return
	}
	for t, c := range o.cache {
		if c.enterprise == enterprise {
			delete(o.cache, t)
		}
	}
}

// forget drops what this process keeps of an installation: its tokens,
// and for an organisation which workspaces use it.
func (o *OAuth) forget(enterprise, team string) {
	o.dropTokens(enterprise, team)
	if team != "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for t, e := range o.orgs {
		if e == enterprise {
			delete(o.orgs, t)
		}
	}
}

// Workspace hears that a workspace of an Enterprise Grid organisation
// uses trustbot: a request from it named the organisation's install, or
// Slack said the app was added to it (team_access_granted). When the
// organisation is installed for all its workspaces, the workspace is
// recorded as using that installation; with granted false, the app was
// taken from the workspace (team_access_revoked).
func (o *OAuth) Workspace(ctx context.Context, enterprise, team string, granted bool) {
	if enterprise == "" || team == "" {
		return
	}
	if !granted {
		ok, err := o.cfg.Store.RemoveOrgWorkspace(ctx, enterprise, team)
		switch {
		case err != nil:
			o.log.Error("workspace's removal not recorded", "team", team, "enterprise", enterprise, "err", err)
		case ok:
			o.log.Info("removed from an organisation's workspace: its waiting deliveries canceled", "team", team, "enterprise", enterprise)
		}
		o.mu.Lock()
		delete(o.orgs, team)
		delete(o.cache, team)
		o.mu.Unlock()
		return
	}
	o.mu.Lock()
	known := o.orgs[team] == enterprise
	o.mu.Unlock()
	if known {
		return
	}
	in, err := o.cfg.Store.Installation(ctx, enterprise, "")
	if err != nil || in.Disabled() {
		if trustbot.ErrorCode(err) != trustbot.ENOTFOUND && err != nil {
			o.log.Warn("organisation's installation not read", "enterprise", enterprise, "err", err)
		}
		return
	}
	added, err := o.cfg.Store.AddOrgWorkspace(ctx, enterprise, team)
	if err != nil {
		o.log.Error("organisation's workspace not recorded", "team", team, "enterprise", enterprise, "err", err)
		return
	}
	if added {
		o.log.Info("workspace uses its organisation's installation", "team", team, "enterprise", enterprise)
	}
	o.mu.Lock()
	o.orgs[team] = enterprise
	delete(o.cache, team)
	o.mu.Unlock()
}

// ---- pages ----

// langCookie keeps the language of the install page, so that the page
// Slack sends the browser back to speaks the one chosen there.
const langCookie = "trustbot_lang"

// pageLang picks the page's language: ?lang=, else the one the install
// page was last shown in (a cookie), else the browser's Accept-Language
// (the first of ja and en it names), else Japanese.
func pageLang(r *http.Request) trustbot.Lang {
	if l, ok := trustbot.ParseLang(r.URL.Query().Get("lang")); ok && l != "" {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := trustbot.ParseLang(c.Value); ok && l != "" {
			return l
		}
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case tag == "ja" || strings.HasPrefix(tag, "ja-"):
			return trustbot.Japanese
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return trustbot.English
		}
	}
	return trustbot.Japanese
}

// page is what the page template shows.
type page struct {
	Lang     trustbot.Lang
	Title    string
	Result   string // "" on the install page, else "success" or "error"
	Reason   string // why an error page is shown: denied, expired, replayed, browser, failed, unavailable
	Message  string
	Next     string
	Button   string
	Href     string // the Add to Slack link
	Again    string // the link back to the install page
	AgainTxt string
	Switch   string // the other language's name, on the install page
	SwitchTo string
}

// The pages are plain HTML with no script and nothing loaded from
// elsewhere. The result pages have no language switch: Slack's redirect
// can be followed once only, so they speak the install page's language.
var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"commands": commands}).Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;background:#f6f3ee;color:#1d1c1d;font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP","Noto Sans CJK JP",sans-serif;line-height:1.75}
header,main{max-width:40rem;margin:0 auto}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:1rem 1.25rem}
.brand{font-weight:700;letter-spacing:.02em}
main{--accent:#4a154b;background:linear-gradient(var(--accent),var(--accent)) top/100% .35rem no-repeat,#fff;border-radius:.75rem;box-shadow:0 1px 4px rgba(0,0,0,.12);padding:2.25rem 2.25rem 1rem;margin-bottom:3rem}
main[data-result=success]{--accent:#2b7a3d}
main[data-result=error]{--accent:#b3261e}
h1{font-size:1.5rem;line-height:1.4;margin:0 0 1rem;text-wrap:balance}
:lang(ja) h1,:lang(ja) p{word-break:auto-phrase}
p{margin:0 0 1.25rem}
a{color:#1264a3}
a:focus-visible{outline:3px solid #1264a3;outline-offset:3px;border-radius:.25rem}
#add-to-slack{display:inline-block;padding:.75rem 1.5rem;border-radius:.5rem;background:#4a154b;color:#fff;text-decoration:none;font-weight:700;font-size:1.05rem}
#add-to-slack:hover{background:#611f69}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:#f0ecef;padding:.1em .35em;border-radius:.25rem;white-space:nowrap}
#next{background:#eef6ef;border-left:.3rem solid #2b7a3d;padding:.75rem 1rem;border-radius:.25rem}
@media (max-width:30rem){main{margin:0 .75rem 2rem;padding:1.75rem 1.25rem .5rem}h1{font-size:1.3rem}#add-to-slack{display:block;text-align:center}}
</style>
</head>
<body>
<header><span class="brand">trustbot</span>{{if .SwitchTo}}<a id="lang-switch" href="?lang={{.SwitchTo}}" hreflang="{{.SwitchTo}}" lang="{{.SwitchTo}}">{{.Switch}}</a>{{end}}</header>
<main id="page"{{if .Result}} data-result="{{.Result}}"{{end}}{{if .Reason}} data-reason="{{.Reason}}"{{end}}>
<h1 id="title">{{.Title}}</h1>
<p id="message">{{commands .Message}}</p>
{{if .Next}}<p id="next">{{commands .Next}}</p>{{end}}
{{if .Href}}<p><a id="add-to-slack" href="{{.Href}}">{{.Button}}</a></p>{{end}}
{{if .Again}}<p><a id="try-again" href="{{.Again}}">{{.AgainTxt}}</a></p>{{end}}
</main>
</body>
</html>
`))

// trustCommand is a /trust command in a page's text.
var trustCommand = regexp.MustCompile(`/trust(?: help)?`)

// commands escapes text and sets its /trust commands apart, each kept on
// one line.
func commands(text string) template.HTML {
	return template.HTML(trustCommand.ReplaceAllString(template.HTMLEscapeString(text), "<code>$0</code>"))
}

func (o *OAuth) render(w http.ResponseWriter, status int, p page) {
	if p.Result == "" {
		other := trustbot.English
		if p.Lang == trustbot.English {
			other = trustbot.Japanese
		}
		p.SwitchTo, p.Switch = string(other), o.cfg.T(other, "install.language")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, p); err != nil {
		o.log.Warn("page not written", "err", err)
	}
}

// failure is the error page for reason in lang.
func (o *OAuth) failure(lang trustbot.Lang, reason string) page {
	return page{Lang: lang, Title: o.cfg.T(lang, "install.failed.title"), Result: "error", Reason: reason,
		Message: o.cfg.T(lang, "install."+reason), Again: InstallPath + "?lang=" + string(lang), AgainTxt: o.cfg.T(lang, "install.again")}
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveInstall shows the install page. Its button carries a fresh state,
// recorded with the hash of this browser's secret (a cookie set here).
func (o *OAuth) serveInstall(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	secret := ""
	if c, err := r.Cookie(browserCookie); err == nil && len(c.Value) == 43 {
		secret = c.Value
	}
	if secret == "" {
		secret = random()
	}
	state := random()
	if err := o.cfg.Store.SaveOAuthState(r.Context(), hash(state), hash(secret), o.cfg.Now().Add(StateTTL)); err != nil {
		o.log.Error("install state not saved", "err", err)
		o.render(w, http.StatusServiceUnavailable, o.failure(lang, "unavailable"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(lang), Path: "/slack/", MaxAge: int(StateTTL / time.Second),
		HttpOnly: true, Secure: strings.HasPrefix(o.cfg.PublicURL, "https://"), SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: secret, Path: "/slack/", MaxAge: int(StateTTL / time.Second),
		HttpOnly: true, Secure: strings.HasPrefix(o.cfg.PublicURL, "https://"), SameSite: http.SameSiteLaxMode})
	q := url.Values{"client_id": {o.cfg.ClientID}, "scope": {strings.Join(BotScopes, ",")}, "redirect_uri": {o.RedirectURL()}, "state": {state}}
	o.render(w, http.StatusOK, page{Lang: lang, Title: o.cfg.T(lang, "install.title"), Message: o.cfg.T(lang, "install.text"),
		Button: o.cfg.T(lang, "install.button"), Href: o.cfg.AuthorizeURL + "?" + q.Encode()})
}

// serveCallback finishes an install: the state checked against this
// browser, the code exchanged, the installation stored.
func (o *OAuth) serveCallback(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	q := r.URL.Query()
	fail := func(status int, reason string) {
		o.log.Warn("install refused", "result", reason)
		o.render(w, status, o.failure(lang, reason))
	}
	state := q.Get("state")
	secret := ""
	if c, err := r.Cookie(browserCookie); err == nil {
		secret = c.Value
	}
	if state == "" {
		fail(http.StatusBadRequest, "replayed")
		return
	}
	err := o.cfg.Store.ConsumeOAuthState(r.Context(), hash(state), hash(secret), o.cfg.Now())
	switch {
	case errors.Is(err, trustbot.ErrStateUnknown):
		fail(http.StatusBadRequest, "replayed")
		return
	case errors.Is(err, trustbot.ErrStateExpired):
		fail(http.StatusBadRequest, "expired")
		return
	case errors.Is(err, trustbot.ErrStateBrowser):
		fail(http.StatusForbidden, "browser")
		return
	case err != nil:
		o.log.Error("install state not read", "err", err)
		fail(http.StatusServiceUnavailable, "unavailable")
		return
	}
	if e := q.Get("error"); e != "" {
		o.log.Info("install canceled on Slack's page", "error", clip(e, 40))
		fail(http.StatusOK, "denied")
		return
	}
	res, err := slack.GetOAuthV2ResponseContext(r.Context(), o.cfg.HTTPClient, o.cfg.ClientID, o.cfg.ClientSecret, q.Get("code"), o.RedirectURL(),
		slack.OAuthOptionAPIURL(o.cfg.APIURL))
	if err != nil {
		o.log.Error("oauth.v2.access failed", "err", err)
		fail(http.StatusBadGateway, "failed")
		return
	}
	in := trustbot.Installation{Enterprise: res.Enterprise.ID, Team: res.Team.ID, AppID: res.AppID, BotUser: res.BotUserID,
		Scopes: res.Scope, BotToken: res.AccessToken, RefreshToken: res.RefreshToken, Installer: res.AuthedUser.ID}
	if res.IsEnterpriseInstall {
		in.Team = ""
	}
	if res.ExpiresIn > 0 {
		in.ExpiresAt = o.cfg.Now().Add(time.Duration(res.ExpiresIn) * time.Second)
	}
	if in.Team == "" && in.Enterprise == "" || in.BotToken == "" {
		o.log.Error("oauth.v2.access answered without a workspace or a bot token")
		fail(http.StatusBadGateway, "failed")
		return
	}
	if err := o.cfg.Store.SaveInstallation(r.Context(), in); err != nil {
		o.log.Error("installation not saved", "team", in.Team, "enterprise", in.Enterprise, "err", err)
		fail(http.StatusServiceUnavailable, "unavailable")
		return
	}
	o.forget(in.Enterprise, in.Team)
	select {
	case o.installed <- struct{}{}:
	default:
	}
	o.log.Info("installed", "team", in.Team, "enterprise", in.Enterprise, "installer", in.Installer, "expires", in.ExpiresAt)
	name := res.Team.Name
	if name == "" {
		name = res.Enterprise.Name
	}
	o.render(w, http.StatusOK, page{Lang: lang, Title: o.cfg.T(lang, "install.done.title"), Result: "success",
		Message: o.cfg.T(lang, "install.done", "workspace", name), Next: o.cfg.T(lang, "install.next")})
}
