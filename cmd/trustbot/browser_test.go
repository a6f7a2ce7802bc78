package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The browser test opens the install page and the pages Slack sends the
// browser back to in headless Chromium (Debian's chromium package).
// Without it the test is skipped, unless TRUSTBOT_BROWSER_REQUIRED=1
// (make test-browser) makes it fail. A screenshot of every page it
// sees, on a desktop and on a 390 px wide phone, goes to
// $TRUSTBOT_SCREENSHOTS, else to a temporary folder kept only when the
// test fails.
const (
	browserRequiredEnv = "TRUSTBOT_BROWSER_REQUIRED"
	screenshotsEnv     = "TRUSTBOT_SCREENSHOTS"
	chromiumEnv        = "TRUSTBOT_CHROMIUM" // the browser's path, when it is not chromium on PATH
)

// findChromium returns the path of the browser, or skips the test (fails
// it when the browser is required).
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH: the install pages are not tested in a browser (apt-get install chromium fonts-noto-cjk, then make test-browser)"
	if os.Getenv(browserRequiredEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// screenshotDir returns the folder the screenshots go to.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		d, err := os.MkdirTemp("", "trustbot-screenshots-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if !t.Failed() {
				os.RemoveAll(d)
			}
		})
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { t.Logf("screenshots of the install pages: %s", abs) })
	return abs
}

// pageView is what a person sees of a page of the install flow.
type pageView struct {
	Lang        string  `json:"lang"`
	DocTitle    string  `json:"docTitle"`
	Title       string  `json:"title"`
	Message     string  `json:"message"`
	Next        *string `json:"next"`
	Button      *string `json:"button"`
	ButtonHref  string  `json:"buttonHref"`
	Switch      *string `json:"switch"`
	SwitchLang  string  `json:"switchLang"`
	TryAgain    *string `json:"tryAgain"`
	Result      string  `json:"result"`
	Reason      string  `json:"reason"`
	Headings    int     `json:"headings"`
	Body        string  `json:"body"`
	Resources   int     `json:"resources"`
	Scripts     int     `json:"scripts"`
	ScrollWidth int     `json:"scrollWidth"`
	InnerWidth  int     `json:"innerWidth"`
}

const readPage = `(() => {
	const el = id => document.getElementById(id);
	const text = id => el(id) ? el(id).innerText.trim() : null;
	const page = el('page');
	return {
		lang: document.documentElement.lang, docTitle: document.title,
		title: text('title') || '', message: text('message') || '', next: text('next'),
		button: text('add-to-slack'), buttonHref: el('add-to-slack') ? el('add-to-slack').href : '',
		switch: text('lang-switch'), switchLang: el('lang-switch') ? el('lang-switch').getAttribute('hreflang') : '',
		tryAgain: el('try-again') ? el('try-again').getAttribute('href') : null,
		result: page ? (page.dataset.result || '') : 'none', reason: page ? (page.dataset.reason || '') : '',
		headings: document.querySelectorAll('h1').length, body: document.body.innerText,
		resources: performance.getEntriesByType('resource').length, scripts: document.scripts.length,
		scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
	};
})()`

// tab is one browser tab with cookies of its own (a browser context).
type tab struct {
	t   *testing.T
	ctx context.Context
	dir string // of the screenshots
}

const desktopWidth, desktopHeight, phoneWidth, phoneHeight = 1280, 800, 390, 844

// newTab opens a tab in a new browser context of browser, whose requests
// say acceptLanguage.
func newTab(t *testing.T, browser context.Context, dir, acceptLanguage string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, stop := context.WithTimeout(ctx, patience)
	t.Cleanup(stop)
	tb := &tab{t: t, ctx: ctx, dir: dir}
	tb.do(chromedp.EmulateViewport(desktopWidth, desktopHeight))
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": acceptLanguage}}); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

// open loads u (following redirects) and returns the final status.
func (tb *tab) open(u string) int64 {
	tb.t.Helper()
	res, err := chromedp.RunResponse(tb.ctx, chromedp.Navigate(u))
	if err != nil || res == nil {
		tb.t.Fatalf("opening %s: %v", u, err)
	}
	return res.Status
}

// click follows the link with the given ID and returns the final status.
func (tb *tab) click(id string) int64 {
	tb.t.Helper()
	res, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible))
	if err != nil || res == nil {
		tb.t.Fatalf("clicking #%s: %v", id, err)
	}
	return res.Status
}

// back goes back in the tab's history, to a page whose URL starts with
// want, and waits until the tab's main frame has navigated there.
// Chromium may show the page again from its back-forward cache, with no
// load event: the frame's navigation is reported either way. Nothing is
// evaluated in the page while it changes, which would fail with "target
// navigated".
func (tb *tab) back(want string) {
	tb.t.Helper()
	listen, stop := context.WithCancel(tb.ctx)
	defer stop()
	arrived := make(chan struct{})
	var once sync.Once
	if err := chromedp.Listen(listen, func(ev any) {
		if nav, ok := ev.(*page.EventFrameNavigated); ok && nav.Frame != nil && nav.Frame.ParentID == "" && strings.HasPrefix(nav.Frame.URL, want) {
			once.Do(func() { close(arrived) })
		}
	}); err != nil {
		tb.t.Fatal(err)
	}
	history, err := chromedp.Call(tb.ctx, page.GetNavigationHistory, cdp.Empty{})
	if err != nil {
		tb.t.Fatal(err)
	}
	if history.CurrentIndex <= 0 || history.CurrentIndex >= int64(len(history.Entries)) {
		tb.t.Fatalf("back: no earlier page (entry %d of %d)", history.CurrentIndex, len(history.Entries))
	}
	if prev := history.Entries[history.CurrentIndex-1]; !strings.HasPrefix(prev.URL, want) {
		tb.t.Fatalf("back: the earlier page is %s, not %s", prev.URL, want)
	} else if _, err := chromedp.Call(tb.ctx, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: prev.ID}); err != nil {
		tb.t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-tb.ctx.Done():
		tb.t.Fatalf("back: never reached %s", want)
	}
}

func (tb *tab) location() string {
	tb.t.Helper()
	u, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatal(err)
	}
	return u
}

// view reads the page and checks what every page of the flow must be:
// in lang, one heading, nothing loaded from elsewhere, no script, no
// program's error text, no sideways scrolling.
func (tb *tab) view(lang trustbot.Lang) pageView {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[pageView](readPage))
	if err != nil {
		tb.t.Fatal(err)
	}
	if v.Lang != string(lang) || v.Headings != 1 || v.Title == "" || v.DocTitle != v.Title || v.Message == "" || v.Result == "none" {
		tb.t.Fatalf("page %s in %s: lang %q, %d headings, title %q (document %q), message %q, result %q\n%s",
			tb.location(), lang, v.Lang, v.Headings, v.Title, v.DocTitle, v.Message, v.Result, v.Body)
	}
	if v.Resources != 0 || v.Scripts != 0 {
		tb.t.Errorf("page %s loads %d resources and has %d scripts", tb.location(), v.Resources, v.Scripts)
	}
	for _, bad := range []string{"goroutine", "panic", ".go:", "runtime", "error:", "invalid_", "access_denied", "oauth.v2", "sqlite", "SQL", "<nil>", "%!", "{{", "install.", "http://"} {
		if strings.Contains(v.Body, bad) {
			tb.t.Errorf("page %s shows %q:\n%s", tb.location(), bad, v.Body)
		}
	}
	if v.ScrollWidth > v.InnerWidth {
		tb.t.Errorf("page %s is %d px wide in a %d px window", tb.location(), v.ScrollWidth, v.InnerWidth)
	}
	return v
}

// shoot saves a screenshot of the whole page on a desktop and on a phone,
// and checks that the phone needs no sideways scrolling.
func (tb *tab) shoot(name string, lang trustbot.Lang) {
	tb.t.Helper()
	tb.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	for _, size := range []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{{"desktop", desktopWidth, desktopHeight, nil}, {"mobile", phoneWidth, phoneHeight, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateScale(2)}}} {
		tb.do(chromedp.EmulateViewport(size.width, size.height, size.opts...))
		tb.view(lang)
		png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			tb.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tb.dir, fmt.Sprintf("%s-%s-%s.png", name, lang, size.name)), png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
	tb.do(chromedp.EmulateViewport(desktopWidth, desktopHeight))
}

// focusOutline presses Tab and returns the id and the outline of what
// has the focus then.
func (tb *tab) focusOutline() (string, string) {
	tb.t.Helper()
	tb.do(chromedp.KeyEvent("\t"))
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`(() => { const e = document.activeElement, s = getComputedStyle(e); return [e.id, s.outlineStyle + ' ' + s.outlineWidth]; })()`))
	if err != nil || len(v) != 2 {
		tb.t.Fatalf("focus: %v %v", v, err)
	}
	return v[0], v[1]
}

// checkInstallPage checks the install page in lang and returns where
// its button leads.
func checkInstallPage(t *testing.T, tb *tab, lib *playbook.Library, lang trustbot.Lang) pageView {
	t.Helper()
	other := trustbot.English
	if lang == trustbot.English {
		other = trustbot.Japanese
	}
	v := tb.view(lang)
	if v.Title != lib.T(lang, "install.title") || v.Message != lib.T(lang, "install.text") || v.Button == nil || *v.Button != lib.T(lang, "install.button") ||
		v.Switch == nil || *v.Switch != lib.T(other, "install.language") || v.SwitchLang != string(other) || v.Result != "" || v.TryAgain != nil || v.Next != nil {
		t.Fatalf("install page in %s: %+v", lang, v)
	}
	return v
}

// checkAuthorizeURL checks that href is the fake Slack's authorize page
// asking for trustbot's scopes for callback, and returns its state.
func checkAuthorizeURL(t *testing.T, fake *fakeslack.Server, href, callback string) string {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil || !strings.HasPrefix(href, fake.AuthorizeURL()+"?") {
		t.Fatalf("the button leads to %s (%v), not to %s", href, err, fake.AuthorizeURL())
	}
	q := u.Query()
	scopes := readManifestFile(t, "manifest-http.yaml").OAuth.Scopes.Bot
	got := strings.Split(q.Get("scope"), ",")
	slices.Sort(got)
	scopes = slices.Sorted(slices.Values(scopes))
	if q.Get("client_id") != "cid" || !slices.Equal(got, scopes) || q.Get("redirect_uri") != callback || len(q.Get("state")) < 32 {
		t.Fatalf("the button asks for client_id %q, scopes %v (the manifest's: %v), redirect_uri %q, state %q",
			q.Get("client_id"), got, scopes, q.Get("redirect_uri"), q.Get("state"))
	}
	return q.Get("state")
}

// installedTeam reads a workspace's installation row: whether it is
// there, enabled, with a sealed token.
func installedTeam(t *testing.T, db rawDB, team string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM installations WHERE team = ? AND disabled_at = 0 AND bot_token != '' AND sealed`, team).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestInstallPagesInBrowser: in headless Chromium, in Japanese and in
// English (chosen by the browser's Accept-Language or by the page's
// switch), the install page's button leads to Slack's authorize page
// with trustbot's client ID, scopes, redirect URL and a state; approving
// there shows the success page, which says what to do next, and stores
// the installation. The callback URL opened again, a state more than 10
// minutes old, a state from another browser, a canceled install and a
// code Slack does not take back each get the error page, which says what happened and leads back to the
// install page. A screenshot of each page in each language is kept.
func TestInstallPagesInBrowser(t *testing.T) {
	chromium := findChromium(t)
	dir := screenshotDir(t)
	lib := mustLibrary(t)
	bot := MustRunSlackOAuth(t)
	fake := bot.Slack
	base := "http://" + bot.Public
	callback := base + "/slack/oauth/callback"
	db := openRaw(t, bot.DB)
	t.Cleanup(func() { db.Close() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.WindowSize(desktopWidth, desktopHeight),
		// Loopback only: no host but 127.0.0.1 is reached, no component fetched.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), chromedp.Flag("disable-component-update", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("chromium (%s) did not start: %v", chromium, err)
	}

	langs := []struct {
		lang             trustbot.Lang
		accept, opposite string
	}{{trustbot.Japanese, "ja-JP,ja;q=0.9,en;q=0.5", "en-US,en;q=0.9"}, {trustbot.English, "en-GB,en;q=0.9", "ja,en;q=0.5"}}
	n := 0
	for _, l := range langs {
		lang := l.lang
		for _, how := range []string{"AcceptLanguage", "Switch"} {
			t.Run(fmt.Sprintf("Install/%s/%s", lang, how), func(t *testing.T) {
				var tb *tab
				if how == "AcceptLanguage" {
					tb = newTab(t, browser, dir, l.accept)
					if status := tb.open(base + "/slack/install"); status != 200 {
						t.Fatalf("install page: %d", status)
					}
				} else {
					// A browser that asks for the other language; the
					// page's switch changes it.
					tb = newTab(t, browser, dir, l.opposite)
					tb.open(base + "/slack/install")
					before := tb.view(map[trustbot.Lang]trustbot.Lang{trustbot.Japanese: trustbot.English, trustbot.English: trustbot.Japanese}[lang])
					if before.SwitchLang != string(lang) {
						t.Fatalf("the switch leads to %q", before.SwitchLang)
					}
					if status := tb.click("lang-switch"); status != 200 {
						t.Fatalf("switched install page: %d", status)
					}
				}
				v := checkInstallPage(t, tb, lib, lang)
				if how == "AcceptLanguage" {
					// The keyboard reaches the switch, then the button,
					// each outlined when focused.
					for _, want := range []string{"lang-switch", "add-to-slack"} {
						if id, outline := tb.focusOutline(); id != want || !strings.HasPrefix(outline, "solid") {
							t.Errorf("Tab focuses #%s, outlined %q; want #%s outlined", id, outline, want)
						}
					}
					tb.shoot("install", lang)
				}
				state := checkAuthorizeURL(t, fake, v.ButtonHref, callback)

				n++
				team, name := fmt.Sprintf("TBROWSER%d", n), fmt.Sprintf("Browser Works %d", n)
				fake.NextInstall(fakeslack.Install{Team: team, TeamName: name, User: fmt.Sprintf("UBROWSER%d", n)})
				asked := len(fake.Authorizes())
				if status := tb.click("add-to-slack"); status != 200 {
					t.Fatalf("after approving: %d\n%s", status, bot.Stderr)
				}
				// The browser went to the authorize page with the state
				// the button carried, and came back to the callback.
				if a := fake.Authorizes(); len(a) != asked+1 || a[asked].State != state || a[asked].RedirectURI != callback {
					t.Fatalf("authorize requests: %+v", a[asked:])
				}
				back := tb.location()
				if !strings.HasPrefix(back, callback+"?") {
					t.Fatalf("approving led to %s", back)
				}
				v = tb.view(lang)
				if v.Result != "success" || v.Reason != "" || v.Title != lib.T(lang, "install.done.title") ||
					v.Message != lib.T(lang, "install.done", "workspace", name) || v.Next == nil || *v.Next != lib.T(lang, "install.next") ||
					!strings.Contains(*v.Next, "/trust") || v.Button != nil || v.Switch != nil || v.TryAgain != nil {
					t.Fatalf("success page in %s: %+v", lang, v)
				}
				if !installedTeam(t, db, team) {
					t.Fatalf("%s is not installed", team)
				}
				if how == "AcceptLanguage" {
					tb.shoot("success", lang)
				}

				// Back to the install page, then the same callback URL
				// again: refused.
				tb.back(base + "/slack/install")
				if status := tb.open(back); status != 400 {
					t.Fatalf("callback opened again: %d", status)
				}
				checkErrorPage(t, tb, lib, lang, "replayed")
				if how == "AcceptLanguage" {
					tb.shoot("error-replayed", lang)
				}
				// Its link leads back to the install page, in the same
				// language, with a new state.
				if status := tb.click("try-again"); status != 200 {
					t.Fatalf("try again: %d", status)
				}
				if again := checkInstallPage(t, tb, lib, lang); checkAuthorizeURL(t, fake, again.ButtonHref, callback) == state {
					t.Fatal("the install page gave the same state again")
				}
			})
		}

		t.Run(fmt.Sprintf("Expired/%s", lang), func(t *testing.T) {
			tb := newTab(t, browser, dir, l.accept)
			tb.open(base + "/slack/install")
			state := checkAuthorizeURL(t, fake, checkInstallPage(t, tb, lib, lang).ButtonHref, callback)
			// The state was handed out 10 minutes and a second ago.
			sum := sha256.Sum256([]byte(state))
			res, err := db.Exec(`UPDATE oauth_states SET expires_at = ? WHERE state = ?`, time.Now().Add(-time.Second).Unix(), hex.EncodeToString(sum[:]))
			if n, _ := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("aging the state: %d rows, %v", n, err)
			}
			fake.NextInstall(fakeslack.Install{Team: "TEXPIRED", User: "UEXPIRED"})
			if status := tb.click("add-to-slack"); status != 400 {
				t.Fatalf("expired state: %d", status)
			}
			checkErrorPage(t, tb, lib, lang, "expired")
			tb.shoot("error-expired", lang)
			if installedTeam(t, db, "TEXPIRED") {
				t.Fatal("installed with an expired state")
			}
		})

		t.Run(fmt.Sprintf("AnotherBrowser/%s", lang), func(t *testing.T) {
			// Someone else's browser is given the link of a page opened
			// here: it has not the cookie that goes with the state.
			mine := newTab(t, browser, dir, l.accept)
			mine.open(base + "/slack/install")
			href := checkInstallPage(t, mine, lib, lang).ButtonHref
			theirs := newTab(t, browser, dir, l.accept)
			fake.NextInstall(fakeslack.Install{Team: "TSTOLEN", User: "USTOLEN"})
			if status := theirs.open(href); status != 403 {
				t.Fatalf("state from another browser: %d", status)
			}
			checkErrorPage(t, theirs, lib, lang, "browser")
			theirs.shoot("error-browser", lang)
			if installedTeam(t, db, "TSTOLEN") {
				t.Fatal("installed from another browser")
			}
		})

		t.Run(fmt.Sprintf("ExchangeFails/%s", lang), func(t *testing.T) {
			// Slack does not take the code back: the page says so, in
			// words, and none of the error Slack gave shows.
			tb := newTab(t, browser, dir, l.accept)
			tb.open(base + "/slack/install")
			checkInstallPage(t, tb, lib, lang)
			fake.NextInstall(fakeslack.Install{Team: "TFAILED", User: "UFAILED"})
			fake.FailNext("oauth.v2.access", "invalid_code", 1)
			if status := tb.click("add-to-slack"); status != 502 {
				t.Fatalf("exchange failed: %d", status)
			}
			checkErrorPage(t, tb, lib, lang, "failed")
			tb.shoot("error-failed", lang)
			if installedTeam(t, db, "TFAILED") {
				t.Fatal("installed though the exchange failed")
			}
		})

		t.Run(fmt.Sprintf("Denied/%s", lang), func(t *testing.T) {
			tb := newTab(t, browser, dir, l.accept)
			tb.open(base + "/slack/install")
			checkInstallPage(t, tb, lib, lang)
			fake.NextInstall(fakeslack.Install{Team: "TDENIED", User: "UDENIED", Deny: true})
			if status := tb.click("add-to-slack"); status != 200 {
				t.Fatalf("canceled on Slack's page: %d", status)
			}
			if u := tb.location(); !strings.Contains(u, "error=access_denied") {
				t.Fatalf("canceling led to %s", u)
			}
			checkErrorPage(t, tb, lib, lang, "denied")
			tb.shoot("error-denied", lang)
			if installedTeam(t, db, "TDENIED") {
				t.Fatal("installed though canceled")
			}
		})
	}
}

// checkErrorPage checks the error page for reason in lang: what went
// wrong, in words, and a link back to the install page.
func checkErrorPage(t *testing.T, tb *tab, lib *playbook.Library, lang trustbot.Lang, reason string) {
	t.Helper()
	v := tb.view(lang)
	if v.Result != "error" || v.Reason != reason || v.Title != lib.T(lang, "install.failed.title") || v.Message != lib.T(lang, "install."+reason) ||
		v.TryAgain == nil || *v.TryAgain != "/slack/install?lang="+string(lang) || v.Button != nil || v.Switch != nil || v.Next != nil {
		t.Fatalf("error page (%s) in %s: %+v", reason, lang, v)
	}
}
