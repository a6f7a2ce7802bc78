package main

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The replica benchmarks need a PostgreSQL server (make bench-pg starts
// one); without TRUSTBOT_TEST_PG they skip.

// BenchmarkReplicasDispatch: 1,000 check-ins, claimed beforehand, sent by
// one or three "trustbot dispatch" processes at once on one PostgreSQL
// database, at the highest TRUSTBOT_SEND_RATE (1000/s, shared by the
// processes), to the fake Slack answering at once. Each op is one
// fan-out, in a database of its own; seeding and claiming are not timed.
// deliveries/s is counted from the fake Slack's first chat.postMessage to
// its last; wall-deliveries/s from the processes' start to the last one's
// exit.
func BenchmarkReplicasDispatch(b *testing.B) {
	const n = 1000
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			var rates, walls []float64
			for b.Loop() {
				b.StopTimer()
				dsn := pgtest.URL(b)
				fake := fakeslack.New()
				due := time.Now().UTC().Truncate(time.Minute)
				seedCrash(b, dsn, crashLoad{checkins: n}, due)
				claimAll(b, dsn, due, n)
				env := replicaEnv(fake, dsn, 1000)
				b.StartTimer()
				start := time.Now()
				var runs []*crashRun
				for range replicas {
					runs = append(runs, startDispatch(b, env, due))
				}
				for i, r := range runs {
					if err := <-r.done; err != nil {
						b.Fatalf("replica %d: %v\n%s", i+1, err, r.stderr.String())
					}
				}
				wall := time.Since(start)
				b.StopTimer()
				calls := fake.Calls("chat.postMessage")
				perUser := map[string]int{}
				for _, m := range fake.AllMessages() {
					perUser[m.Channel]++
				}
				if len(calls) != n || len(perUser) != n {
					b.Fatalf("%d posts to %d users, want one each to %d", len(calls), len(perUser), n)
				}
				for i, r := range runs {
					if summaryLine.FindStringSubmatch(r.stdout.String()) == nil {
						b.Fatalf("replica %d: no summary line:\n%s\n%s", i+1, r.stdout.String(), r.stderr.String())
					}
				}
				first, last := calls[0].At, calls[0].At
				for _, c := range calls {
					first, last = minTime(first, c.At), maxTime(last, c.At)
				}
				rates = append(rates, float64(n-1)/last.Sub(first).Seconds())
				walls = append(walls, n/wall.Seconds())
				fake.Close()
				b.StartTimer()
			}
			b.ReportMetric(median(rates), "deliveries/s")
			b.ReportMetric(median(walls), "wall-deliveries/s")
		})
	}
}

// BenchmarkReplicasBurst is BenchmarkBurst with one or three replicas of
// "trustbot serve", each a process of its own with its own Socket Mode
// connection to one fake Slack, which hands each envelope to one of them
// as Slack does, all on one PostgreSQL database. The bare slack-go client
// is measured in turn, as in BenchmarkBurst.
func BenchmarkReplicasBurst(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		for _, n := range []int{300, 1000} {
			b.Run(fmt.Sprintf("replicas=%d/n=%d", replicas, n), func(b *testing.B) {
				fake, _, users := benchReplicas(b, pgtest.URL(b), replicas)
				bare, _ := bareClient(b)
				busy := mustLibrary(b).T(trustbot.Japanese, "slack.busy")
				// One command per user first: the first answer to a user
				// looks their profile up, which a burst of regulars does not.
				sendBurst(b, fake, users, len(users), busy, nil, nil, &burstResult{})
				var tb, bc burstResult
				for b.Loop() {
					sendBurst(b, fake, users, n, busy, nil, nil, &tb)
					sendBurst(b, bare, users, n, "", nil, nil, &bc)
				}
				reportBurst(b, &tb, &bc)
			})
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
