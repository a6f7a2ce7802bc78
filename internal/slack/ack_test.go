package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// handlerFunc answers requests with a function.
type handlerFunc func(ctx context.Context, req trustbot.Request) trustbot.Reply

func (f handlerFunc) Handle(ctx context.Context, req trustbot.Request) trustbot.Reply {
	return f(ctx, req)
}

func textReply(s string) trustbot.Reply {
	return trustbot.Reply{Text: s, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: s}}}
}

// runClient runs a Client with one worker (so that jobs finish in the
// order they came) against a new fake Slack.
func runClient(t *testing.T, h trustbot.Handler, tweak func(*Client)) *fakeslack.Server {
	t.Helper()
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL(), Workers: 1})
	c.SetHandler(h)
	if tweak != nil {
		tweak(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := fake.WaitConnected(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	return fake
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// command sends "/trust text" and returns its envelope ID and response_url.
func command(t *testing.T, fake *fakeslack.Server, text string) (string, string) {
	t.Helper()
	url := fake.NewResponseURL()
	id, err := fake.SlashCommand(fakeslack.SlashCommand{Text: text, ResponseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return id, url
}

// settled waits until every job sent before it is finished: with one
// worker, a command answered after them proves they are done.
func settled(t *testing.T, fake *fakeslack.Server) {
	t.Helper()
	_, url := command(t, fake, "barrier")
	if _, err := fake.WaitAnswers(waitCtx(t), url, 1); err != nil {
		t.Fatalf("barrier not answered: %v", err)
	}
}

// idle waits until no worker of c is busy: the worker that sent an answer
// may still be finishing its job when the answer arrives.
func idle(t *testing.T, c *Client) {
	t.Helper()
	ctx := waitCtx(t)
	for c.busy.Load() != 0 {
		select {
		case <-ctx.Done():
			t.Fatal("workers still busy")
		case <-time.After(50 * time.Microsecond):
		}
	}
}

// heldFirst returns a handler that answers "answer to <text>" at once,
// except the command "first", which it holds until free is called (free
// may be called again); started is closed once "first" is held.
func heldFirst() (h trustbot.Handler, started <-chan struct{}, free func()) {
	start, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	free = func() { once.Do(func() { close(release) }) }
	h = handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		if req.Text == "first" {
			close(start)
			<-release
		}
		return textReply("answer to " + req.Text)
	})
	return h, start, free
}

// ackCounter counts the acks the metrics hear of.
type ackCounter struct {
	trustbot.NopMetrics
	n atomic.Int64
}

func (a *ackCounter) Acked(trustbot.Platform, time.Duration) { a.n.Add(1) }

func TestAnswerInAckWhenFast(t *testing.T) {
	met := &ackCounter{}
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		return textReply("answer to " + req.Text)
	}), func(c *Client) {
		c.cfg.AnswerBudget = time.Minute // "fast" whatever the machine's load
		c.cfg.Metrics = met
	})
	id, url := command(t, fake, "tip")
	ack, err := fake.WaitAck(waitCtx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		ResponseType string            `json:"response_type"`
		Text         string            `json:"text"`
		Blocks       []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(ack.Payload, &msg); err != nil || msg.ResponseType != "ephemeral" || msg.Text != "answer to tip" || len(msg.Blocks) != 1 {
		t.Fatalf("ack payload %s (%v)", ack.Payload, err)
	}
	settled(t, fake)
	got := fake.Answers(url)
	if len(got) != 1 || got[0].Via != fakeslack.ViaAck || len(fake.Responses(url)) != 0 {
		t.Fatalf("answers %+v, %d response_url posts", got, len(fake.Responses(url)))
	}
	if n := met.n.Load(); n != 2 {
		t.Fatalf("%d acks measured for 2 commands", n)
	}
}

// TestAckMeasuredBeforeItsJob: an ack sent at once is measured before
// its job is queued, so whatever the job does (its answer included) comes
// after the metric: a count read once an answer is seen is never short.
func TestAckMeasuredBeforeItsJob(t *testing.T) {
	met := &ackCounter{}
	seen := make(chan int64, 20)
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		seen <- met.n.Load()
		return textReply("answer to " + req.Text)
	}), func(c *Client) {
		c.cfg.AnswerBudget = 0 // every ack at once
		c.cfg.Metrics = met
	})
	for i := range int64(20) {
		_, url := command(t, fake, fmt.Sprint("tip ", i))
		if n := <-seen; n < i+1 {
			t.Fatalf("command %d handled with %d acks measured", i+1, n)
		}
		if _, err := fake.WaitAnswers(waitCtx(t), url, 1); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnswerThroughResponseURLWhenSlow(t *testing.T) {
	release := make(chan struct{})
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		if req.Text == "slow" {
			<-release // the database is slow
		}
		return textReply("answer to " + req.Text)
	}), nil)
	id, url := command(t, fake, "slow")
	ack, err := fake.WaitAck(waitCtx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ack.Payload) != 0 {
		t.Fatalf("the ack waited for a slow answer: %s", ack.Payload)
	}
	close(release)
	got, err := fake.WaitAnswers(waitCtx(t), url, 1)
	if err != nil || got[0].Via != fakeslack.ViaResponseURL || !strings.Contains(string(got[0].Body), "answer to slow") {
		t.Fatalf("answers %+v (%v)", got, err)
	}
	settled(t, fake)
	if n := len(fake.Answers(url)); n != 1 {
		t.Fatalf("%d answers", n)
	}
	for _, a := range fake.Acks() {
		if a.EnvelopeID == id && a.Payload != nil {
			t.Fatalf("a second ack with the answer: %s", a.Payload)
		}
	}
}

// TestAnswerBudgetRace ends the answer budget at the very moment the
// answer is ready, many times: each command must be answered exactly once
// (in its ack or at its response_url) and acked exactly once.
func TestAnswerBudgetRace(t *testing.T) {
	var (
		mu    sync.Mutex
		ready chan struct{}
	)
	expires := make(chan func(), 16)
	var client *Client
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		if strings.HasPrefix(req.Text, "race") {
			mu.Lock()
			r := ready
			mu.Unlock()
			<-r
		}
		return textReply("answer to " + req.Text)
	}), func(c *Client) {
		client = c
		c.cfg.AnswerBudget = time.Hour // ended by the test, not by the clock
		c.afterFunc = func(_ time.Duration, f func()) func() bool {
			expires <- f
			return func() bool { return false }
		}
	})
	const n = 100
	via := map[string]int{}
	for i := range n {
		mu.Lock()
		ready = make(chan struct{})
		r := ready
		mu.Unlock()
		idle(t, client) // else the command is acked at once, with no budget
		id, url := command(t, fake, fmt.Sprintf("race %d", i))
		expire := <-expires // accepted and queued, its budget running
		// Both at once: the answer is ready as the budget ends.
		start := make(chan struct{})
		go func() { <-start; close(r) }()
		go func() { <-start; expire() }()
		close(start)
		got, err := fake.WaitAnswers(waitCtx(t), url, 1)
		if err != nil {
			t.Fatalf("command %d never answered: %v", i, err)
		}
		if _, err := fake.WaitAck(waitCtx(t), id); err != nil {
			t.Fatalf("command %d never acked: %v", i, err)
		}
		idle(t, client)
		settled(t, fake)
		(<-expires)() // the barrier's budget, moot by now
		if all := fake.Answers(url); len(all) != 1 {
			t.Fatalf("command %d answered %d times: %+v", i, len(all), all)
		}
		acks := 0
		for _, a := range fake.Acks() {
			if a.EnvelopeID == id {
				acks++
			}
		}
		if acks != 1 {
			t.Fatalf("command %d acked %d times", i, acks)
		}
		via[got[0].Via]++
	}
	t.Logf("answered in the ack %d times, at the response_url %d times", via[fakeslack.ViaAck], via[fakeslack.ViaResponseURL])
}

func TestPendingAckClaimedOnce(t *testing.T) {
	for range 1000 {
		p := newPendingAck(inbound{id: "E1"}, time.Now())
		var wins [2]bool
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, state := range []int32{ackAnswered, ackEmpty} {
			wg.Go(func() {
				<-start
				wins[i] = p.claim(state)
			})
		}
		close(start)
		wg.Wait()
		if wins[0] == wins[1] {
			t.Fatalf("claims %v: exactly one must win", wins)
		}
	}
}

func TestAckPayloadOnlyForPlainMessages(t *testing.T) {
	c := New(Config{})
	r := textReply("hello")
	if _, ok := c.ackPayload(target{}, r); !ok {
		t.Fatal("a plain message does not fit in the ack")
	}
	modal, file, update := r, r, r
	modal.Modal = &trustbot.Modal{}
	file.File = &trustbot.File{Name: "x.json"}
	update.Update = &trustbot.Posted{Channel: "C1", TS: "1.2"}
	for name, x := range map[string]trustbot.Reply{"modal": modal, "file": file, "update": update} {
		if _, ok := c.ackPayload(target{}, x); ok {
			t.Errorf("a %s went in the ack", name)
		}
	}
}

// TestLargeAnswerThroughResponseURL: Slack drops acks of 20 KB or more, so
// a long answer goes to the response_url, after an empty ack.
func TestLargeAnswerThroughResponseURL(t *testing.T) {
	long := strings.Repeat("長い答えです。", 1200) // about 25 KB in JSON
	fake := runClient(t, handlerFunc(func(context.Context, trustbot.Request) trustbot.Reply {
		return trustbot.Reply{Text: "long", Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: long}}}
	}), func(c *Client) { c.cfg.AnswerBudget = time.Minute })
	id, url := command(t, fake, "long")
	ack, err := fake.WaitAck(waitCtx(t), id)
	if err != nil || len(ack.Payload) != 0 {
		t.Fatalf("ack %s (%v): want an empty ack", ack.Payload, err)
	}
	got, err := fake.WaitAnswers(waitCtx(t), url, 1)
	if err != nil || got[0].Via != fakeslack.ViaResponseURL || len(got[0].Body) < 20480 {
		t.Fatalf("answers %d (%v)", len(got), err)
	}
}

// TestAckAtOnceWhenEveryWorkerIsBusy: a command that would wait for a
// busy worker is acked at once, without waiting for an answer that cannot
// come in time, and is answered once it is done.
func TestAckAtOnceWhenEveryWorkerIsBusy(t *testing.T) {
	h, started, free := heldFirst()
	t.Cleanup(free)
	fake := runClient(t, h, func(c *Client) {
		c.cfg.AnswerBudget = time.Minute
		c.jobTime.Store(int64(time.Microsecond)) // jobs lately took a microsecond
	})
	_, firstURL := command(t, fake, "first")
	<-started
	// The only worker is busy: both are acked at once, however quick
	// jobs have been lately.
	second, secondURL := command(t, fake, "second")
	third, thirdURL := command(t, fake, "third")
	for _, id := range []string{second, third} {
		ack, err := fake.WaitAck(waitCtx(t), id)
		if err != nil || len(ack.Payload) != 0 {
			t.Fatalf("ack %s (%v): want an empty ack at once", ack.Payload, err)
		}
	}
	if acks := fake.Acks(); len(acks) != 2 {
		t.Fatalf("acks while the first command works: %+v", acks)
	}
	free()
	for _, u := range []string{firstURL, secondURL, thirdURL} {
		if _, err := fake.WaitAnswers(waitCtx(t), u, 1); err != nil {
			t.Fatal(err)
		}
	}
	settled(t, fake)
	for i, u := range []string{firstURL, secondURL, thirdURL} {
		if got := fake.Answers(u); len(got) != 1 {
			t.Fatalf("command %d answered %d times", i+1, len(got))
		}
	}
	if got := fake.Answers(firstURL); got[0].Via != fakeslack.ViaAck {
		t.Fatalf("first answered through %s", got[0].Via)
	}
}

// TestAckWaitsWhileAWorkerIsFree: with one worker busy and another free,
// the ack of a command waits to carry its answer.
func TestAckWaitsWhileAWorkerIsFree(t *testing.T) {
	h, started, free := heldFirst()
	t.Cleanup(free)
	fake := runClient(t, h, func(c *Client) {
		c.cfg.Workers = 2
		c.cfg.AnswerBudget = time.Minute
	})
	command(t, fake, "first")
	<-started
	second, secondURL := command(t, fake, "second")
	ack, err := fake.WaitAck(waitCtx(t), second)
	if err != nil || !strings.Contains(string(ack.Payload), "answer to second") {
		t.Fatalf("second ack %s (%v): want the answer in it", ack.Payload, err)
	}
	free()
	settled(t, fake)
	if got := fake.Answers(secondURL); len(got) != 1 || got[0].Via != fakeslack.ViaAck {
		t.Fatalf("second answered %+v, want once, in the ack", got)
	}
}

// TestReadyWithin: the ack waits for the answer when not every worker is
// busy and the queue ahead is worked off within the budget at the recent
// pace, or no pace is known since the workers were last idle (a burst of
// quick commands is answered in the acks); never when every worker is
// busy, whatever the pace.
func TestReadyWithin(t *testing.T) {
	for _, tc := range []struct {
		busy, waiting int
		per           time.Duration
		want          bool
	}{
		{busy: 0, waiting: 0, want: true},
		{busy: 3, waiting: 0, want: true},
		{busy: 3, waiting: 3, want: true},
		{busy: 3, waiting: 40, per: 100 * time.Microsecond, want: true},  // 11 rounds of 4 workers: 1.1 ms
		{busy: 3, waiting: 40, per: 500 * time.Microsecond, want: false}, // 5.5 ms
		{busy: 3, waiting: 40, want: true},                               // no pace since idle: held until one is known
		{busy: 4, waiting: 0, per: time.Microsecond, want: false},
		{busy: 4, waiting: 2, per: time.Microsecond, want: false},
	} {
		c := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", Workers: 4, Queue: 64})
		c.busy.Store(int64(tc.busy))
		c.jobTime.Store(int64(tc.per))
		for range tc.waiting {
			c.jobs <- job{}
		}
		if got := c.readyWithin(3 * time.Millisecond); got != tc.want {
			t.Errorf("busy %d, waiting %d, %v per job: ready %v, want %v", tc.busy, tc.waiting, tc.per, got, tc.want)
		}
	}
}

// TestAnswerInAckStopsTheBudget: an answer that rides in its ack stops
// the budget's timer, which has nothing left to do.
func TestAnswerInAckStopsTheBudget(t *testing.T) {
	stopped := make(chan struct{}, 10)
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		return textReply("answer to " + req.Text)
	}), func(c *Client) {
		c.cfg.AnswerBudget = time.Hour // ended by the test, not by the clock
		c.afterFunc = func(time.Duration, func()) func() bool {
			return func() bool { stopped <- struct{}{}; return true }
		}
	})
	id, _ := command(t, fake, "tip")
	if ack, err := fake.WaitAck(waitCtx(t), id); err != nil || !strings.Contains(string(ack.Payload), "answer to tip") {
		t.Fatalf("ack %s (%v): want the answer in it", ack.Payload, err)
	}
	select {
	case <-stopped:
	case <-waitCtx(t).Done():
		t.Fatal("the budget's timer was not stopped")
	}
}

// TestPaceStartsOverWhenIdle: once the workers are idle with nothing
// queued, the time per job of the jobs before (here slow ones, as a
// quiet spell's lookups are) is forgotten, so that it does not refuse the
// holds of the next burst (TestReadyWithin: none known, they are held).
func TestPaceStartsOverWhenIdle(t *testing.T) {
	var client *Client
	fake := runClient(t, handlerFunc(func(_ context.Context, req trustbot.Request) trustbot.Reply {
		return textReply("answer to " + req.Text)
	}), func(c *Client) {
		client = c
		c.jobTime.Store(int64(5 * time.Millisecond)) // slow jobs lately
	})
	c := client
	c.busy.Add(1) // a job of the burst still working: the pace stays
	_, url := command(t, fake, "first")
	if _, err := fake.WaitAnswers(waitCtx(t), url, 1); err != nil {
		t.Fatal(err)
	}
	for c.busy.Load() != 1 {
		select {
		case <-waitCtx(t).Done():
			t.Fatal("worker still busy")
		case <-time.After(50 * time.Microsecond):
		}
	}
	if c.jobTime.Load() == 0 {
		t.Fatal("time per job forgotten while a job was still working")
	}
	c.busy.Add(-1)
	_, url = command(t, fake, "second")
	if _, err := fake.WaitAnswers(waitCtx(t), url, 1); err != nil {
		t.Fatal(err)
	}
	idle(t, c)
	if got := c.jobTime.Load(); got != 0 {
		t.Fatalf("time per job %v after the workers went idle, want none", time.Duration(got))
	}
}

// TestAckTraceTellsHowEachAckWent: Config.AckTrace hears each ack once it
// is written, with what it carried and who sent it: at once while the
// only worker is busy, with the answer when it was held for it, empty at
// the end of the budget when the answer came too late.
func TestAckTraceTellsHowEachAckWent(t *testing.T) {
	h, started, free := heldFirst()
	defer free() // before the client stops, should the test fail
	traces := make(chan AckTrace, 10)
	var expire func()
	expired := make(chan struct{})
	var client *Client
	fake := runClient(t, h, func(c *Client) {
		client = c
		c.cfg.AnswerBudget = time.Hour // ended by the test, not by the clock
		c.cfg.AckTrace = func(a AckTrace) { traces <- a }
		c.afterFunc = func(_ time.Duration, f func()) func() bool {
			if expire == nil {
				expire = f // the first command's budget
				close(expired)
			}
			return func() bool { return false }
		}
	})
	next := func(id string, want AckHow) AckTrace {
		t.Helper()
		select {
		case a := <-traces:
			if a.Request != id || a.How != want || a.Written.Before(a.Read) {
				t.Fatalf("trace %+v, want %s %v", a, id, want)
			}
			return a
		case <-waitCtx(t).Done():
			t.Fatalf("no trace of %s", id)
		}
		return AckTrace{}
	}
	first, _ := command(t, fake, "first")
	<-started
	second, _ := command(t, fake, "second") // the only worker is busy
	if a := next(second, AckAtOnce); a.Busy != 1 {
		t.Fatalf("second read with %d workers busy, want 1", a.Busy)
	}
	<-expired
	expire()
	next(first, AckBudget)
	free()
	idle(t, client) // else the third is acked at once
	third, _ := command(t, fake, "third")
	next(third, AckAnswer)
}
