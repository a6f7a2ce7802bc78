package slack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// BenchmarkSlashCommand takes "/trust tip" frames as the socket reader
// does and answers each in its ack, as in a burst: the envelope read, the
// job queued with its pending ack and budget, the payload read by the
// worker, a kept (shared) reply handed over, the ack encoded and written
// to a loopback WebSocket whose far end discards it. One op is one
// command; its allocations are the Slack side's garbage per command (the
// far end's reads count too, and are few). frame queues the job before
// it returns.
func BenchmarkSlashCommand(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			_, rd, err := conn.NextReader()
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, rd)
		}
	}))
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	reply := trustbot.Reply{Text: "A tip\nSay what you will do, then do it.", Shared: true, Blocks: []trustbot.Block{
		{Kind: trustbot.Context, Text: "Topic: asking"},
		{Kind: trustbot.Section, Title: "A tip", Text: "Say what you will do, then do it."},
		{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: "tip.another", Label: "Another", Style: trustbot.Primary}}},
	}}
	// A budget that cannot run out under a profiler or a busy machine:
	// every answer goes in its ack, as most do in a burst.
	c := New(Config{BotToken: "xoxb-bench", AppToken: "xapp-bench", Workers: 8, AnswerBudget: time.Hour})
	c.SetHandler(handlerFunc(func(context.Context, trustbot.Request) trustbot.Reply { return reply }))
	c.sock.Store(&socketConn{conn: conn})
	ctx := context.Background()
	const head = `{"envelope_id":"`
	const tail = `","type":"slash_commands","accepts_response_payload":true,"retry_attempt":0,"retry_reason":"",` +
		`"payload":{"token":"","team_id":"T0FAKE","team_domain":"fake","channel_id":"C0GENERAL","channel_name":"general",` +
		`"user_id":"UBENCH07","user_name":"ubench07","command":"/trust","text":"tip","api_app_id":"A0FAKE",` +
		`"is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/T0FAKE/1234/abcdef",` +
		`"trigger_id":"1234.5678.abcdef"}}`
	frame := make([]byte, 0, 512)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		frame = append(strconv.AppendInt(append(frame[:0], head...), int64(i), 10), tail...)
		if err := c.frame(frame); err != nil {
			b.Fatal(err)
		}
		select {
		case j := <-c.jobs:
			c.work(ctx, j)
			if j.ack == nil || j.ack.state.Load() != ackAnswered {
				b.Fatal("not answered in the ack")
			}
		default:
			b.Fatal("no job queued")
		}
	}
}
