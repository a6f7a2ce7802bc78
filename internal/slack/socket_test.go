package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func answer(context.Context, trustbot.Request) trustbot.Reply { return textReply("ok") }

// waitUntil checks cond every millisecond until it holds; if it does not
// within waitCtx's bound, the test fails with what() of the state then.
func waitUntil(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	ctx := waitCtx(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal(what())
		case <-time.After(time.Millisecond):
		}
	}
}

// TestSocketReplacedWhenPingsStop: a socket Slack stops pinging (a link
// that is open at one end only) is replaced after PingLimit, and the new
// one answers.
func TestSocketReplacedWhenPingsStop(t *testing.T) {
	fake := runClient(t, handlerFunc(answer), func(c *Client) { c.cfg.PingLimit = 300 * time.Millisecond })
	fake.SetPingInterval(50 * time.Millisecond)
	fake.StopPings(true)
	if err := fake.WaitConnections(waitCtx(t), 2); err != nil {
		t.Fatalf("no new socket after pings stopped: %v", err)
	}
	fake.StopPings(false)
	id, url := command(t, fake, "hello")
	if _, err := fake.WaitAck(waitCtx(t), id); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitAnswers(waitCtx(t), url, 1); err != nil {
		t.Fatalf("no answer on the new socket: %v", err)
	}
}

// TestSocketKeptWhilePinged: a socket pinged more often than PingLimit
// stays open however long it is idle, and pongs every ping.
func TestSocketKeptWhilePinged(t *testing.T) {
	fake := runClient(t, handlerFunc(answer), func(c *Client) { c.cfg.PingLimit = 300 * time.Millisecond })
	fake.SetPingInterval(20 * time.Millisecond)
	start := fake.Pongs()
	// 40 pings: more than twice PingLimit.
	waitUntil(t, func() bool { return fake.Pongs() >= start+40 }, func() string {
		return fmt.Sprintf("%d pongs", fake.Pongs()-start)
	})
	if n := fake.Connections(); n != 1 {
		t.Errorf("%d sockets opened for a link pinged all along", n)
	}
}

// TestRefusedAppTokenEndsRun: Slack refusing the app token ends Run with
// its error at once; retrying would not help.
func TestRefusedAppTokenEndsRun(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: "xapp-revoked", APIURL: fake.APIURL(), Workers: 1})
	c.SetHandler(handlerFunc(answer))
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
			t.Fatalf("Run ended with %v, want Slack's invalid_auth", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still retrying a refused app token")
	}
	if n := len(fake.Calls("apps.connections.open")); n != 1 {
		t.Errorf("apps.connections.open called %d times", n)
	}
}

// TestRunEndsWithItsContext: cancelling Run's context closes the socket
// and Run returns nil.
func TestRunEndsWithItsContext(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(), Workers: 1})
	c.SetHandler(handlerFunc(answer))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	if err := fake.WaitConnected(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, c.Connected, func() string { return "not connected after hello" })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
	if c.Connected() {
		t.Error("connected after Run ended")
	}
	waitUntil(t, func() bool { return fake.OpenSockets() == 0 }, func() string {
		return fmt.Sprintf("%d sockets still open after Run ended", fake.OpenSockets())
	})
}

func TestReconnectWait(t *testing.T) {
	for failed, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		if got := reconnectWait(failed, errors.New("dial")); got < want || got > want+want/4 {
			t.Errorf("after %d failures: %v, want %v to %v", failed, got, want, want+want/4)
		}
	}
	for _, failed := range []int{12, 30, 70} {
		if got := reconnectWait(failed, errors.New("dial")); got < reconnectMax || got > reconnectMax+reconnectMax/4 {
			t.Errorf("after %d failures: %v, want %v at most (and its jitter)", failed, got, reconnectMax)
		}
	}
	if got := reconnectWait(3, &slack.RateLimitedError{RetryAfter: 7 * time.Second}); got != 7*time.Second {
		t.Errorf("rate limited: %v, want Retry-After's 7s", got)
	}
}

func TestRefusedToken(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{slack.SlackErrorResponse{Err: "invalid_auth"}, true},
		{slack.SlackErrorResponse{Err: "token_revoked"}, true},
		{errors.New("account_inactive"), true},
		{slack.StatusCodeError{Code: http.StatusNotFound, Status: "404 Not Found"}, true},
		{slack.StatusCodeError{Code: http.StatusBadGateway, Status: "502 Bad Gateway"}, false},
		{slack.SlackErrorResponse{Err: "internal_error"}, false},
		{errors.New("dial tcp: connection refused"), false},
	} {
		if got := refusedToken(c.err); got != c.want {
			t.Errorf("%v: %v, want %v", c.err, got, c.want)
		}
	}
}

// TestSocketRefusedAtOnceWaits: when Slack ends each new socket at once
// (one socket too many for the app), the client asks for the next after a
// doubling wait, not in a tight loop, and connects once a socket is free.
func TestSocketRefusedAtOnceWaits(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	api := slack.New(fakeslack.BotToken, slack.OptionAppLevelToken(fakeslack.AppToken), slack.OptionAPIURL(fake.APIURL()))
	var held []*websocket.Conn
	for range fakeslack.MaxSockets {
		_, url, err := api.StartSocketModeContext(waitCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	// A dial returns once the upgrade is answered, before the fake counts
	// the socket: the client must not start until every held socket is
	// counted, or it could take a place one of them was to hold.
	waitUntil(t, func() bool { return fake.OpenSockets() == fakeslack.MaxSockets }, func() string {
		return fmt.Sprintf("%d of %d held sockets open", fake.OpenSockets(), fakeslack.MaxSockets)
	})
	opens := func() int { return len(fake.Calls("apps.connections.open")) - fakeslack.MaxSockets }

	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(), Workers: 1})
	c.SetHandler(handlerFunc(answer))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Four sockets refused: three waits between them, of at least
	// 100, 200 and 400 ms.
	waitUntil(t, func() bool { return opens() >= 4 }, func() string { return fmt.Sprintf("%d sockets asked for", opens()) })
	if took := time.Since(start); took < 700*time.Millisecond {
		t.Errorf("four sockets asked for within %v: no wait between refused sockets", took)
	}
	held[0].Close()
	held = held[1:]
	if err := fake.WaitConnected(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, c.Connected, func() string { return "not connected once a socket was free" })
}

// FuzzFrame: no frame Slack's socket could carry stops the reader (a
// panic, or an error that is not a disconnect request), and a frame
// queues at most one job.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","num_connections":1}`,
		`{"type":"disconnect","reason":"refresh_requested"}`,
		`{"envelope_id":"e1","type":"slash_commands","accepts_response_payload":true,"payload":{"command":"/trust","text":"tip","user_id":"U1","team_id":"T1","response_url":"https://hooks.slack.com/x"}}`,
		`{"envelope_id":"e2","type":"interactive","payload":{"type":"block_suggestion","value":"a"}}`,
		`{"envelope_id":"e3","type":"events_api","payload":{"type":"event_callback","event":{"type":"app_mention","text":"hi"}}}`,
		`{"envelope_id":"e4","type":"slash_commands","payload":"not an object"}`,
		`{"envelope_id":"e5","type":"no_such_type","payload":{}}`,
		`{"this is not json`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := New(Config{BotToken: "xoxb-x", AppToken: "xapp-x", APIURL: "http://127.0.0.1:1/api/", Queue: 4})
		err := c.frame(data)
		if err != nil && !errors.Is(err, errDisconnect) {
			t.Fatalf("frame %q: %v", data, err)
		}
		if n := len(c.jobs); n > 1 {
			t.Fatalf("frame %q queued %d jobs", data, n)
		}
	})
}

// TestEncodeAckWithJSONMadeAlready: an ack whose payload is a kept
// reply's JSON is the same frame as one marshalled from plain values, for
// any envelope ID.
func TestEncodeAckWithJSONMadeAlready(t *testing.T) {
	c := newMessageCache()
	r := sharedTip()
	raw, ok := c.message(r).(json.RawMessage)
	if !ok {
		t.Fatalf("a shared reply's message is %T, want its JSON", c.message(r))
	}
	for _, id := range []string{"1d2e3f", `quote"and\backslash`, "<html>&</html>", "改行\n", ""} {
		got, err := encodeAck([]byte("kept"), id, raw)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(ackFrame{EnvelopeID: id, Payload: plainMessage(webhookMessage(r))})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append([]byte("kept"), want...)) {
			t.Errorf("envelope %q: ack\n%s\nwant it after \"kept\"\n%s", id, got, want)
		}
	}
	if got, _ := encodeAck(nil, "e1", nil); string(got) != `{"envelope_id":"e1"}` {
		t.Errorf("empty ack %s", got)
	}
}

// TestQueuedRequestsKeepTheirPayloads: frames are read into one buffer,
// used again for the next; requests waiting in the queue while later
// frames are read keep their own text, each answered to its own
// response_url.
func TestQueuedRequestsKeepTheirPayloads(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	fake := runClient(t, handlerFunc(func(ctx context.Context, req trustbot.Request) trustbot.Reply {
		<-release
		mu.Lock()
		seen = append(seen, string(req.Text))
		mu.Unlock()
		return textReply("answer to " + string(req.Text))
	}), nil)
	const n = 20
	urls := make([]string, n)
	for i := range n {
		// Texts of different lengths, so that a later frame written over
		// an earlier one's bytes would show.
		_, urls[i] = command(t, fake, fmt.Sprintf("tip %s%d", strings.Repeat("x", (n-i)*7), i))
	}
	close(release)
	for i, u := range urls {
		got, err := fake.WaitAnswers(waitCtx(t), u, 1)
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		want := fmt.Sprintf("answer to tip %s%d", strings.Repeat("x", (n-i)*7), i)
		if !strings.Contains(string(got[0].Body), want) {
			t.Errorf("command %d answered %s, want %q", i, got[0].Body, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("%d requests handled, want %d", len(seen), n)
	}
}
