package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// The HTTP burst sends "/trust tip" as n signed HTTP requests at once, as
// Slack does when many people type it together, to the real program in
// HTTP mode and, in turn, to a bare handler that checks the signature with
// slack-go and answers a fixed two-block message: the floor of any Go app
// in HTTP mode.
//
//	go test ./cmd/trustbot -run '^$' -bench 'SlackHTTPBurst' -benchtime 3x
//
// ack: request sent → its response read (the answer when it rides in
// it). answer: request sent → the first answer the user sees.

// bareHTTP is the floor: verify, answer.
func bareHTTP(tb testing.TB) *fakeslack.Server {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	answer := []byte(`{"response_type":"ephemeral","text":"A tip","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*A tip*\nSay what you will do, then do it."}},{"type":"actions","block_id":"b","elements":[{"type":"button","action_id":"tip.another#0","text":{"type":"plain_text","text":"Another"}}]}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		sv, err := slack.NewSecretsVerifier(r.Header, fakeslack.SigningSecret)
		if err == nil {
			sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	tb.Cleanup(srv.Close)
	fake.SetRequestURLs(srv.URL, srv.URL, srv.URL)
	return fake
}

// sendHTTPBurst posts n "/trust tip" at once and waits for every answer.
func sendHTTPBurst(tb testing.TB, fake *fakeslack.Server, users []string, n int, busyText string, res *burstResult) {
	tb.Helper()
	fake.ResetRecordings()
	type sent struct {
		url   string
		start time.Time
		d     fakeslack.Delivery
		err   error
	}
	out := make([]sent, n)
	for i := range out {
		out[i].url = fake.NewResponseURL()
	}
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			out[i].start = time.Now()
			out[i].d, out[i].err = fake.PostSlashCommand(fakeslack.SlashCommand{UserID: users[i%len(users)], Text: "tip", ResponseURL: out[i].url})
		})
	}
	wg.Wait()
	ctx := ctxTimeout(tb)
	for _, s := range out {
		if s.err != nil || !s.d.OK() {
			tb.Fatalf("not acknowledged: %d in %s (%v, %v)", s.d.Status, s.d.Took, s.err, s.d.Err)
		}
		res.ack = append(res.ack, s.d.Took)
		if busyText != "" && bytes.Contains(s.d.Body, []byte(busyText)) {
			res.busy++
			continue
		}
		got, err := fake.WaitAnswers(ctx, s.url, 1)
		if err != nil {
			tb.Fatalf("answer: %v", err)
		}
		d := got[0].At.Sub(s.start)
		res.answer = append(res.answer, d)
		if d > time.Second {
			res.slow++
		}
	}
}

// BenchmarkSlackHTTPBurst compares trustbot in HTTP mode with the bare
// handler over bursts of 100 and 300 commands from 50 users.
func BenchmarkSlackHTTPBurst(b *testing.B) {
	for _, n := range []int{100, 300} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			bot := MustRunSlackHTTP(b, map[string]string{"LOG_LEVEL": "warn"})
			users := benchUsers(bot)
			bare := bareHTTP(b)
			busy := mustLibrary(b).T("ja", "slack.busy")
			sendHTTPBurst(b, bot.Slack, users, len(users), busy, &burstResult{})
			var tb, bc burstResult
			for b.Loop() {
				sendHTTPBurst(b, bot.Slack, users, n, busy, &tb)
				sendHTTPBurst(b, bare, users, n, "", &bc)
			}
			b.ReportMetric(pct(tb.ack, 0.50), "ack-p50-ms")
			b.ReportMetric(pct(tb.ack, 0.99), "ack-p99-ms")
			b.ReportMetric(pct(tb.answer, 0.50), "answer-p50-ms")
			b.ReportMetric(pct(tb.answer, 0.99), "answer-p99-ms")
			b.ReportMetric(pct(bc.ack, 0.50), "bare-ack-p50-ms")
			b.ReportMetric(pct(bc.ack, 0.99), "bare-ack-p99-ms")
			b.ReportMetric(float64(tb.busy), "busy")
			b.ReportMetric(float64(tb.slow), "answers>1s")
		})
	}
}
