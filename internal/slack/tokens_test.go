package slack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestTokensPerWorkspace: every Web API call made for a workspace, a DM
// as an answer, takes the token Tokens gives for that workspace; a
// workspace without one sends nothing.
func TestTokensPerWorkspace(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	var (
		mu    sync.Mutex
		asked []string
	)
	c := New(Config{BotToken: fakeslack.BotToken, APIURL: fake.APIURL(), Tokens: func(_ context.Context, team string) (string, error) {
		mu.Lock()
		asked = append(asked, team)
		mu.Unlock()
		switch team {
		case fakeslack.TeamID:
			return fakeslack.BotToken, nil
		case "T0OTHER":
			return "xoxb-other-workspace", nil
		case "T0REMOVED":
			return "", trustbot.Errorf(trustbot.ENOTFOUND, "trustbot is not installed in workspace %s", team)
		}
		return "", errors.New("not installed")
	}})
	ctx := waitCtx(t)
	if _, err := c.PostDM(ctx, trustbot.UserKey{Team: fakeslack.TeamID, User: fakeslack.DefaultUserID}, textReply("hi"), "d1"); err != nil {
		t.Fatal(err)
	}
	// The other workspace's token goes to Slack (which the fake does not
	// know, so refuses).
	if _, err := c.Profile(ctx, trustbot.UserKey{Team: "T0OTHER", User: "U0OTHER"}); err == nil {
		t.Fatal("the fake took another workspace's token")
	}
	_, err := c.PostDM(ctx, trustbot.UserKey{Team: "T0GONE", User: "U0GONE"}, textReply("hi"), "d2")
	if trustbot.ErrorCode(err) != trustbot.ECANCELED {
		t.Fatalf("no token: %v, want %s", err, trustbot.ECANCELED)
	}
	// A workspace that removed the app: not retried.
	_, err = c.PostDM(ctx, trustbot.UserKey{Team: "T0REMOVED", User: "U0GONE"}, textReply("hi"), "d3")
	if trustbot.ErrorCode(err) != trustbot.ENOTINSTALLED {
		t.Fatalf("not installed: %v, want %s", err, trustbot.ENOTINSTALLED)
	}
	posts, infos := fake.Calls("chat.postMessage"), fake.Calls("users.info")
	if len(posts) != 1 || posts[0].Token != fakeslack.BotToken || len(infos) != 1 || infos[0].Token != "xoxb-other-workspace" {
		t.Fatalf("calls: %d posts, %d users.info: %+v %+v", len(posts), len(infos), posts, infos)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{fakeslack.TeamID, "T0OTHER", "T0GONE", "T0REMOVED"}; !slices.Equal(asked, want) {
		t.Fatalf("tokens asked for %v, want %v", asked, want)
	}
}

// TestHTTPNotTakingRequests: before Run and after it ends, a verified
// request is answered 503 (Slack retries an event; a command shows an
// error) instead of being acknowledged with no worker to answer it.
func TestHTTPNotTakingRequests(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	rec := &recorder{}
	c := New(Config{BotToken: fakeslack.BotToken, SigningSecret: fakeslack.SigningSecret, APIURL: fake.APIURL(), Workers: 1})
	c.SetHandler(rec)
	mux := http.NewServeMux()
	c.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fake.SetRequestURLs(srv.URL+EventsPath, srv.URL+InteractivePath, srv.URL+CommandsPath)
	fake.SetRetryDelays()
	post := func() int {
		d, err := fake.PostSlashCommand(fakeslack.SlashCommand{Text: "help"})
		if err != nil {
			t.Fatal(err)
		}
		return d.Status
	}
	if got := post(); got != http.StatusServiceUnavailable {
		t.Fatalf("before Run: %d", got)
	}
	// Saving the events URL works at any time: it needs no worker.
	if d, challenge, err := fake.PostURLVerification(); err != nil || !d.OK() || string(d.Body) != challenge {
		t.Fatalf("url_verification before Run: %d %q (%v)", d.Status, d.Body, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for !c.Connected() {
		select {
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	if got := post(); got != http.StatusOK {
		t.Fatalf("while running: %d", got)
	}
	cancel()
	<-done
	if got := post(); got != http.StatusServiceUnavailable {
		t.Fatalf("after Run: %d", got)
	}
	if h := rec.handled(); len(h) != 1 {
		t.Fatalf("handled %d requests, want the one sent while running", len(h))
	}
}
