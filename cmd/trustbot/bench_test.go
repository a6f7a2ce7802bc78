package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// BenchmarkSlashBurst sends a burst of 1,000 "/trust tip" envelopes to the
// real program over loopback, through slack-go's Socket Mode client, and
// reports the ack latency (envelope written to the socket → ack read back)
// and how many replies per second reached their response_url.
//
//	go test ./cmd/trustbot -run '^$' -bench SlashBurst -benchtime 3x
func BenchmarkSlashBurst(b *testing.B) {
	const burst = 1000
	bot := MustRunBot(b, map[string]string{"LOG_LEVEL": "warn"})
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf("UBENCH%02d", i)
		bot.Slack.AddUser(fakeslack.User{ID: users[i], TZ: "Asia/Tokyo", Locale: "ja-JP"})
	}
	var lat []time.Duration
	var elapsed time.Duration
	busy := 0
	b.ResetTimer()
	for range b.N {
		bot.Slack.ResetRecordings()
		urls := make([]string, burst)
		ids := make([]string, burst)
		start := time.Now()
		for i := range burst {
			urls[i] = bot.Slack.NewResponseURL()
			id, err := bot.Slack.SlashCommand(fakeslack.SlashCommand{UserID: users[i%len(users)], Text: "tip", ResponseURL: urls[i]})
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		for i, id := range ids {
			a, err := bot.Slack.WaitAck(ctx, id)
			if err != nil {
				b.Fatalf("ack: %v", err)
			}
			lat = append(lat, a.Received.Sub(a.Sent))
			if len(a.Payload) > 0 && string(a.Payload) != "null" {
				busy++ // answered "busy" in the ack: no reply will come
				urls[i] = ""
			}
		}
		for _, u := range urls {
			if u == "" {
				continue
			}
			if _, err := bot.Slack.WaitResponse(ctx, u, 1); err != nil {
				b.Fatalf("reply: %v", err)
			}
		}
		cancel()
		elapsed += time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "ack-p50-ms")
	b.ReportMetric(pct(0.99), "ack-p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ack-max-ms")
	b.ReportMetric(float64(burst*b.N)/elapsed.Seconds(), "replies/s")
	over := 0
	for _, l := range lat {
		if l > time.Second {
			over++
		}
	}
	b.ReportMetric(float64(over), "acks>1s")
	b.ReportMetric(float64(busy), "busy")
}
