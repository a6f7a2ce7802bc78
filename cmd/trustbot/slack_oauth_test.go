package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Users of two workspaces installed through "Add to Slack".
const (
	teamA, userA = "TALPHA", "UALPHA1"
	teamB, userB = "TBETA", "UBETA1"
	oauthKey     = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes
)

// oauthEnv is the environment of trustbot installed through OAuth
// against fake, with no bot token of its own.
func oauthEnv(fake *fakeslack.Server, db, httpAddr string) map[string]string {
	return map[string]string{
		"SLACK_SIGNING_SECRET":    fakeslack.SigningSecret,
		"SLACK_CLIENT_ID":         "cid",
		"SLACK_CLIENT_SECRET":     "csecret",
		"SLACK_API_URL":           fake.APIURL(),
		"SLACK_AUTHORIZE_URL":     fake.AuthorizeURL(),
		"TRUSTBOT_ENCRYPTION_KEY": oauthKey,
		"TRUSTBOT_DB":             db,
		"TRUSTBOT_HTTP_ADDR":      httpAddr,
		"LOG_LEVEL":               "debug",
	}
}

func oauthFake(tb testing.TB) *fakeslack.Server {
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	fake.SetOAuth("cid", "csecret")
	fake.AddUser(fakeslack.User{ID: userA, TeamID: teamA, TZ: "Asia/Tokyo", Locale: "ja-JP"})
	fake.AddUser(fakeslack.User{ID: userB, TeamID: teamB, TZ: "Europe/London", Locale: "en-GB"})
	return fake
}

// MustRunSlackOAuth starts "trustbot serve" installed through OAuth, in
// HTTP mode, with no workspace installed yet.
func MustRunSlackOAuth(tb testing.TB) *Bot {
	tb.Helper()
	fake := oauthFake(tb)
	b := &Bot{Slack: fake, Stderr: &syncBuffer{}, DB: newDB(tb), HTTP: freeAddr(tb)}
	b.Env = oauthEnv(fake, b.DB, b.HTTP)
	b.setPublic(freeAddr(tb))
	tb.Cleanup(func() { b.Stop(tb) })
	b.Start(tb)
	return b
}

var addToSlack = regexp.MustCompile(`id="add-to-slack" href="([^"]+)"`)

// pageResult reads what a page shows: nothing on the install page,
// "success", or "error" and its reason.
var pageResult = regexp.MustCompile(`<main id="page"(?: data-result="([a-z]+)")?(?: data-reason="([a-z]+)")?>`)

// installBrowser is a browser with its own cookies.
type installBrowser struct {
	*http.Client
	last string // the last URL a redirect led to
}

func newInstallBrowser(tb testing.TB) *installBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	b := &installBrowser{}
	b.Client = &http.Client{Jar: jar, Timeout: patience, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		b.last = r.URL.String()
		return nil
	}}
	return b
}

// open returns the status of a page and its result: "" on the install
// page, "success", or an error page's reason.
func (b *installBrowser) open(tb testing.TB, u string) (int, string, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Language", "en")
	res, err := b.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := pageResult.FindStringSubmatch(string(body))
	if m == nil {
		tb.Fatalf("%s: %d not a page of the install flow: %s", u, res.StatusCode, body)
	}
	if m[1] == "error" {
		return res.StatusCode, string(body), m[2]
	}
	return res.StatusCode, string(body), m[1]
}

// install adds trustbot to team as user through the install page, as a
// browser would, and returns the callback URL it was sent to.
func (b *installBrowser) install(tb testing.TB, fake *fakeslack.Server, public, team, user string) string {
	tb.Helper()
	return b.installAs(tb, fake, public, fakeslack.Install{Team: team, TeamName: team + " Inc.", User: user})
}

// installAs goes through the install page with what the person on
// Slack's page does.
func (b *installBrowser) installAs(tb testing.TB, fake *fakeslack.Server, public string, in fakeslack.Install) string {
	tb.Helper()
	_, page, _ := b.open(tb, "http://"+public+"/slack/install")
	m := addToSlack.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("no Add to Slack button: %s", page)
	}
	fake.NextInstall(in)
	status, page, result := b.open(tb, html.UnescapeString(m[1]))
	if status != http.StatusOK || result != "success" {
		tb.Fatalf("installing %+v: %d %q %s", in, status, result, page)
	}
	return b.last
}

// slashIn sends "/trust text" from a user of a workspace and returns the
// answer's text.
func slashIn(tb testing.TB, b *Bot, team, user, text string) string {
	tb.Helper()
	respURL := b.Slack.NewResponseURL()
	d, err := b.Slack.PostSlashCommand(fakeslack.SlashCommand{TeamID: team, UserID: user, Text: text, ResponseURL: respURL})
	if err != nil || !d.OK() {
		tb.Fatalf("/trust %s in %s: %d (%v)\n%s", text, team, d.Status, err, b.Stderr)
	}
	return b.response(tb, respURL, 1).raw
}

// postsBy returns the workspaces whose tokens posted to channel (with an
// organisation's token, the workspace it acted in after a "+" and the
// organisation).
func postsBy(fake *fakeslack.Server, channel string) []string {
	var teams []string
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Params["channel"] == channel || c.Params["channel"] == strings.TrimPrefix(channel, "D") {
			if c.Enterprise != "" {
				teams = append(teams, c.Team+"+"+c.Enterprise)
				continue
			}
			teams = append(teams, c.Team)
		}
	}
	return teams
}

// waitRenewed waits until trustbot renewed a token with its refresh
// token, and returns when it asked.
func waitRenewed(tb testing.TB, fake *fakeslack.Server) time.Time {
	tb.Helper()
	for deadline := time.Now().Add(patience); ; time.Sleep(20 * time.Millisecond) {
		for _, c := range fake.Calls("oauth.v2.access") {
			if c.Params["grant_type"] == "refresh_token" {
				return c.At
			}
		}
		if time.Now().After(deadline) {
			tb.Fatal("no token was renewed")
		}
	}
}

// TestSlackOAuthEndToEnd: two workspaces install trustbot through "Add
// to Slack" and use it apart, each with its own token; a renewed token
// is used once renewed; an uninstalled workspace gets nothing more while
// the other keeps working.
func TestSlackOAuthEndToEnd(t *testing.T) {
	t.Parallel() // its own fake Slack and database
	lib := mustLibrary(t)
	bot := MustRunSlackOAuth(t)
	fake := bot.Slack
	browser := newInstallBrowser(t)

	callback := browser.install(t, fake, bot.Public, teamA, userA)
	// B's app rotates its tokens: the first lasts 4 seconds, and trustbot
	// renews it (for 12 hours) with its refresh token before it expires,
	// though nothing used it meanwhile.
	fake.SetTokenRotation(4 * time.Second)
	installed := time.Now()
	browser.install(t, fake, bot.Public, teamB, userB)
	fake.SetTokenRotation(12 * time.Hour)
	if renewed := waitRenewed(t, fake); !renewed.Before(installed.Add(4 * time.Second)) {
		t.Fatalf("B's token renewed %v after the install, once it had expired", renewed.Sub(installed))
	}

	t.Run("StateUsedOnce", func(t *testing.T) {
		if status, _, result := browser.open(t, callback); status != http.StatusBadRequest || result != "replayed" {
			t.Fatalf("replayed callback: %d %q", status, result)
		}
		if status, _, result := newInstallBrowser(t).open(t, "http://"+bot.Public+"/slack/oauth/callback?code=x&state=y"); status != http.StatusBadRequest || result != "replayed" {
			t.Fatalf("made-up state: %d %q", status, result)
		}
	})

	slashIn(t, bot, teamA, userA, "checkin weekly 金 16:00")
	slashIn(t, bot, teamB, userB, "checkin weekly fri 16:00")

	t.Run("ForgedTeam", func(t *testing.T) {
		// A's user named in B's workspace is another person there: none
		// of A's data, and B's token cannot look A's user up.
		got := slashIn(t, bot, teamB, userA, "checkin status")
		if !strings.Contains(got, lib.T(trustbot.Japanese, "checkin.none")) && !strings.Contains(got, lib.T(trustbot.English, "checkin.none")) {
			t.Fatalf("A's user in B sees: %s", got)
		}
	})

	due := bot.dueAt(t, userA)
	if dueB := bot.dueAt(t, userB); dueB.After(due) {
		due = dueB
	}
	bot.Dispatch(t, "--now", due.Format(time.RFC3339))
	if got := postsBy(fake, "D"+userA); len(got) != 1 || got[0] != teamA {
		t.Fatalf("A's check-in posted by %v\n%s", got, bot.Stderr)
	}
	if got := postsBy(fake, "D"+userB); len(got) != 1 || got[0] != teamB {
		t.Fatalf("B's check-in posted by %v\n%s", got, bot.Stderr)
	}
	refreshes := 0
	for _, c := range fake.Calls("oauth.v2.access") {
		if c.Params["grant_type"] == "refresh_token" {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Fatalf("%d token renewals, want 1", refreshes)
	}

	t.Run("Uninstall", func(t *testing.T) {
		if _, err := fake.Uninstall(teamA); err != nil {
			t.Fatal(err)
		}
		bot.waitLog(t, `msg="uninstalled: tokens deleted, waiting deliveries canceled" component=slack-oauth team=`+teamA)
		calls := len(fake.Calls(""))
		// The next check-ins: B's goes out, A's does not, and nothing is
		// asked of Slack for A.
		next := due.Add(8 * 24 * time.Hour)
		out := bot.Dispatch(t, "--now", next.Format(time.RFC3339))
		if !strings.Contains(out, "not_installed checkin  "+teamA+" "+userA) || !strings.Contains(out, "1 failed") {
			t.Fatalf("A's check-in after the uninstall:\n%s", out)
		}
		for _, c := range fake.Calls("")[calls:] {
			if c.Token != "" && c.Team != teamB { // (the clock is read without a token)
				t.Errorf("after A's uninstall, Slack was asked %s as %q with %q", c.Method, c.Team, c.Params)
			}
		}
		if got := postsBy(fake, "D"+userB); len(got) != 2 {
			t.Fatalf("B after A's uninstall: %v\n%s", got, bot.Stderr)
		}
		if got := postsBy(fake, "D"+userA); len(got) != 1 {
			t.Fatalf("A after its uninstall: %v", got)
		}
		// A's check-in was recorded as not sent: not tried again.
		if out := bot.Dispatch(t, "--now", next.Add(time.Hour).Format(time.RFC3339)); strings.Contains(out, teamA) {
			t.Fatalf("A's check-in tried again:\n%s", out)
		}
		if got := slashIn(t, bot, teamB, userB, "help"); !strings.Contains(got, lib.T(trustbot.English, "help.title")) {
			t.Fatalf("B's /trust after A's uninstall: %s", got)
		}

		// Installed again: A's check-ins resume, with the new token.
		browser.install(t, fake, bot.Public, teamA, userA)
		out = bot.Dispatch(t, "--now", next.Add(7*24*time.Hour).Format(time.RFC3339))
		posts := postsBy(fake, "D"+userA)
		if len(posts) != 2 || posts[1] != teamA {
			t.Fatalf("A after the reinstall: %v\n%s", posts, out)
		}
		var tokens []string
		for _, c := range fake.Calls("chat.postMessage") {
			if c.Team == teamA {
				tokens = append(tokens, c.Token)
			}
		}
		if len(tokens) != 2 || tokens[0] == tokens[1] {
			t.Fatalf("A's check-ins went out with %q: not the new token after the reinstall", tokens)
		}
	})

	t.Run("LogsCarryNoSecrets", func(t *testing.T) {
		logs := bot.Stderr.String()
		for _, c := range fake.Calls("chat.postMessage") {
			if strings.Contains(logs, c.Token) {
				t.Errorf("a token is in the logs")
			}
		}
		if strings.Contains(logs, "csecret") || strings.Contains(logs, oauthKey) {
			t.Error("the client secret or the key is in the logs")
		}
	})
}

// TestSlackOAuthRealProcess: the built program, in a process of its own,
// installs a workspace through the install page and answers its /trust.
func TestSlackOAuthRealProcess(t *testing.T) {
	t.Parallel()
	fake := oauthFake(t)
	db, httpAddr, public := newDB(t), freeAddr(t), freeAddr(t)
	env := append(os.Environ(), mainChildEnv+"=1", "TRUSTBOT_PUBLIC_ADDR="+public, "TRUSTBOT_PUBLIC_URL=http://"+public)
	for k, v := range oauthEnv(fake, db, httpAddr) {
		env = append(env, k+"="+v)
	}
	var stderr syncBuffer
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env, cmd.Stderr = env, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("trustbot exited: %v\n%s", err, &stderr)
			}
		case <-time.After(patience):
			cmd.Process.Kill()
			t.Error("trustbot did not stop")
		}
	})
	if err := waitReadyz(ctxTimeout(t), httpAddr, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, &stderr)
	}
	base := "http://" + public
	fake.SetRequestURLs(base+"/slack/events", base+"/slack/interactive", base+"/slack/commands")
	fake.SetOptionsURL(base + "/slack/interactive")
	newInstallBrowser(t).install(t, fake, public, teamA, userA)

	b := &Bot{Slack: fake, Stderr: &stderr, Public: public}
	if got := slashIn(t, b, teamA, userA, "help"); !strings.Contains(got, "/trust") {
		t.Fatalf("/trust help: %s", got)
	}
	if _, err := fake.Uninstall(teamA); err != nil {
		t.Fatal(err)
	}
	b.waitLog(t, `msg="uninstalled: tokens deleted, waiting deliveries canceled"`)
}

// TestSlackOrgInstall: an Enterprise Grid organisation installs trustbot
// for all its workspaces, as Slack does it: one token for the
// organisation, the app added to workspaces afterwards. Each workspace
// the app was added to uses the organisation's token; a user known in two
// of them by one ID has apart data in each; a workspace the app is taken
// from, then the whole organisation once uninstalled, gets nothing more.
func TestSlackOrgInstall(t *testing.T) {
	t.Parallel()
	lib := mustLibrary(t)
	bot := MustRunSlackOAuth(t)
	fake := bot.Slack
	const org, ws1, ws2 = "EORG1", "TORGONE", "TORGTWO"
	// Grid users have one ID in every workspace of the organisation.
	const shared, second = "WSHARED1", "WSECOND1"
	fake.AddOrgWorkspace(org, ws1)
	fake.AddOrgWorkspace(org, ws2)
	fake.AddUser(fakeslack.User{ID: shared, TeamID: ws1, TZ: "Asia/Tokyo", Locale: "ja-JP"})
	fake.AddUser(fakeslack.User{ID: second, TeamID: ws2, TZ: "Europe/London", Locale: "en-GB"})

	newInstallBrowser(t).installAs(t, fake, bot.Public, fakeslack.Install{Enterprise: org, EnterpriseName: "Org Inc.", OrgWide: true, User: shared})
	bot.waitLog(t, `msg=installed component=slack-oauth team="" enterprise=`+org)

	// Slack says the app was added to the first workspace; the second's
	// notice is lost, and its first request says it came through the
	// organisation's install.
	if ds, err := fake.GrantTeamAccess(org, ws1); err != nil || !ds[0].OK() {
		t.Fatalf("team_access_granted: %+v %v", ds, err)
	}
	bot.waitLog(t, `msg="workspace uses its organisation's installation" component=slack-oauth team=`+ws1)
	events, interactive, commands := "http://"+bot.Public+"/slack/events", "http://"+bot.Public+"/slack/interactive", "http://"+bot.Public+"/slack/commands"
	fake.SetRequestURLs("http://127.0.0.1:1/slack/events", interactive, commands)
	if ds, _ := fake.GrantTeamAccess(org, ws2); len(ds) == 0 || ds[0].OK() {
		t.Fatalf("the lost notice reached trustbot: %+v", ds)
	}
	fake.SetRequestURLs(events, interactive, commands)

	slashIn(t, bot, ws1, shared, "checkin weekly 金 16:00")
	slashIn(t, bot, ws2, second, "checkin weekly fri 16:00")
	bot.waitLog(t, `msg="workspace uses its organisation's installation" component=slack-oauth team=`+ws2)

	// The shared user in the second workspace is someone else there:
	// their check-in of the first is not seen.
	if got := slashIn(t, bot, ws2, shared, "checkin status"); !strings.Contains(got, lib.T(trustbot.Japanese, "checkin.none")) {
		t.Fatalf("the shared user in %s sees: %s", ws2, got)
	}

	due := bot.dueAt(t, shared)
	if d := bot.dueAt(t, second); d.After(due) {
		due = d
	}
	bot.Dispatch(t, "--now", due.Format(time.RFC3339))
	if got := postsBy(fake, "D"+shared); len(got) != 1 || got[0] != ws1+"+"+org {
		t.Fatalf("the shared user's check-in posted by %v\n%s", got, bot.Stderr)
	}
	if got := postsBy(fake, "D"+second); len(got) != 1 || got[0] != ws2+"+"+org {
		t.Fatalf("the second workspace's check-in posted by %v\n%s", got, bot.Stderr)
	}

	t.Run("AccessRevoked", func(t *testing.T) {
		if ds, err := fake.RevokeTeamAccess(org, ws2); err != nil || !ds[0].OK() {
			t.Fatalf("team_access_revoked: %+v %v", ds, err)
		}
		bot.waitLog(t, `msg="removed from an organisation's workspace: its waiting deliveries canceled" component=slack-oauth team=`+ws2)
		next := due.Add(8 * 24 * time.Hour)
		out := bot.Dispatch(t, "--now", next.Format(time.RFC3339))
		if !strings.Contains(out, "not_installed checkin  "+ws2+" "+second) {
			t.Fatalf("the second workspace's check-in after the app was taken from it:\n%s", out)
		}
		if got := postsBy(fake, "D"+shared); len(got) != 2 {
			t.Fatalf("the first workspace after the second lost the app: %v\n%s", got, bot.Stderr)
		}
		if got := postsBy(fake, "D"+second); len(got) != 1 {
			t.Fatalf("the second workspace after it lost the app: %v", got)
		}
	})

	t.Run("OrgUninstalled", func(t *testing.T) {
		if ds, err := fake.UninstallOrg(org); err != nil || !ds[0].OK() {
			t.Fatalf("app_uninstalled: %+v %v", ds, err)
		}
		bot.waitLog(t, `msg="uninstalled: tokens deleted, waiting deliveries canceled" component=slack-oauth team="" enterprise=`+org)
		next := due.Add(15 * 24 * time.Hour)
		out := bot.Dispatch(t, "--now", next.Format(time.RFC3339))
		if !strings.Contains(out, "not_installed checkin  "+ws1+" "+shared) {
			t.Fatalf("the first workspace's check-in after the organisation removed the app:\n%s", out)
		}
		if got := postsBy(fake, "D"+shared); len(got) != 2 {
			t.Fatalf("posted after the organisation removed the app: %v", got)
		}
	})
}

// TestSlackOAuthWorkspacesApart: with two workspaces installed, requests
// that name the other workspace, or the other workspace's user, in a
// payload Slack signed (a forged team_id, a button whose value is another
// workspace's journey) reach nothing of the other workspace: not its
// journeys, history or export.
func TestSlackOAuthWorkspacesApart(t *testing.T) {
	t.Parallel()
	bot := MustRunSlackOAuth(t)
	fake := bot.Slack
	browser := newInstallBrowser(t)
	browser.install(t, fake, bot.Public, teamA, userA)
	browser.install(t, fake, bot.Public, teamB, userB)
	const label = "Kurosawa-san"
	slashIn(t, bot, teamA, userA, "declined "+label)

	db := testdb.OpenAt(t, bot.DB)
	raw, err := secret.ParseKey(oauthKey)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	db.Shared().Keys = keys
	journeyOfA := func() trustbot.Journey {
		t.Helper()
		js, err := db.Shared().Journeys(context.Background(), trustbot.UserKey{Team: teamA, User: userA}, false)
		if err != nil || len(js) != 1 {
			t.Fatalf("A's journeys: %+v %v", js, err)
		}
		return js[0]
	}
	j := journeyOfA()

	// A button pressed in B whose value is A's journey, by A's user ID
	// in B and by B's user with the team forged as A's; then, the same
	// press by A's user in A, whose journey it is, stops it.
	for _, who := range []struct{ team, user string }{{teamB, userA}, {teamA, userB}, {teamA, userA}} {
		url := fake.NewResponseURL()
		d, err := fake.PostInteractive(map[string]any{
			"type":         "block_actions",
			"user":         map[string]string{"id": who.user, "team_id": who.team},
			"team":         map[string]string{"id": who.team},
			"channel":      map[string]string{"id": "D" + who.user},
			"container":    map[string]any{"type": "message", "channel_id": "D" + who.user},
			"response_url": url,
			"actions":      []any{map[string]string{"action_id": "journey.stop", "value": j.ID, "block_id": "b1", "type": "button"}},
		})
		if err != nil || !d.OK() {
			t.Fatalf("press as %s/%s: %+v %v", who.team, who.user, d, err)
		}
		got := bot.response(t, url, 1).raw
		if who.user == userA && who.team == teamA {
			if j := journeyOfA(); j.State == trustbot.Active {
				t.Fatalf("A's own press did not stop the journey: %s", got)
			}
			break
		}
		if strings.Contains(got, label) {
			t.Fatalf("%s/%s sees A's journey: %s", who.team, who.user, got)
		}
		if j := journeyOfA(); j.State != trustbot.Active {
			t.Fatalf("A's journey stopped by %s/%s: %+v", who.team, who.user, j)
		}
	}
	for _, cmd := range []string{"journeys", "history", "home"} {
		if got := slashIn(t, bot, teamB, userA, cmd); strings.Contains(got, label) {
			t.Fatalf("/trust %s by A's user ID in B: %s", cmd, got)
		}
	}
	// B's export holds B's data alone.
	slashIn(t, bot, teamB, userB, "export")
	files := fake.Files()
	if len(files) != 1 {
		t.Fatalf("%d files shared, want B's export", len(files))
	}
	for _, s := range []string{label, teamA, userA, j.ID} {
		if strings.Contains(string(files[0].Content), s) || strings.Contains(files[0].Comment, s) {
			t.Errorf("B's export holds %q", s)
		}
	}
	if !strings.Contains(string(files[0].Content), teamB) {
		t.Errorf("B's export does not name B:\n%s", files[0].Content)
	}
}
