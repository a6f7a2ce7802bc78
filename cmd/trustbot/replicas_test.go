package main

import (
	"context"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
func claimAll(t testing.TB, dsn string, due time.Time, n int) {
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
	lost, dups := lostAndDuplicated(fake.AllMessages(), users)
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

// replicaFigures are what a replica test counts.
type replicaFigures struct {
	kills, window, deliveries, lost, duplicates int
	took                                        time.Duration
}

// replicas are three "trustbot serve" processes on one PostgreSQL
// database, sending to one fake Slack.
type replicas struct {
	t      *testing.T
	dsn    string
	fake   *fakeslack.Server
	env    []string
	rs     []*crashRun
	window map[string]bool // deliveries Slack had when their sender was killed
	kills  int
}

// waitFor waits until the fake Slack has accepted that many messages.
func (r *replicas) waitFor(accepted int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if got, err := r.fake.WaitAllMessages(ctx, accepted); err != nil {
		r.t.Fatalf("Slack has %d messages after a minute, waiting for %d", len(got), accepted)
	}
}

// lostAndDuplicated counts, over the first n users of a crash load
// (DUCRASH0000…), those whose DM got no message and the messages beyond
// one in the others.
func lostAndDuplicated(msgs []fakeslack.Message, n int) (lost, dups int) {
	perUser := map[string]int{}
	for _, m := range msgs {
		perUser[m.Channel]++
	}
	for i := range n {
		switch c := perUser[fmt.Sprintf("DUCRASH%04d", i)]; {
		case c == 0:
			lost++
		case c > 1:
			dups += c - 1
		}
	}
	return lost, dups
}

// tcpPorts returns the local ports of process pid's TCP sockets, from
// /proc: its descriptors name the sockets' inodes, and the process's view
// of /proc/net/tcp and tcp6 gives each inode's local address.
func tcpPorts(pid int) ([]int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			_, port, _ := strings.Cut(f[1], ":")
			if n, err := strconv.ParseInt(port, 16, 32); err == nil {
				ports = append(ports, int(n))
			}
		}
	}
	return ports, nil
}

// kill SIGKILLs replica i, notes what it left sending that Slack has,
// and starts it again.
func (r *replicas) kill(i int) {
	r.t.Helper()
	old := r.rs[i]
	// Stopped, it opens nothing more while its connections are listed;
	// once killed, what it had sent is served before those close.
	if err := old.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	ports, err := tcpPorts(old.cmd.Process.Pid)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := old.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatal(err)
	}
	<-old.done
	r.kills++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.fake.WaitPortsGone(ctx, ports); err != nil {
		r.t.Fatalf("the killed replica's connections to Slack still open: %v", err)
	}
	for _, id := range sendingOf(r.t, r.dsn, old.cmd.Process.Pid, r.fake.AllMessages()) {
		r.window[id] = true
	}
	r.rs[i] = startChild(r.t, r.env, "serve")
}

// roll replaces replica i as a rolling update does: the new one starts,
// then the old one is stopped with SIGTERM and waited for.
func (r *replicas) roll(i int) {
	r.t.Helper()
	old := r.rs[i]
	r.rs[i] = startChild(r.t, r.env, "serve")
	if err := old.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatal(err)
	}
	if err := <-old.done; err != nil {
		r.t.Fatalf("a replica stopped with SIGTERM: %v\n%s", err, old.stderr.String())
	}
}

// replicaEnv is the environment of a "trustbot serve" replica on dsn.
func replicaEnv(fake *fakeslack.Server, dsn string, rate int) []string {
	return append(os.Environ(),
		crashChildEnv+"=1",
		"SLACK_BOT_TOKEN="+fakeslack.BotToken,
		"SLACK_APP_TOKEN="+fakeslack.AppToken,
		"SLACK_API_URL="+fake.APIURL(),
		"TRUSTBOT_DB="+dsn,
		"TRUSTBOT_SEND_RATE="+strconv.Itoa(rate),
		"TRUSTBOT_PLAYBOOKS_DIR=",
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
	)
}

// runReplicas starts three replicas on a fresh PostgreSQL database
// holding n check-ins due now, lets disturb kill or restart them, waits
// for every delivery to be sent, stops the replicas and counts what
// reached Slack: a second message of a delivery is allowed only for one
// that Slack had when its sender was killed, at most one per kill.
func runReplicas(t *testing.T, n int, disturb func(*replicas)) replicaFigures {
	t.Helper()
	r := &replicas{t: t, dsn: pgtest.URL(t), fake: fakeslack.New(), window: map[string]bool{}}
	defer r.fake.Close()
	r.fake.SetDelay("chat.postMessage", 10*time.Millisecond)
	due := time.Now().UTC().Truncate(time.Minute)
	seedCrash(t, r.dsn, crashLoad{checkins: n}, due)
	r.env = replicaEnv(r.fake, r.dsn, 200)
	db := pgSQL(t, r.dsn)
	start := time.Now()
	for range 3 {
		r.rs = append(r.rs, startChild(t, r.env, "serve"))
	}
	defer func() {
		for _, c := range r.rs {
			c.cmd.Process.Kill()
		}
	}()
	disturb(r)

	// Done when every check-in is a delivery, and every delivery sent.
	var sent, all int
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if err := db.QueryRow(`SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FROM deliveries`).Scan(&sent, &all); err != nil {
			t.Fatal(err)
		}
		if sent == n && all == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes: %d deliveries, %d sent, of %d", all, sent, n)
		}
	}
	f := replicaFigures{kills: r.kills, window: len(r.window), deliveries: all, took: time.Since(start)}
	for _, c := range r.rs {
		c.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, c := range r.rs {
		<-c.done
	}
	byID := map[string]int{}
	byUser := map[string]int{}
	for _, m := range r.fake.AllMessages() {
		byID[deliveryIDOf(m)]++
		byUser[m.Channel]++
	}
	for i := range n {
		if byUser[fmt.Sprintf("DUCRASH%04d", i)] == 0 {
			f.lost++
		}
	}
	for id, c := range byID {
		if c > 1 {
			f.duplicates += c - 1
			if !r.window[id] {
				t.Errorf("delivery %s went %d times, and Slack did not have it when a replica died", id, c)
			}
		}
	}
	if f.lost > 0 {
		t.Errorf("%d users got no check-in", f.lost)
	}
	if f.duplicates > r.kills {
		t.Errorf("%d duplicates for %d kills", f.duplicates, r.kills)
	}
	return f
}

// sendingOf returns the deliveries that the process pid left sending
// and Slack has: the ones a restart may send a second time.
func sendingOf(t *testing.T, dsn string, pid int, accepted []fakeslack.Message) []string {
	t.Helper()
	db := pgSQL(t, dsn)
	// An attempt names its process ID, or, where replicas hold leases,
	// the replica, whose row names the process.
	q := `SELECT id FROM deliveries WHERE state = 'sending' AND attempt LIKE 'p' || $1 || '-%'`
	var leases bool
	if err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'deliveries' AND column_name = 'replica')`).Scan(&leases); err != nil {
		t.Fatal(err)
	}
	if leases {
		q = `SELECT d.id FROM deliveries d JOIN replicas r ON r.id = d.replica WHERE d.state = 'sending' AND r.pid = $1::bigint`
	}
	rows, err := db.Query(q, strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	had := map[string]bool{}
	for _, m := range accepted {
		had[deliveryIDOf(m)] = true
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if had[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestReplicasSurviveKills: three replicas fan out 1,000 check-ins due
// at once; one of them, chosen at random, is SIGKILLed at a random
// moment of the fan-out and started again, several times a round. The
// fan-out finishes; every user gets one check-in, a second one only from
// a send a kill interrupted. TRUSTBOT_REPLICAS_ROUNDS sets the rounds
// (default 2, five kills each).
func TestReplicasSurviveKills(t *testing.T) {
	replicasTest(t)
	const n, killsPerRound = 1000, 5
	rounds, _ := strconv.Atoi(os.Getenv("TRUSTBOT_REPLICAS_ROUNDS"))
	rounds = max(rounds, 2)
	seed := time.Now().UnixNano()
	rng := mathrand.New(mathrand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	var total replicaFigures
	for round := range rounds {
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			f := runReplicas(t, n, func(r *replicas) {
				var at []int
				for range killsPerRound {
					at = append(at, n/20+rng.IntN(n*9/10))
				}
				slices.Sort(at)
				for _, a := range at {
					r.waitFor(a)
					r.kill(rng.IntN(len(r.rs)))
				}
			})
			t.Logf("%d kills (%d sends interrupted with Slack having the message); %d deliveries; %d lost, %d duplicates; %v", f.kills, f.window, f.deliveries, f.lost, f.duplicates, f.took.Round(time.Millisecond))
			total.kills += f.kills
			total.window += f.window
			total.deliveries += f.deliveries
			total.lost += f.lost
			total.duplicates += f.duplicates
			total.took += f.took
		})
	}
	t.Logf("in all: %d kills, %d deliveries, %d lost, %d duplicates (%d allowed: sends interrupted), %v", total.kills, total.deliveries, total.lost, total.duplicates, total.window, total.took.Round(time.Millisecond))
}

// TestReplicasRollingRestart: three replicas fan out 1,000 check-ins,
// and each is replaced in turn during the fan-out as a rolling update
// does (the new one starts, then the old one gets SIGTERM). Nothing is
// lost and nothing is sent twice.
func TestReplicasRollingRestart(t *testing.T) {
	replicasTest(t)
	const n = 1000
	f := runReplicas(t, n, func(r *replicas) {
		for i := range r.rs {
			r.waitFor(n * (i + 1) / 4)
			r.roll(i)
		}
	})
	t.Logf("rolling restart of 3 replicas: %d deliveries; %d lost, %d duplicates; %v", f.deliveries, f.lost, f.duplicates, f.took.Round(time.Millisecond))
	if f.duplicates > 0 {
		t.Errorf("%d check-ins sent twice", f.duplicates)
	}
}
