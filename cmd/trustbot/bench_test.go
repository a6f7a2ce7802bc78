package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The burst benchmarks send "/trust tip" envelopes back to back through the
// fake Slack's Socket Mode to the real program (trustbot serve, slack-go's
// client, its SQLite file) and, in the same process and in turn, to a bare
// slack-go Socket Mode client that acks every envelope at once with a fixed
// two-block payload, connected to a second fake Slack of the same kind
// (Slack spreads envelopes over an app's sockets, so the two cannot share
// one). Each figure is thus a ratio measured side by side:
//
//	go test ./cmd/trustbot -run '^$' -bench 'Burst|OneAtATime' -benchtime 3x
//
// ack: envelope written to the socket → its ack read back. answer: envelope
// written → the first answer the user sees, an ack carrying the reply or
// the response_url post (for the bare client, its ack).

// bareClient is slack-go's Socket Mode client doing nothing but acking
// with a fixed answer: the floor any bot on slack-go can reach.
func bareClient(tb testing.TB) *fakeslack.Server {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	fake.SetPingInterval(500 * time.Millisecond)
	api := slack.New(fakeslack.BotToken, slack.OptionAppLevelToken(fakeslack.AppToken), slack.OptionAPIURL(fake.APIURL()))
	cli := socketmode.New(api)
	answer := map[string]any{
		"response_type": "ephemeral",
		"text":          "A tip",
		"blocks": []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*A tip*\nSay what you will do, then do it.", false, false), nil, nil),
			slack.NewActionBlock("b", slack.NewButtonBlockElement("tip.another#0", "", slack.NewTextBlockObject(slack.PlainTextType, "Another", false, false))),
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = cli.RunContext(ctx) }()
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-cli.Events:
				if evt.Request != nil && evt.Request.EnvelopeID != "" {
					_ = cli.Ack(*evt.Request, answer)
				}
			}
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := fake.WaitConnected(wctx); err != nil {
		tb.Fatalf("bare client did not connect: %v", err)
	}
	return fake
}

// burstResult is one side's measures over every burst of a run.
type burstResult struct {
	ack, answer []time.Duration
	busy, slow  int
	growthMB    float64 // largest RSS growth over a burst
}

// sendBurst sends n "/trust tip" from users back to back and waits for every
// ack and first answer. busyText marks the ack that says "busy". With mem,
// it measures the RSS growth over the burst.
func sendBurst(tb testing.TB, fake *fakeslack.Server, users []string, n int, busyText string, mem bool, res *burstResult) {
	tb.Helper()
	fake.ResetRecordings()
	var before float64
	reset := false
	if mem {
		runtime.GC()
		debug.FreeOSMemory()
		reset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
		before, _ = procStatusKB("VmRSS")
	}
	urls := make([]string, n)
	ids := make([]string, n)
	for i := range n {
		urls[i] = fake.NewResponseURL()
		id, err := fake.SlashCommand(fakeslack.SlashCommand{UserID: users[i%len(users)], Text: "tip", ResponseURL: urls[i]})
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, id := range ids {
		a, err := fake.WaitAck(ctx, id)
		if err != nil {
			tb.Fatalf("ack: %v", err)
		}
		res.ack = append(res.ack, a.Received.Sub(a.Sent))
		if busyText != "" && ackText(a.Payload) == busyText {
			res.busy++
			continue
		}
		got, err := fake.WaitAnswers(ctx, urls[i], 1)
		if err != nil {
			tb.Fatalf("answer: %v", err)
		}
		d := got[0].At.Sub(a.Sent)
		res.answer = append(res.answer, d)
		if d > time.Second {
			res.slow++
		}
	}
	if hwm, ok := procStatusKB("VmHWM"); ok && reset {
		res.growthMB = max(res.growthMB, (hwm-before)/1024)
	}
}

func ackText(payload json.RawMessage) string {
	var p struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(payload, &p)
	return p.Text
}

func procStatusKB(field string) (float64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb, err == nil
		}
	}
	return 0, false
}

func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
}

func benchUsers(bot *Bot) []string {
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf("UBENCH%02d", i)
		bot.Slack.AddUser(fakeslack.User{ID: users[i], TZ: "Asia/Tokyo", Locale: "ja-JP"})
	}
	return users
}

// BenchmarkBurst compares trustbot with the bare client over bursts of 300
// and 1,000 commands from 50 users; each iteration sends one burst to each,
// trustbot first. Memory growth is the process's peak RSS during a
// trustbot burst (VmHWM, reset before it) over its RSS before.
func BenchmarkBurst(b *testing.B) {
	for _, n := range []int{300, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			bot := MustRunBot(b, map[string]string{"LOG_LEVEL": "warn"})
			users := benchUsers(bot)
			bare := bareClient(b)
			busy := mustLibrary(b).T(trustbot.Japanese, "slack.busy")
			// One command per user first: the first answer to a user looks
			// their profile up, which a burst of regulars does not.
			sendBurst(b, bot.Slack, users, len(users), busy, false, &burstResult{})
			var tb, bc burstResult
			for b.Loop() {
				sendBurst(b, bot.Slack, users, n, busy, true, &tb)
				sendBurst(b, bare, users, n, "", false, &bc)
			}
			b.ReportMetric(pct(tb.ack, 0.50), "ack-p50-ms")
			b.ReportMetric(pct(tb.ack, 0.99), "ack-p99-ms")
			b.ReportMetric(pct(tb.answer, 0.50), "answer-p50-ms")
			b.ReportMetric(pct(tb.answer, 0.99), "answer-p99-ms")
			b.ReportMetric(pct(bc.ack, 0.50), "bare-ack-p50-ms")
			b.ReportMetric(pct(bc.ack, 0.99), "bare-ack-p99-ms")
			b.ReportMetric(pct(tb.ack, 0.99)/pct(bc.ack, 0.99), "ack-p99/bare")
			b.ReportMetric(pct(tb.answer, 0.99)/pct(bc.ack, 0.99), "answer-p99/bare")
			b.ReportMetric(float64(tb.busy), "busy")
			b.ReportMetric(float64(tb.slow), "answers>1s")
			b.ReportMetric(tb.growthMB, "RSS-growth-MB")
		})
	}
}

// BenchmarkOneAtATime sends "/trust tip" one after the other, each after the
// previous answer, and reports when the answer became visible.
func BenchmarkOneAtATime(b *testing.B) {
	const n = 200
	bot := MustRunBot(b, map[string]string{"LOG_LEVEL": "warn"})
	users := benchUsers(bot)
	busy := mustLibrary(b).T(trustbot.Japanese, "slack.busy")
	sendBurst(b, bot.Slack, users, len(users), busy, false, &burstResult{})
	var res burstResult
	for b.Loop() {
		for i := range n {
			sendBurst(b, bot.Slack, users[i%len(users):i%len(users)+1], 1, busy, false, &res)
		}
	}
	b.ReportMetric(pct(res.ack, 0.50), "ack-p50-ms")
	b.ReportMetric(pct(res.answer, 0.50), "answer-p50-ms")
	b.ReportMetric(pct(res.answer, 0.99), "answer-p99-ms")
}
