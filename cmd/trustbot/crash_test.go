package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/testdb"
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
	os.Exit(childMain())
}

// childMain runs the program as a crash child. SIGTERM stops it as it
// stops the program (a rolling restart). TRUSTBOT_CHILD_CPUPROFILE names
// a file for its CPU profile, TRUSTBOT_CHILD_MEMPROFILE one for its
// allocation profile (written when it stops; one sample per
// TRUSTBOT_CHILD_MEMPROFILERATE bytes allocated, else Go's default),
// TRUSTBOT_CHILD_TRACE one for its execution trace (go tool trace), to
// profile a benchmark's trustbot process, and TRUSTBOT_CHILD_ACKLOG one
// for how each of its Slack acks went (see startAckLog).
func childMain() int {
	setProcs(os.Getenv, hostRoot())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer record("TRUSTBOT_CHILD_CPUPROFILE", "CPU profile", pprof.StartCPUProfile, pprof.StopCPUProfile)()
	defer record("TRUSTBOT_CHILD_MEMPROFILE", "allocation profile", startAllocs, func() {})()
	defer record("TRUSTBOT_CHILD_TRACE", "trace", trace.Start, trace.Stop)()
	defer record("TRUSTBOT_CHILD_ACKLOG", "ack log", startAckLog, func() {})()
	return run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
}

// startAllocs samples allocations from now on, at the rate
// TRUSTBOT_CHILD_MEMPROFILERATE sets, and has what they were written to w
// when the child's record of it ends (see record).
func startAllocs(w io.Writer) error {
	if r, err := strconv.Atoi(os.Getenv("TRUSTBOT_CHILD_MEMPROFILERATE")); err == nil && r > 0 {
		runtime.MemProfileRate = r
	}
	allocsTo = w
	return nil
}

// allocsTo is where startAllocs's profile goes.
var allocsTo io.Writer

// ackLog holds how each Slack ack went (slackAckTrace), in memory until
// the child stops, so that writing it costs the burst nothing.
var ackLog struct {
	sync.Mutex
	to    io.Writer
	lines []slack.AckTrace
}

// startAckLog has the child note how each Slack ack went and write it to
// w when it stops, one ack a line: envelope ID, how (slack.AckHow), when
// the frame was read and the ack written (Unix ns), and the jobs queued,
// the workers busy and whether a time per job was known when it was read.
func startAckLog(w io.Writer) error {
	ackLog.to = w
	slackAckTrace = func(t slack.AckTrace) {
		ackLog.Lock()
		ackLog.lines = append(ackLog.lines, t)
		ackLog.Unlock()
	}
	return nil
}

// writeAckLog writes the acks noted to f, if it is the ack log's file.
func writeAckLog(f io.Writer) {
	if ackLog.to != f {
		return
	}
	ackLog.Lock()
	defer ackLog.Unlock()
	w := bufio.NewWriter(f)
	for _, t := range ackLog.lines {
		fmt.Fprintf(w, "%s %s %d %d %d %d %t\n", t.Request, t.How, t.Read.UnixNano(), t.Written.UnixNano(), t.Waiting, t.Busy, t.Paced)
	}
	_ = w.Flush()
}

// record starts writing a profile or a trace to the file the environment
// variable env names, if it names one, and returns what ends it. One that
// cannot start says so and the child runs without it: the benchmark's
// figures do not depend on it.
func record(env, what string, start func(io.Writer) error, stop func()) (end func()) {
	name := os.Getenv(env)
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err == nil {
		if err = start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "no %s: %v\n", what, err)
		return func() {}
	}
	return func() {
		stop()
		if allocsTo == f {
			runtime.GC() // the profile counts allocations up to the last collection
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
		}
		writeAckLog(f)
		f.Close()
	}
}

var summaryLine = regexp.MustCompile(`dispatched as of \S+: (\d+) claimed, (\d+) sent, (\d+) missed, (\d+) reconciled, (\d+) requeued, (\d+) unreachable, (\d+) uncertain, (\d+) failed`)

// crashRun is one start of "trustbot dispatch" in a child process.
type crashRun struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer // read while the child writes
	done           chan error
}

func startDispatch(t testing.TB, env []string, now time.Time) *crashRun {
	t.Helper()
	// --force: some loads run with this host's clock far from Slack's.
	return startChild(t, env, "dispatch", "--force", "--now", now.Format(time.RFC3339))
}

// startChild starts the program in a child process with args.
func startChild(t testing.TB, env []string, args ...string) *crashRun {
	t.Helper()
	r := &crashRun{done: make(chan error, 1)}
	r.cmd = exec.Command(os.Args[0], args...)
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

// openRaw opens the database directly, as an operator would after a
// crash: the SQLite file, or the PostgreSQL database when the suite runs
// on it. Its queries take ? placeholders on either.
func openRaw(t *testing.T, dsn string) rawDB {
	t.Helper()
	db, err := testdb.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	d := sqlite.Dialect
	if dbKind(dsn) == Postgres {
		d = postgres.Dialect
	}
	return rawDB{db, d}
}

// rawDB is a database opened directly, with the store's placeholders.
type rawDB struct {
	*sql.DB
	d store.Dialect
}

func (r rawDB) QueryRow(q string, args ...any) *sql.Row { return r.DB.QueryRow(r.d.Rebind(q), args...) }
func (r rawDB) Query(q string, args ...any) (*sql.Rows, error) {
	return r.DB.Query(r.d.Rebind(q), args...)
}
func (r rawDB) Exec(q string, args ...any) (sql.Result, error) {
	return r.DB.Exec(r.d.Rebind(q), args...)
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
// process left behind (each of its connections served to the end and
// closed), and returns the count of messages Slack accepted.
func settle(t testing.TB, fake *fakeslack.Server) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := fake.WaitClientsGone(ctx); err != nil {
		t.Fatalf("the killed process's requests to Slack did not end: %v", err)
	}
	return len(fake.AllMessages())
}

// crashLoad is what a crash test fans out, and the clocks it runs under.
type crashLoad struct {
	checkins, journeys, channels int
	// ahead: dispatch runs as of this much after the real time
	// (trustbot dispatch --now ahead).
	ahead time.Duration
	// slackBehind: Slack's clock runs this much behind the host's (a host
	// clock running fast).
	slackBehind time.Duration
}

func (l crashLoad) total() int { return l.checkins + l.journeys + l.channels }

// crashKill is where a run is killed: after Slack accepted this share of
// the messages, with this share of the posts made (in flight), or while
// the restart reconciles what the previous run left sending.
type crashKill struct {
	accepted, posts float64
	inReconc        bool
}

// crashFigures are what a crash test counts.
type crashFigures struct {
	kills, deliveries, messages, duplicates, lost int
}

// seedCrash writes the load into a new database: each check-in user with
// a weekly check-in due at due; each journey user with a cooling-off
// journey whose first follow-up is due; each channel with a tip of the week
// due. Profiles are fresh, so no users.info is needed during the fan-out.
func seedCrash(t testing.TB, dbPath string, l crashLoad, due time.Time) {
	t.Helper()
	ctx := context.Background()
	// A SQLite file, or a PostgreSQL URL for the replica tests.
	store, err := openStore(ctx, Config{DB: dbPath}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	zones := []string{"Asia/Tokyo", "UTC", "America/New_York"}
	profile := func(k trustbot.UserKey, i int) *time.Location {
		tz := zones[i%len(zones)]
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		locale := "en-US"
		if tz == "Asia/Tokyo" {
			locale = "ja-JP"
		}
		if err := store.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: tz, Locale: locale, FetchedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return loc
	}
	for i := range l.checkins {
		k := trustbot.UserKey{Team: fakeslack.TeamID, User: fmt.Sprintf("UCRASH%04d", i)}
		local := due.In(profile(k, i))
		if err := store.SaveSchedule(ctx, trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: local.Weekday(),
			Minute: local.Hour()*60 + local.Minute(), Active: true, Occurrence: trustbot.DateOf(local), NextDueAt: due}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range l.journeys {
		k := trustbot.UserKey{Team: fakeslack.TeamID, User: fmt.Sprintf("UJOURNEY%04d", i)}
		local := due.In(profile(k, i))
		if err := store.SaveJourney(ctx, trustbot.Journey{ID: fmt.Sprintf("jcrash%04d", i), UserKey: k, Kind: "cooling",
			State: trustbot.Active, Start: trustbot.DateOf(local), NextDueAt: due, StartedAt: due}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range l.channels {
		local := due.In(time.UTC)
		lang := []string{"ja", "en"}[i%2]
		if err := store.SaveSubscription(ctx, trustbot.Subscription{Team: fakeslack.TeamID, Channel: fmt.Sprintf("C0CRASH%03d", i),
			Weekday: local.Weekday(), Minute: local.Hour()*60 + local.Minute(), Lang: lang, TZ: "UTC", Active: true,
			Subscriber: "USUBSCRIBER", Occurrence: trustbot.DateOf(local), NextDueAt: due}, "USUBSCRIBER", "on"); err != nil {
			t.Fatal(err)
		}
	}
}

// runCrash is the crash test: "trustbot dispatch" fans out the load (DMs
// for check-ins and journey follow-ups, posts in channels) to a fake Slack
// that answers chat.postMessage slowly, and is killed with SIGKILL at each
// kill point. It is restarted with the same command each time and the last
// run finishes. Every delivery reaches Slack; a second message is allowed
// only for a message Slack had accepted when the process died (at most one
// per kill); the database ends with every delivery sent, none left
// sending, and passes its integrity check.
func runCrash(t *testing.T, l crashLoad, points []crashKill) crashFigures {
	t.Helper()
	n := l.total()
	dbPath := filepath.Join(t.TempDir(), "trustbot.db")
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetDelay("chat.postMessage", 10*time.Millisecond)
	fake.SetDelay("conversations.history", 20*time.Millisecond)
	fake.SetClockOffset(-l.slackBehind)

	due := time.Now().UTC().Truncate(time.Minute)
	now := due.Add(l.ahead)
	seedCrash(t, dbPath, l, due)

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
	for _, p := range points {
		k := &kill{inReconc: p.inReconc}
		switch {
		case p.accepted > 0:
			m := int(p.accepted * float64(n))
			k.point, k.trigger = fmt.Sprintf("just after Slack accepted message %d", m), func() bool { return accepted() >= m }
		case p.posts > 0:
			m := int(p.posts * float64(n))
			k.point, k.trigger = fmt.Sprintf("with posts in flight, at call %d", m), func() bool { return posts() >= m }
		}
		kills = append(kills, k)
	}

	windowIDs := map[string]bool{} // deliveries Slack had accepted, not yet recorded, at a kill
	var runs []*crashRun
	for i, k := range kills {
		if k.inReconc {
			// Kill the restart while it looks for what the previous run
			// left sending; if that run left nothing, kill mid fan-out.
			if prev := kills[i-1]; prev.sending > 0 {
				h := history()
				k.point, k.trigger = "during reconciliation after the restart", func() bool { return history() > h }
			} else {
				m := posts() + n/10
				k.point, k.trigger, k.inReconc = fmt.Sprintf("with posts in flight, at call %d", m), func() bool { return posts() >= m }, false
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
		k.accepted = settle(t, fake)
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

	// The database: every delivery sent, none sending, intact; one per
	// check-in user, journey and channel.
	db := openRaw(t, dbPath)
	defer db.Close()
	type row struct{ user, kind, channel, state string }
	rows := map[string]row{}
	q, err := db.Query(`SELECT id, user, kind, channel, state FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]int{}
	for q.Next() {
		var id string
		var r row
		if err := q.Scan(&id, &r.user, &r.kind, &r.channel, &r.state); err != nil {
			t.Fatal(err)
		}
		rows[id] = r
		byKind[r.kind]++
		if r.state != trustbot.Sent {
			t.Errorf("delivery %s (%s for %s) is %s, want sent", id, r.kind, r.user, r.state)
		}
	}
	q.Close()
	if byKind["checkin"] != l.checkins || byKind["journey"] != l.journeys || byKind["weekly"] != l.channels {
		t.Errorf("deliveries by kind %v, want %d check-ins, %d journey follow-ups, %d channel posts", byKind, l.checkins, l.journeys, l.channels)
	}
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q %v", integrity, err)
	}

	// Every delivery reached its target; second messages only from the
	// duplicate window.
	byID := map[string][]fakeslack.Message{}
	for _, msg := range fake.AllMessages() {
		id := deliveryIDOf(msg)
		r, ok := rows[id]
		if !ok {
			t.Errorf("a message in %s tagged %q, which is no delivery", msg.Channel, id)
			continue
		}
		if want := r.channel; msg.Channel != want {
			t.Errorf("delivery %s (%s for %s) posted in %s, recorded in %s", id, r.kind, r.user, msg.Channel, want)
		}
		byID[id] = append(byID[id], msg)
	}
	f := crashFigures{kills: len(kills), deliveries: len(rows), messages: len(fake.AllMessages())}
	for id, r := range rows {
		msgs := byID[id]
		switch {
		case len(msgs) == 0:
			f.lost++
			t.Errorf("delivery %s (%s for %s) never reached Slack", id, r.kind, r.user)
		case len(msgs) > 1:
			f.duplicates += len(msgs) - 1
			if !windowIDs[id] {
				t.Errorf("delivery %s (%s for %s) went %d times, and Slack did not have it when a process died", id, r.kind, r.user, len(msgs))
			}
		}
	}
	if f.duplicates > len(kills) {
		t.Errorf("%d duplicates for %d kills", f.duplicates, len(kills))
	}
	// A channel's post is looked for in its channel, never as a user.
	for _, c := range fake.Calls("conversations.open") {
		if u := c.Params["users"]; !strings.HasPrefix(u, "U") {
			t.Errorf("conversations.open with %q", u)
		}
	}

	for i, k := range kills {
		t.Logf("kill %d %s: Slack had %d calls, %d messages; %d deliveries left sending, %d of them accepted by Slack; next start reconciled %d, requeued %d",
			i+1, k.point, k.posts, k.accepted, k.sending, k.window, k.reconciled, k.requeued)
	}
	t.Logf("last run: %s", summary)
	t.Logf("%d kills; %d deliveries (%d check-ins, %d journey follow-ups, %d channel posts); %d lost, %d duplicates; %d messages, %d chat.postMessage calls",
		f.kills, f.deliveries, l.checkins, l.journeys, l.channels, f.lost, f.duplicates, f.messages, posts())
	return f
}

// TestDispatchSurvivesAKill is the crash test's short form, in the normal
// suite: one kill just after Slack accepted a message, under a dispatch
// six hours ahead of the real time and a host clock twenty minutes ahead of
// Slack's, with check-ins, journey follow-ups and channel posts.
func TestDispatchSurvivesAKill(t *testing.T) {
	t.Parallel() // it mostly waits on child processes of its own
	if testing.Short() {
		t.Skip("crash test: starts and kills child processes")
	}
	runCrash(t, crashLoad{checkins: 40, journeys: 20, channels: 6, ahead: 6 * time.Hour, slackBehind: 20 * time.Minute},
		[]crashKill{{accepted: 0.3}})
}

// crashTestEnv turns on the long crash loop (make test-crash).
const crashTestEnv = "TRUSTBOT_CRASH_TEST"

// TestDispatchSurvivesKills is the long crash loop (make test-crash): the
// full load, killed at four points (just after Slack accepted a message,
// during the reconciliation after the restart, with posts in flight, and
// again just after an accepted message), under the real clock and under
// clocks that disagree. TRUSTBOT_CRASH_ROUNDS repeats it.
func TestDispatchSurvivesKills(t *testing.T) {
	if os.Getenv(crashTestEnv) == "" {
		t.Skip("the long crash loop runs with make test-crash (" + crashTestEnv + "=1)")
	}
	rounds, _ := strconv.Atoi(os.Getenv("TRUSTBOT_CRASH_ROUNDS"))
	rounds = max(rounds, 1)
	points := []crashKill{{accepted: 0.25}, {inReconc: true}, {posts: 0.6}, {accepted: 0.85}}
	var total crashFigures
	for _, tc := range []struct {
		name string
		load crashLoad
	}{
		{"real clock", crashLoad{checkins: 1000, journeys: 300, channels: 40}},
		{"dispatch 6h ahead, host clock 20m fast", crashLoad{checkins: 1000, journeys: 300, channels: 40, ahead: 6 * time.Hour, slackBehind: 20 * time.Minute}},
	} {
		for round := range rounds {
			t.Run(fmt.Sprintf("%s/%d", tc.name, round+1), func(t *testing.T) {
				f := runCrash(t, tc.load, points)
				total.kills += f.kills
				total.deliveries += f.deliveries
				total.lost += f.lost
				total.duplicates += f.duplicates
			})
		}
	}
	t.Logf("in all: %d kills, %d deliveries, %d lost, %d duplicates", total.kills, total.deliveries, total.lost, total.duplicates)
}
