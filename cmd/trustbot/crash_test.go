package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// crashChildEnv makes the test binary act as the program: with it set,
// the binary runs run(os.Args[1:]) and exits with its status, before any
// test starts. The crash test starts such children and kills them.
const crashChildEnv = "TRUSTBOT_CRASH_CHILD"

func init() {
	if os.Getenv(crashChildEnv) != "1" {
		return
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

var summaryLine = regexp.MustCompile(`dispatched as of \S+: (\d+) claimed, (\d+) sent, (\d+) missed, (\d+) reconciled, (\d+) requeued, (\d+) unreachable, (\d+) uncertain, (\d+) failed`)

// crashRun is one start of "trustbot dispatch" in a child process.
type crashRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func startDispatch(t *testing.T, env []string, now time.Time) *crashRun {
	t.Helper()
	r := &crashRun{done: make(chan error, 1)}
	r.cmd = exec.Command(os.Args[0], "dispatch", "--now", now.Format(time.RFC3339))
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	return r
}

// logCount counts the child's log records with this message.
func (r *crashRun) logCount(msg string) int {
	return strings.Count(r.stderr.String(), "msg="+strconv.Quote(msg))
}

const (
	logReconciled = "delivery left sending was found on the platform"
	logRequeued   = "delivery left sending was not found; sending again"
)

// deliveryIDOf returns the delivery ID a DM is tagged with.
func deliveryIDOf(m fakeslack.Message) string {
	var meta struct {
		EventType    string `json:"event_type"`
		EventPayload struct {
			DeliveryID string `json:"delivery_id"`
		} `json:"event_payload"`
	}
	json.Unmarshal(m.Metadata, &meta)
	if meta.EventType != "trustbot_delivery" {
		return ""
	}
	return meta.EventPayload.DeliveryID
}

// openRaw opens the database file directly, as an operator would after a
// crash.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// deliveryStates returns each delivery's state by ID.
func deliveryStates(t *testing.T, path string) map[string]string {
	t.Helper()
	db := openRaw(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT id, state FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			t.Fatal(err)
		}
		out[id] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// settle waits until the fake Slack has finished the requests the killed
// process left behind: its message count stops changing.
func settle(fake *fakeslack.Server) int {
	n, since := len(fake.AllMessages()), time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := len(fake.AllMessages()); m != n {
			n, since = m, time.Now()
		} else if time.Since(since) > 200*time.Millisecond {
			break
		}
	}
	return n
}

// TestDispatchSurvivesKills is the crash test: "trustbot dispatch" fans out
// 1,000 due check-ins to a fake Slack that answers chat.postMessage slowly,
// and is killed with SIGKILL at different points: just after Slack accepted
// a message, while its own reconciliation after a restart is under way, and
// with posts in flight. It is restarted with the same command each time and
// the last run finishes. Every user gets a DM; a second DM is allowed only
// for a message Slack had accepted when the process died (at most one per
// kill); the database ends with one sent delivery per user, none left
// sending, and passes its integrity check.
func TestDispatchSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts and kills child processes")
	}
	const n = 1000
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "trustbot.db")
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetDelay("chat.postMessage", 10*time.Millisecond)
	fake.SetDelay("conversations.history", 20*time.Millisecond)

	// Seed: 1,000 users with a weekly check-in due now, in three zones,
	// with fresh profiles (no users.info during the fan-out).
	now := time.Now().UTC().Truncate(time.Minute)
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	zones := []string{"Asia/Tokyo", "UTC", "America/New_York"}
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("UCRASH%04d", i)
		k := trustbot.UserKey{Team: fakeslack.TeamID, User: users[i]}
		tz := zones[i%len(zones)]
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		local := now.In(loc)
		locale := "en-US"
		if tz == "Asia/Tokyo" {
			locale = "ja-JP"
		}
		if err := store.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: tz, Locale: locale, FetchedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := store.SaveSchedule(ctx, trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: local.Weekday(),
			Minute: local.Hour()*60 + local.Minute(), Active: true, Occurrence: trustbot.DateOf(local), NextDueAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	env := append(os.Environ(),
		crashChildEnv+"=1",
		"SLACK_BOT_TOKEN="+fakeslack.BotToken,
		"SLACK_APP_TOKEN="+fakeslack.AppToken,
		"SLACK_API_URL="+fake.APIURL(),
		"TRUSTBOT_DB="+dbPath,
		"TRUSTBOT_SEND_RATE=1000",
		"TRUSTBOT_PLAYBOOKS_DIR=",
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
	)
	posts := func() int { return len(fake.Calls("chat.postMessage")) }
	accepted := func() int { return len(fake.AllMessages()) }
	history := func() int { return len(fake.Calls("conversations.history")) }

	type kill struct {
		point                string
		trigger              func() bool
		posts                int // chat.postMessage calls seen by Slack when killed
		accepted             int // messages Slack had accepted when killed
		sending              int // deliveries the database had sending when killed
		window               int // of those, the ones Slack had accepted: the duplicate window
		inReconc             bool
		reconciled, requeued int // what the next start did about them
	}
	var kills []*kill
	atAccepted := func(m int) func() bool { return func() bool { return accepted() >= m } }
	atPosts := func(m int) func() bool { return func() bool { return posts() >= m } }
	kills = append(kills,
		&kill{point: "just after Slack accepted message 250", trigger: atAccepted(250)},
		&kill{point: "during reconciliation after the restart"},
		&kill{point: "with posts in flight, at call 600", trigger: atPosts(600)},
		&kill{point: "just after Slack accepted message 850", trigger: atAccepted(850)},
	)

	windowIDs := map[string]bool{} // deliveries Slack had accepted, not yet recorded, at a kill
	var runs []*crashRun
	for i, k := range kills {
		if k.trigger == nil {
			// Kill the restart while it looks for what the previous run
			// left sending; if that run left nothing, kill mid fan-out.
			if prev := kills[i-1]; prev.sending > 0 {
				h := history()
				k.trigger, k.inReconc = func() bool { return history() > h }, true
			} else {
				k.point, k.trigger = "with posts in flight, at call 400", atPosts(400)
			}
		}
		r := startDispatch(t, env, now)
		runs = append(runs, r)
		tick := time.NewTicker(time.Millisecond)
		deadline := time.After(60 * time.Second)
	wait:
		for {
			select {
			case err := <-r.done:
				tick.Stop()
				t.Fatalf("run %d ended before its kill (%s): %v\nstdout:\n%s\nstderr:\n%s", i+1, k.point, err, r.stdout.String(), r.stderr.String())
			case <-deadline:
				r.cmd.Process.Kill()
				t.Fatalf("run %d: no kill point (%s) within 60s", i+1, k.point)
			case <-tick.C:
				if k.trigger() {
					break wait
				}
			}
		}
		tick.Stop()
		if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-r.done
		k.posts = posts()
		k.accepted = settle(fake)
		states := deliveryStates(t, dbPath)
		for _, m := range fake.AllMessages() {
			if id := deliveryIDOf(m); states[id] == trustbot.Sending {
				k.window++
				windowIDs[id] = true
			}
		}
		for _, s := range states {
			if s == trustbot.Sending {
				k.sending++
			}
		}
		if len(states) != n {
			t.Fatalf("after kill %d: %d deliveries, want %d (all claimed before the first send)", i+1, len(states), n)
		}
	}

	// The last start runs to the end.
	last := startDispatch(t, env, now)
	runs = append(runs, last)
	select {
	case err := <-last.done:
		if err != nil {
			t.Fatalf("last run: %v\nstdout:\n%s\nstderr:\n%s", err, last.stdout.String(), last.stderr.String())
		}
	case <-time.After(90 * time.Second):
		last.cmd.Process.Kill()
		t.Fatalf("last run did not finish within 90s")
	}
	for i, k := range kills {
		next := runs[i+1]
		k.reconciled, k.requeued = next.logCount(logReconciled), next.logCount(logRequeued)
		// A run that was not itself killed while reconciling settled
		// every delivery the previous one left sending: the ones Slack
		// had are recorded, the others queued again.
		if i+1 < len(kills) && kills[i+1].inReconc {
			continue
		}
		if k.reconciled != k.window || k.requeued != k.sending-k.window {
			t.Errorf("after kill %d (%s): %d left sending, %d of them accepted by Slack; the restart reconciled %d and requeued %d",
				i+1, k.point, k.sending, k.window, k.reconciled, k.requeued)
		}
	}
	m := summaryLine.FindStringSubmatch(last.stdout.String())
	if m == nil {
		t.Fatalf("no summary line from the last run:\n%s", last.stdout.String())
	}
	summary := m[0]
	count := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if count(1) != 0 || count(6)+count(7)+count(8) != 0 {
		t.Errorf("last run: %s; want nothing claimed (all were claimed by the first run) and nothing failed", summary)
	}

	// Every user has a DM; second DMs only from the duplicate window.
	byUser := map[string][]fakeslack.Message{}
	for _, msg := range fake.AllMessages() {
		byUser[strings.TrimPrefix(msg.Channel, "D")] = append(byUser[strings.TrimPrefix(msg.Channel, "D")], msg)
	}
	duplicates, dupUsers := 0, 0
	for _, u := range users {
		msgs := byUser[u]
		if len(msgs) == 0 {
			t.Errorf("%s got no DM", u)
			continue
		}
		if len(msgs) > 1 {
			dupUsers++
			duplicates += len(msgs) - 1
			inWindow := false
			for _, msg := range msgs {
				inWindow = inWindow || windowIDs[deliveryIDOf(msg)]
			}
			if !inWindow {
				t.Errorf("%s got %d DMs, none of them accepted by Slack when a process died", u, len(msgs))
			}
		}
	}
	if duplicates > len(kills) {
		t.Errorf("%d duplicate DMs for %d kills", duplicates, len(kills))
	}

	// The database: one delivery per user, all sent, none sending, intact.
	db := openRaw(t, dbPath)
	defer db.Close()
	var rows, distinct, sent, sending int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT team || '/' || user), count(*) FILTER (WHERE state = 'sent'),
		count(*) FILTER (WHERE state = 'sending') FROM deliveries`).Scan(&rows, &distinct, &sent, &sending); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n || sent != n || sending != 0 {
		t.Errorf("deliveries: %d rows for %d users, %d sent, %d sending; want %d, %d, %d, 0", rows, distinct, sent, sending, n, n, n)
	}
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q %v", integrity, err)
	}
	// Each DM carries the ID of the user's delivery.
	ids := map[string]string{}
	q, err := db.Query(`SELECT user, id FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var u, id string
		q.Scan(&u, &id)
		ids[u] = id
	}
	q.Close()
	for u, msgs := range byUser {
		for _, msg := range msgs {
			if got := deliveryIDOf(msg); got != ids[u] {
				t.Errorf("%s: DM tagged %q, the user's delivery is %q", u, got, ids[u])
			}
		}
	}

	for i, k := range kills {
		t.Logf("kill %d %s: Slack had %d calls, %d messages; %d deliveries left sending, %d of them accepted by Slack; next start reconciled %d, requeued %d",
			i+1, k.point, k.posts, k.accepted, k.sending, k.window, k.reconciled, k.requeued)
	}
	t.Logf("last run: %s", summary)
	t.Logf("%d kills, %d users with more than one DM, %d duplicate DMs; %d DMs for %d users; %d chat.postMessage calls",
		len(kills), dupUsers, duplicates, len(fake.AllMessages()), n, posts())
}
