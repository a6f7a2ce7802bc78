package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// BenchmarkTeamsBurst posts "tip" into n personal chats of one tenant, one
// message per user, back to back (each POST acknowledged before the next),
// through the fake Bot Framework to the real program (trustbot serve, its
// connector and SQLite file), and times each POST to the reply the fake
// connector records for that chat:
//
//	go test ./cmd/trustbot -run '^$' -bench TeamsBurst -benchtime 3x
//
// One user per chat keeps Teams' per-conversation limits out of the way;
// the per-tenant one (a bucket of 10 and 40 a second) is what spreads a
// burst of 300 over 7.25 s. paced-p50/p99 is that floor for each message:
// how long the k-th reply to go has to wait for the k-th token of a bucket
// full when the burst began, had the bot answered at once; over-paced-p50
// and p99 are how much later the replies came than their floors: the
// bot's own time. RSS growth is the process's peak RSS during the burst
// (VmHWM, reset before it) over its RSS before; the process holds the
// fake Bot Framework's recordings too.
func BenchmarkTeamsBurst(b *testing.B) {
	for _, n := range []int{10, 300} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			bot := MustRunTeams(b, map[string]string{"LOG_LEVEL": "warn"})
			users := make([]fakebf.User, n)
			for i := range users {
				users[i] = fakebf.NewUser(fmt.Sprintf("Bench%03d", i), "ja-JP", "Asia/Tokyo")
			}
			// One message per user first: the first activity of a user
			// saves their conversation and profile, which a burst of
			// regulars does not.
			for _, u := range users {
				bot.Say(b, u, "help")
			}
			var all teamsBurstResult
			for b.Loop() {
				// A burst starts with the tenant's bucket full, as after a
				// quiet quarter of a second.
				b.StopTimer()
				time.Sleep(time.Duration(float64(tenantBurst)/tenantRate*float64(time.Second)) + 50*time.Millisecond)
				b.StartTimer()
				teamsBurst(b, bot, users, &all)
			}
			b.ReportMetric(pct(all.reply, 0.50), "reply-p50-ms")
			b.ReportMetric(pct(all.reply, 0.99), "reply-p99-ms")
			b.ReportMetric(pct(all.paced, 0.50), "paced-p50-ms")
			b.ReportMetric(pct(all.paced, 0.99), "paced-p99-ms")
			b.ReportMetric(pct(all.over, 0.50), "over-paced-p50-ms")
			b.ReportMetric(pct(all.over, 0.99), "over-paced-p99-ms")
			b.ReportMetric(all.span.Seconds()/float64(all.bursts), "burst-s")
			b.ReportMetric(all.growthMB, "RSS-growth-MB")
			if load, err := os.ReadFile("/proc/loadavg"); err == nil {
				b.Logf("load average: %s", strings.TrimSpace(string(load)))
			}
		})
	}
}

// The tenant's bucket of internal/teams' pacer (50 a second allowed).
const (
	tenantBurst = 10
	tenantRate  = 40.0
)

type teamsBurstResult struct {
	reply, paced, over []time.Duration
	span               time.Duration // first POST to last reply, summed over bursts
	bursts             int
	growthMB           float64
}

// teamsBurst posts one "tip" per user back to back and waits for every
// reply.
func teamsBurst(b *testing.B, bot *TeamsBot, users []fakebf.User, res *teamsBurstResult) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before, _ := procStatusKB(os.Getpid(), "VmRSS")

	// Tokens and bodies are made before the clock starts: the Bot
	// Framework signs one token per service URL, not per activity.
	url := "http://" + bot.Public + "/api/messages"
	token := bot.BF.Token(bot.BF.ServiceURL(), fakebf.Genuine)
	bodies := make([][]byte, len(users))
	for i, u := range users {
		var err error
		if bodies[i], err = json.Marshal(bot.BF.Personal(u, "tip")); err != nil {
			b.Fatal(err)
		}
	}
	seen := len(bot.BF.Requests())
	posted := make([]time.Time, len(users))
	for i, body := range bodies {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Authorization", "Bearer "+token)
		posted[i] = time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("POST answered %d", resp.StatusCode)
		}
	}

	// Each chat's reply, as the fake connector recorded it.
	conv := make(map[string]int, len(users))
	for i, u := range users {
		conv[bot.BF.PersonalConversationID(u.ID)] = i
	}
	replied := make([]time.Time, len(users))
	got := 0
	bot.eventually(b, "every reply", func() bool {
		reqs := bot.BF.Requests()
		for _, r := range reqs[seen:] {
			i, ok := conv[r.Conversation]
			if ok && (r.Method == "send" || r.Method == "reply") && r.Status < 300 && replied[i].IsZero() && r.Time.After(posted[i]) {
				replied[i] = r.Time
				got++
			}
		}
		seen = len(reqs)
		return got == len(users)
	})
	if hwm, ok := procStatusKB(os.Getpid(), "VmHWM"); ok && reset {
		res.growthMB = max(res.growthMB, (hwm-before)/1024)
	}
	// Every reply is a tip, none a "busy".
	another := mustLibrary(b).T(trustbot.Japanese, "button.another_tip")
	for _, u := range users {
		msgs := bot.botMessages(bot.BF.PersonalConversationID(u.ID))
		if len(msgs) == 0 || !strings.Contains(cardText(msgs[len(msgs)-1]), another) {
			b.Fatalf("%s's reply is not a tip", u.Name)
		}
	}

	// The floor: the k-th reply to go cannot go before the k-th token of
	// the tenant's bucket, full when the burst began, nor before its
	// message came.
	order := make([]int, len(users))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return replied[x].Compare(replied[y]) })
	last := posted[0]
	for k, i := range order {
		floor := posted[0].Add(time.Duration(float64(max(0, k+1-tenantBurst)) / tenantRate * float64(time.Second)))
		if posted[i].After(floor) {
			floor = posted[i]
		}
		res.reply = append(res.reply, replied[i].Sub(posted[i]))
		res.paced = append(res.paced, floor.Sub(posted[i]))
		res.over = append(res.over, replied[i].Sub(floor))
		last = replied[i]
	}
	res.span += last.Sub(posted[0])
	res.bursts++
}
