package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/store/storetest"
)

// replicasTestEnv turns on the tests of several processes on one
// PostgreSQL database (make test-replicas): they run for tens of seconds.
const replicasTestEnv = "TRUSTBOT_REPLICAS_TEST"

func replicasTest(t *testing.T) string {
	t.Helper()
	if os.Getenv(replicasTestEnv) == "" {
		t.Skip("the replica tests run with make test-replicas (" + replicasTestEnv + "=1)")
	}
	return pgtest.URL(t)
}

// claimAll turns every due check-in into a delivery waiting to be sent.
func claimAll(t *testing.T, dsn string, due time.Time, n int) {
	t.Helper()
	db, err := openStore(context.Background(), Config{DB: dsn}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := db.ClaimDue(context.Background(), due, n+1, storetest.WeekAdvance)
	if err != nil || len(ds) != n {
		t.Fatalf("claimed %d of %d: %v", len(ds), n, err)
	}
}

// TestReplicasShareTheSendRate: three processes on one PostgreSQL
// database, each with TRUSTBOT_SEND_RATE 20, fan out 300 check-ins
// together to the fake Slack. Their sends together keep 20 a second (each
// alone would allow 20, and 60 in all), and a 429 with Retry-After met by
// one of them stops all three for the workspace until it has passed.
// Every user gets one check-in.
func TestReplicasShareTheSendRate(t *testing.T) {
	dsn := replicasTest(t)
	const (
		rate     = 20.0
		users    = 300
		before   = 200 // messages accepted when the 429 comes
		retry    = 2 * time.Second
		replicas = 3
	)
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetDelay("chat.postMessage", 10*time.Millisecond)
	due := time.Now().UTC().Truncate(time.Minute)
	seedCrash(t, dsn, crashLoad{checkins: users}, due)
	// Every check-in is claimed before the replicas start, so that all
	// three find the whole fan-out to send: a replica whose pass began
	// before the claims were written would find nothing.
	claimAll(t, dsn, due, users)
	env := append(os.Environ(),
		crashChildEnv+"=1",
		"SLACK_BOT_TOKEN="+fakeslack.BotToken,
		"SLACK_API_URL="+fake.APIURL(),
		"TRUSTBOT_DB="+dsn,
		"TRUSTBOT_SEND_RATE="+strconv.FormatFloat(rate, 'f', -1, 64),
		"TRUSTBOT_PLAYBOOKS_DIR=",
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
	)
	var runs []*crashRun
	for range replicas {
		runs = append(runs, startDispatch(t, env, due))
	}
	limited := false
	tick := time.NewTicker(time.Millisecond)
	deadline := time.After(2 * time.Minute)
	for ended := 0; ended < replicas; {
		select {
		case <-tick.C:
			if !limited && len(fake.AllMessages()) >= before {
				fake.RateLimit("chat.postMessage", 1, strconv.Itoa(int(retry/time.Second)))
				limited = true
			}
		case <-deadline:
			for _, r := range runs {
				r.cmd.Process.Kill()
			}
			t.Fatal("the replicas did not finish within 2 minutes")
		default:
			for _, r := range runs {
				select {
				case err := <-r.done:
					if err != nil {
						t.Fatalf("a replica failed: %v\n%s\n%s", err, r.stdout.String(), r.stderr.String())
					}
					ended++
				default:
				}
			}
			time.Sleep(time.Millisecond)
		}
	}
	tick.Stop()

	// Every replica sent some of the fan-out.
	sentBy := make([]int, replicas)
	for i, r := range runs {
		m := summaryLine.FindStringSubmatch(r.stdout.String())
		if m == nil {
			t.Fatalf("replica %d: no summary line:\n%s\n%s", i+1, r.stdout.String(), r.stderr.String())
		}
		sentBy[i], _ = strconv.Atoi(m[2])
		if sentBy[i] == 0 {
			t.Errorf("replica %d sent nothing: %s", i+1, m[0])
		}
	}
	// One check-in each.
	perUser := map[string]int{}
	for _, m := range fake.AllMessages() {
		perUser[m.Channel]++
	}
	lost, dups := 0, 0
	for i := range users {
		switch n := perUser[fmt.Sprintf("DUCRASH%04d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	if lost+dups > 0 {
		t.Errorf("%d users got no check-in, %d second ones", lost, dups)
	}

	calls := fake.Calls("chat.postMessage")
	slices.SortFunc(calls, func(a, b fakeslack.Call) int { return a.At.Compare(b.At) })
	// The call that met the 429 is the one whose delivery was posted
	// again after it.
	limitedAt := -1
	seen := map[string]int{}
	for i, c := range calls {
		id := deliveryIDOf(fakeslack.Message{Metadata: []byte(c.Params["metadata"])})
		if j, ok := seen[id]; ok && limitedAt < 0 {
			limitedAt = j
		}
		seen[id] = i
	}
	if limitedAt < 0 {
		t.Fatalf("no call met the 429 (%d calls, %d messages)", len(calls), len(fake.AllMessages()))
	}
	// The rate before it: the calls from the first to the 429.
	span := calls[limitedAt].At.Sub(calls[0].At)
	achieved := float64(limitedAt) / span.Seconds()
	// After it: every replica waits out the Retry-After. A call that had
	// its turn and was on its way when the 429 came may still go.
	at := calls[limitedAt].At
	var during []time.Duration
	for _, c := range calls[limitedAt+1:] {
		if d := c.At.Sub(at); d > 100*time.Millisecond && d < retry-100*time.Millisecond {
			during = append(during, d)
		}
	}
	after := calls[len(calls)-1].At.Sub(at) - retry
	afterRate := float64(len(calls)-limitedAt-1) / after.Seconds()
	t.Logf("%d replicas at TRUSTBOT_SEND_RATE %g: %d calls in %v before the 429: %.2f/s in all (sent by each: %v); %d calls during the %v Retry-After; %.2f/s after it; %d lost, %d duplicates",
		replicas, rate, limitedAt, span.Round(time.Millisecond), achieved, sentBy, len(during), retry, afterRate, lost, dups)
	if achieved < rate*0.95 || achieved > rate*1.05 {
		t.Errorf("the replicas sent %.2f messages a second in all, want %g within 5%%", achieved, rate)
	}
	if len(during) > 0 {
		t.Errorf("%d calls went during the Retry-After of another replica's 429, at %v after it", len(during), during)
	}
}
