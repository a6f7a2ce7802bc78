package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/pgtest"
)

// What a resumed replica logs for a send it held when it was stopped and
// another replica took over meanwhile.
const (
	logNotOurs        = "not sent: the delivery is no longer this replica's"
	logTakenMeanwhile = "sent, but another attempt had taken the delivery; its record stands"
	logUncertain      = "outcome unknown; will look for it before any resend"
	logLeaseEnded     = "this replica's lease had ended: what it was sending may be another's now; registering anew"
	// A send that failed its check for want of the database, or was
	// stopped, goes back to pending; the store refuses that when another
	// attempt took the delivery, and this is logged.
	logRequeueRefused = "not handed to the platform, but another attempt had taken the delivery"
	// A send whose message was on its way when the replica was stopped,
	// and whose record then failed: PostgreSQL had ended the stopped
	// process's connection (idle in a transaction past the server's
	// timeout). Nothing is recorded; reconciliation settles it, as the
	// other replicas had already done.
	logSentNotRecorded = "sent but not recorded; it will be reconciled"
)

// heldOutcomes are the lines with which a resumed replica ends a send it
// held: none posts a message or records anything.
var heldOutcomes = []string{logNotOurs, logTakenMeanwhile, logUncertain, logRequeueRefused, logSentNotRecorded}

// unsettled returns the deliveries of held for which r has logged none of
// heldOutcomes, each with the lines r logged about it.
func unsettled(r *crashRun, held []string) map[string][]string {
	lines := strings.Split(r.stderr.String(), "\n")
	out := map[string][]string{}
	for _, id := range held {
		var about []string
		done := false
		for _, l := range lines {
			if !strings.Contains(l, "delivery="+id) {
				continue
			}
			about = append(about, l)
			for _, msg := range heldOutcomes {
				if strings.Contains(l, "msg="+strconv.Quote(msg)) {
					done = true
				}
			}
		}
		if !done {
			out[id] = about
		}
	}
	return out
}

// TestReplicasPausedPastTheirLease: three "trustbot serve" replicas on
// one PostgreSQL database fan out check-ins; the replica that holds the
// first message still on its way is stopped with SIGSTOP while it holds
// its claims, past its lease, until the others have taken its deliveries
// over and every user has a check-in; then it is resumed with SIGCONT. It
// sends nothing and records nothing for what was taken over: each user
// has exactly one DM, no message is posted once it resumes, and the
// deliveries table is as the others left it.
//
//   - held before the call: the stopped replica's first call met a 429
//     (Retry-After 5 s), so its senders wait, each with its delivery
//     claimed, when it is stopped. Its deliveries are looked for on
//     Slack, not found, and sent by another replica.
//   - its calls on the way: Slack takes 5 s to answer chat.postMessage,
//     and the replica is stopped with its calls on their way. Slack posts
//     the messages meanwhile; another replica finds them in the users'
//     DMs and records them as sent; the stopped one gets the answers when
//     it resumes.
func TestReplicasPausedPastTheirLease(t *testing.T) {
	replicasTest(t)
	t.Run("held before the call", func(t *testing.T) {
		pauseReplica(t, func(fake *fakeslack.Server) { fake.RateLimit("chat.postMessage", 1, "5") }, nil)
	})
	t.Run("its calls on the way", func(t *testing.T) {
		pauseReplica(t,
			func(fake *fakeslack.Server) { fake.SetDelay("chat.postMessage", 5*time.Second) },
			// Calls made from now on are answered at once; those on
			// their way keep their 5 s.
			func(fake *fakeslack.Server) { fake.SetDelay("chat.postMessage", 10*time.Millisecond) })
	})
}

// pauseReplica runs one pause: arrange sets the fake Slack up before the
// replicas start, stopped (optional) once a replica is stopped.
func pauseReplica(t *testing.T, arrange, stopped func(*fakeslack.Server)) {
	const n = 30
	dsn := pgtest.URL(t)
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetDelay("chat.postMessage", 10*time.Millisecond)
	due := time.Now().UTC().Truncate(time.Minute)
	seedCrash(t, dsn, crashLoad{checkins: n}, due)
	arrange(fake)
	db := pgSQL(t, dsn)
	env := replicaEnv(fake, dsn, 200)
	var rs []*crashRun
	for range 3 {
		rs = append(rs, startChild(t, env, "serve"))
	}
	defer func() {
		for _, r := range rs {
			r.cmd.Process.Signal(syscall.SIGCONT)
			r.cmd.Process.Kill()
		}
	}()
	failf := func(format string, args ...any) {
		t.Helper()
		for i, r := range rs {
			t.Logf("replica %d (pid %d):\n%s", i+1, r.cmd.Process.Pid, r.stderr.String())
		}
		t.Fatalf(format, args...)
	}

	// The sender of the first message still on its way (held by the 429
	// or by Slack's slow answer, for seconds): its replica's row names
	// its process. Calls are recorded as they arrive, and the 429 goes to
	// whichever is answered first, so the first call recorded may have
	// been sent already.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var first, replica string
	var pid int
	var call fakeslack.Call
	for n := 1; first == ""; n++ {
		calls, err := fake.WaitCalls(ctx, "chat.postMessage", n)
		if err != nil {
			failf("no message on its way within a minute: %v", err)
		}
		call = calls[n-1]
		id := deliveryIDOf(fakeslack.Message{Metadata: []byte(call.Params["metadata"])})
		err = db.QueryRow(`SELECT r.pid, r.id FROM deliveries d JOIN replicas r ON r.id = d.replica WHERE d.id = $1 AND d.state = 'sending'`, id).Scan(&pid, &replica)
		switch {
		case err == nil:
			first = id
		case err != sql.ErrNoRows:
			failf("the replica sending %s: %v", id, err)
		}
	}
	i := slices.IndexFunc(rs, func(r *crashRun) bool { return r.cmd.Process.Pid == pid })
	if i < 0 {
		failf("delivery %s is sent by process %d, none of the replicas", first, pid)
	}
	paused := rs[i]
	if err := paused.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	if stopped != nil {
		stopped(fake)
	}
	held := sendingUnder(t, db, replica)
	if !slices.Contains(held, first) {
		failf("the stopped replica does not hold %s: it holds %v", first, held)
	}

	// The others take its deliveries over once its lease has ended, at
	// their next pass: every delivery is sent.
	var sent, all int
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if err := db.QueryRow(`SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FROM deliveries`).Scan(&sent, &all); err != nil {
			t.Fatal(err)
		}
		if sent == n && all == n {
			break
		}
		if time.Now().After(deadline) {
			failf("after 3 minutes with a replica stopped: %d deliveries, %d sent, of %d", all, sent, n)
		}
	}
	took := time.Since(stoppedAt)
	before := tableRows(t, db, `SELECT * FROM deliveries ORDER BY id`)
	for _, id := range held {
		if !strings.Contains(strings.Join(before, "\n"), id) {
			t.Fatalf("delivery %s is gone", id)
		}
	}
	callsBefore := len(fake.Calls("chat.postMessage"))

	// Resumed, the replica goes on with the sends it held: each ends
	// without a message or a record, and its renewal finds its lease
	// ended.
	if err := paused.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		left := unsettled(paused, held)
		if len(left) == 0 && paused.logCount(logLeaseEnded) > 0 {
			break
		}
		if len(fake.Calls("chat.postMessage")) > callsBefore {
			break // a post after the resume: counted below
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for id, lines := range left {
				fmt.Fprintf(&b, "\n%s, logged about it:\n\t%s", id, strings.Join(lines, "\n\t"))
			}
			failf("a minute after SIGCONT the resumed replica has settled %d of the %d sends it held (lease ended logged: %v); not settled:%s",
				len(held)-len(left), len(held), paused.logCount(logLeaseEnded) > 0, b.String())
		}
	}
	for _, r := range rs {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for j, r := range rs {
		if err := <-r.done; err != nil {
			failf("replica %d stopped with SIGTERM: %v", j+1, err)
		}
	}

	// Nothing posted since the resume, one DM per user, and the
	// deliveries as the others recorded them.
	var late []string
	for _, c := range fake.Calls("chat.postMessage")[callsBefore:] {
		late = append(late, deliveryIDOf(fakeslack.Message{Metadata: []byte(c.Params["metadata"])}))
	}
	if len(late) > 0 {
		t.Errorf("%d messages posted after the resume: %v", len(late), late)
	}
	byID := map[string]int{}
	for _, m := range fake.AllMessages() {
		byID[deliveryIDOf(m)]++
	}
	lost, dups := lostAndDuplicated(fake.AllMessages(), n)
	if lost+dups > 0 {
		t.Errorf("%d users got no check-in, %d got a second one", lost, dups)
	}
	for id, c := range byID {
		if c != 1 {
			t.Errorf("delivery %s posted %d times", id, c)
		}
	}
	after := tableRows(t, db, `SELECT * FROM deliveries ORDER BY id`)
	if d := diffRows(before, after); d != "" {
		t.Errorf("the resumed replica changed the deliveries:\n%s", d)
	}
	t.Logf("replica %d of 3 stopped %v after its call, holding %d deliveries; the others had sent all %d %v after the stop; resumed: %d sends abandoned, %d answers of sends another had recorded, %d outcomes unknown, %d handed back and refused, lease ended and registered anew; %d messages after the resume, %d lost, %d duplicates",
		i+1, stoppedAt.Sub(call.At).Round(time.Millisecond), len(held), n, took.Round(time.Second),
		paused.logCount(logNotOurs), paused.logCount(logTakenMeanwhile), paused.logCount(logUncertain), paused.logCount(logRequeueRefused), len(late), lost, dups)
}

// sendingUnder returns the deliveries sending under replica's attempts.
func sendingUnder(t *testing.T, db *sql.DB, replica string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT id FROM deliveries WHERE state = 'sending' AND replica = $1 ORDER BY id`, replica)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// tableRows returns every row of a query, each as its columns' text.
func tableRows(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%q ", cols[i], v.String)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffRows lists the rows of a that b lacks and those of b that a lacks.
func diffRows(a, b []string) string {
	var d []string
	for _, r := range a {
		if !slices.Contains(b, r) {
			d = append(d, "- "+r)
		}
	}
	for _, r := range b {
		if !slices.Contains(a, r) {
			d = append(d, "+ "+r)
		}
	}
	return strings.Join(d, "\n")
}
