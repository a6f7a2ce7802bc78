package slack

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// fakeTime is a pacer clock that moves only when the pacer sleeps. Each
// sleep also takes a little real time, longer than the client's send
// timeout: a wait of 30 s under Retry-After, compressed.
type fakeTime struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
	real  time.Duration
}

func (f *fakeTime) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeTime) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	if err := sleep(ctx, f.real); err != nil {
		return err
	}
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
	return nil
}

// TestWaitingForATurnIsNotPartOfTheTimeout: Slack answers 429 with a
// Retry-After of 30 s or more, longer than a request may take. The message
// waits its turn and then goes out; it is never reported as uncertain,
// since the request that was refused was not taken and the one that
// follows is answered in time.
func TestWaitingForATurnIsNotPartOfTheTimeout(t *testing.T) {
	for _, retryAfter := range []string{"30", "120"} {
		t.Run(retryAfter, func(t *testing.T) {
			fake := fakeslack.New()
			defer fake.Close()
			c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(),
				SendRate: 1000, SendTimeout: 200 * time.Millisecond})
			clock := &fakeTime{t: time.Now(), real: 400 * time.Millisecond}
			c.pacer.now, c.pacer.sleep = clock.now, clock.sleep
			fake.RateLimit("chat.postMessage", 1, retryAfter)

			to := trustbot.UserKey{Team: fakeslack.TeamID, User: "UWAITS"}
			posted, err := c.PostDM(context.Background(), to, trustbot.Reply{Text: "hello"}, "d-wait")
			if err != nil {
				t.Fatalf("PostDM after a %ss Retry-After: %v (%s)", retryAfter, err, trustbot.ErrorCode(err))
			}
			if posted.TS == "" || len(fake.Messages("UWAITS")) != 1 {
				t.Fatalf("posted %+v; %d messages, want 1", posted, len(fake.Messages("UWAITS")))
			}
			want, _ := time.ParseDuration(retryAfter + "s")
			var waited time.Duration
			for _, w := range clock.waits {
				waited += w
			}
			if waited < want {
				t.Fatalf("waited %v in all (%v), want at least the Retry-After %v", waited, clock.waits, want)
			}
			if n := len(fake.Calls("chat.postMessage")); n != 2 {
				t.Fatalf("%d chat.postMessage calls, want the refused one and the one after the wait", n)
			}
		})
	}
}

// TestASlowRequestIsUncertain: a request that went out and was not answered
// within the send timeout may have been taken by Slack: uncertain.
func TestASlowRequestIsUncertain(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(),
		SendRate: 1000, SendTimeout: 50 * time.Millisecond})
	fake.SetDelay("chat.postMessage", 5*time.Second)
	_, err := c.PostDM(context.Background(), trustbot.UserKey{Team: fakeslack.TeamID, User: "USLOW"}, trustbot.Reply{Text: "hello"}, "d-slow")
	if trustbot.ErrorCode(err) != trustbot.EUNCERTAIN {
		t.Fatalf("a request past its timeout: %v, want uncertain", err)
	}
}

// TestUnreachableSlackIsNotUncertain: when no connection to Slack can be
// made, nothing was sent: the message is handed back to be sent later, not
// left to be looked for as possibly sent.
func TestUnreachableSlackIsNotUncertain(t *testing.T) {
	fake := fakeslack.New()
	url := fake.APIURL()
	fake.Close() // nothing listens there any more
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: url, SendRate: 1000})
	_, err := c.PostDM(context.Background(), trustbot.UserKey{Team: fakeslack.TeamID, User: "UNOWHERE"}, trustbot.Reply{Text: "hello"}, "d-nowhere")
	if trustbot.ErrorCode(err) != trustbot.ECANCELED {
		t.Fatalf("no connection to Slack: %v, want %s (not sent)", err, trustbot.ECANCELED)
	}
}

// panicHandler panics on every request.
type panicHandler struct{}

func (panicHandler) Handle(context.Context, trustbot.Request) trustbot.Reply {
	panic("injected: handler")
}

// panics counts the panics reported to the metrics.
type panics struct {
	trustbot.NopMetrics
	seen chan string
}

func (p panics) Fault(name string) { p.seen <- name }

// TestPanicInAHandlerIsCounted: a request whose handler panics is still
// acknowledged, the panic is counted, and the next request is served.
func TestPanicInAHandlerIsCounted(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	met := panics{seen: make(chan string, 10)}
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(), Metrics: met})
	c.SetHandler(panicHandler{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := fake.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		env, err := fake.SlashCommand(fakeslack.SlashCommand{UserID: "UPANIC", ChannelID: "C0PANIC", Command: "/trust", Text: "help"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fake.WaitAck(wctx, env); err != nil {
			t.Fatalf("request %d not acknowledged: %v", i+1, err)
		}
		select {
		case f := <-met.seen:
			if f != trustbot.FaultPanic {
				t.Fatalf("fault %s", f)
			}
		case <-wctx.Done():
			t.Fatalf("request %d: no panic counted", i+1)
		}
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestResponseURLPostTimeoutInContext: a post to a response_url carries
// the HTTP client's timeout as its context's deadline, not as the client's
// own timeout (which net/http watches with two goroutines per request,
// through Request.Cancel, in front of a transport it does not know), and
// a post that gets no answer still ends at that deadline.
func TestResponseURLPostTimeoutInContext(t *testing.T) {
	type seen struct {
		cancel   bool
		deadline time.Time
	}
	got := make(chan seen, 1)
	c := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", HTTPClient: &http.Client{
		Timeout: 50 * time.Millisecond,
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			d, _ := r.Context().Deadline()
			//lint:ignore SA1019 net/http sets Cancel to watch a client's timeout: checked unset
			got <- seen{cancel: r.Cancel != nil, deadline: d}
			<-r.Context().Done() // no answer
			return nil, r.Context().Err()
		}),
	}})
	before := time.Now()
	err := c.postWebhook(context.Background(), "https://hooks.slack.com/commands/T1/1/x", textReply("hello"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("post with no answer: %v, want the deadline exceeded", err)
	}
	s := <-got
	if s.cancel {
		t.Error("the post carries a Request.Cancel channel: its timeout is watched by goroutines")
	}
	if s.deadline.IsZero() || s.deadline.Before(before.Add(50*time.Millisecond)) || s.deadline.After(time.Now()) {
		t.Errorf("the post's context deadline is %v, want 50ms after %v", s.deadline, before)
	}
}
