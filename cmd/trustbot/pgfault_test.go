package main

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// TestReplicasLoseTheirConnections: one "trustbot serve" on PostgreSQL
// fans out 300 check-ins; three times during the fan-out the server ends
// every connection the process holds (pg_terminate_backend), as a
// failover or a restarted pooler does. What was running then meets
// "database busy" (a claim, the record of a send, a lease renewal), and
// the next passes take it up: every delivery ends sent, and every user
// has exactly one check-in.
func TestReplicasLoseTheirConnections(t *testing.T) {
	dsn := replicasTest(t)
	const n = 300
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetDelay("chat.postMessage", 10*time.Millisecond)
	due := time.Now().UTC().Truncate(time.Minute)
	seedCrash(t, dsn, crashLoad{checkins: n}, due)
	db := pgSQL(t, dsn)
	r := startChild(t, replicaEnv(fake, dsn, 50), "serve")
	defer r.cmd.Process.Kill()
	start := time.Now()
	ended := 0
	for _, at := range []int{n / 5, n / 2, n * 4 / 5} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		got, err := fake.WaitAllMessages(ctx, at)
		cancel()
		if err != nil {
			t.Fatalf("Slack has %d messages after a minute, waiting for %d\n%s", len(got), at, r.stderr.String())
		}
		var k int
		if err := db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&k); err != nil {
			t.Fatal(err)
		}
		ended += k
	}
	var sent, all, sending int
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if err := db.QueryRow(`SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'sending'), count(*) FROM deliveries`).Scan(&sent, &sending, &all); err != nil {
			t.Fatal(err)
		}
		if sent == n && all == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 minutes: %d deliveries, %d sent, %d sending, of %d\n%s", all, sent, sending, n, r.stderr.String())
		}
	}
	took := time.Since(start)
	r.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-r.done; err != nil {
		t.Fatalf("serve stopped with SIGTERM: %v\n%s", err, r.stderr.String())
	}
	lost, dups := lostAndDuplicated(fake.AllMessages(), n)
	// What the lost connections did, by the message logged.
	met := map[string]int{}
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			if _, rest, ok := strings.Cut(line, "msg="); ok {
				msg, _ := strconv.QuotedPrefix(rest)
				met[msg]++
			}
		}
	}
	t.Logf("3 times every connection ended (%d connections); warnings and errors: %v; %d deliveries sent in %v; %d lost, %d duplicates; %d reconciled, %d sent again",
		ended, met, sent, took.Round(time.Second), lost, dups, r.logCount(logReconciled), r.logCount(logRequeued))
	if lost+dups > 0 {
		t.Errorf("%d users got no check-in, %d got a second one", lost, dups)
	}
	if ended < 3 {
		t.Errorf("only %d connections were ended", ended)
	}
}
