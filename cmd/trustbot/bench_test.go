package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The burst benchmarks send "/trust tip" envelopes back to back through the
// fake Slack's Socket Mode to the real program (trustbot serve in a process
// of its own, its own Socket Mode reader, its SQLite file) and, in turn, to a bare
// slack-go Socket Mode client, in a process of its own too, that acks every
// envelope at once with a fixed two-block payload, connected to a second
// fake Slack of the same kind (Slack spreads envelopes over an app's
// sockets, so the two cannot share one). Each figure is thus a ratio
// measured side by side, and the memory measured is trustbot's alone:
//
//	go test ./cmd/trustbot -run '^$' -bench 'Burst|OneAtATime' -benchtime 3x
//
// ack: envelope written to the socket → its ack read back. answer: envelope
// written → the first answer the user sees, an ack carrying the reply or
// the response_url post (for the bare client, its ack).

// bareChildEnv makes the test binary act as the bare client, connected to
// the fake Slack at SLACK_API_URL, until it is killed.
const bareChildEnv = "TRUSTBOT_BARE_CHILD"

func init() {
	if os.Getenv(bareChildEnv) != "1" {
		return
	}
	api := slack.New(fakeslack.BotToken, slack.OptionAppLevelToken(fakeslack.AppToken), slack.OptionAPIURL(os.Getenv("SLACK_API_URL")))
	cli := socketmode.New(api)
	answer := map[string]any{
		"response_type": "ephemeral",
		"text":          "A tip",
		"blocks": []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*A tip*\nSay what you will do, then do it.", false, false), nil, nil),
			slack.NewActionBlock("b", slack.NewButtonBlockElement("tip.another#0", "", slack.NewTextBlockObject(slack.PlainTextType, "Another", false, false))),
		},
	}
	go func() {
		for evt := range cli.Events {
			if evt.Request != nil && evt.Request.EnvelopeID != "" {
				_ = cli.Ack(*evt.Request, answer)
			}
		}
	}()
	_ = cli.Run()
	os.Exit(1)
}

// startBenchChild runs the test binary as the program (args) or, with
// bareChildEnv in env, as the bare client, connected to fake, and waits
// until it is; it is stopped with SIGTERM at the end.
func startBenchChild(tb testing.TB, fake *fakeslack.Server, env map[string]string, args ...string) *crashRun {
	tb.Helper()
	list := []string{crashChildEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	before := fake.Connections()
	c := startChild(tb, list, args...)
	tb.Cleanup(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := fake.WaitConnections(ctx, before+1); err != nil {
		tb.Fatalf("%s did not connect: %v\n%s", args, err, c.stderr.String())
	}
	return c
}

// bareClient is slack-go's Socket Mode client doing nothing but acking
// with a fixed answer: the floor any bot on slack-go can reach.
func bareClient(tb testing.TB) (*fakeslack.Server, *crashRun) {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	fake.SetPingInterval(500 * time.Millisecond)
	c := startBenchChild(tb, fake, map[string]string{bareChildEnv: "1", "SLACK_API_URL": fake.APIURL()})
	return fake, c
}

// benchBot runs trustbot serve in a process of its own against a new
// fake Slack with 50 users, on a new SQLite file, and returns the fake,
// the process, the users and a function that waits until the process has
// written the "tip shown" records of n more answers (see tipsWritten).
func benchBot(tb testing.TB) (*fakeslack.Server, *crashRun, []string, func(n int)) {
	tb.Helper()
	dsn := newDB(tb)
	fake, bots, users := benchReplicas(tb, dsn, 1)
	return fake, bots[0], users, tipsWritten(tb, dsn)
}

// tipsWritten returns a function that waits until the trustbot process on
// the database dsn has written the "tip shown" records of n more answers.
// The process writes them in groups once a burst is over: waiting for
// them counts that work, in CPU time, as the burst's, and keeps it from
// running during the bare client's burst that follows. A store on
// PostgreSQL writes each at once, so there is nothing to wait for.
func tipsWritten(tb testing.TB, dsn string) func(n int) {
	tb.Helper()
	if testdb.Postgres(tb) {
		return func(int) {}
	}
	raw, err := testdb.Raw(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	total := 0
	return func(n int) {
		tb.Helper()
		total += n
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		// The newest record is never trimmed, so the largest rowid counts
		// every record written.
		var written int
		for {
			if err := raw.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM tips_shown`).Scan(&written); err != nil {
				tb.Fatalf("tips written: %v (%d of %d)", err, written, total)
			}
			if written >= total {
				return
			}
			select {
			case <-ctx.Done():
				tb.Fatalf("%d of %d \"tip shown\" records written", written, total)
			case <-time.After(time.Millisecond):
			}
		}
	}
}

// benchReplicas runs n "trustbot serve" processes on the database dsn,
// each connected to one new fake Slack with 50 users, and returns the
// fake, the processes and the users.
func benchReplicas(tb testing.TB, dsn string, n int) (*fakeslack.Server, []*crashRun, []string) {
	tb.Helper()
	fake := fakeslack.New()
	tb.Cleanup(fake.Close)
	fake.SetPingInterval(500 * time.Millisecond)
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf("UBENCH%02d", i)
		fake.AddUser(fakeslack.User{ID: users[i], TZ: "Asia/Tokyo", Locale: "ja-JP"})
	}
	var bots []*crashRun
	for i := range n {
		env := map[string]string{
			"SLACK_BOT_TOKEN":    fakeslack.BotToken,
			"SLACK_APP_TOKEN":    fakeslack.AppToken,
			"SLACK_API_URL":      fake.APIURL(),
			"TRUSTBOT_DB":        dsn,
			"TRUSTBOT_HTTP_ADDR": "127.0.0.1:0",
			"LOG_LEVEL":          "warn",
		}
		// TRUSTBOT_BENCH_CPUPROFILE=F profiles the processes: F.0, F.1, …
		if f := os.Getenv("TRUSTBOT_BENCH_CPUPROFILE"); f != "" {
			env["TRUSTBOT_CHILD_CPUPROFILE"] = fmt.Sprintf("%s.%d", f, i)
		}
		// TRUSTBOT_BENCH_MEMPROFILE=F writes their allocation profiles
		// (F.0, F.1, …), sampled at TRUSTBOT_BENCH_MEMPROFILERATE if set.
		if f := os.Getenv("TRUSTBOT_BENCH_MEMPROFILE"); f != "" {
			env["TRUSTBOT_CHILD_MEMPROFILE"] = fmt.Sprintf("%s.%d", f, i)
			env["TRUSTBOT_CHILD_MEMPROFILERATE"] = os.Getenv("TRUSTBOT_BENCH_MEMPROFILERATE")
		}
		// TRUSTBOT_BENCH_TRACE=F traces them (go tool trace): F.0, F.1, …
		if f := os.Getenv("TRUSTBOT_BENCH_TRACE"); f != "" {
			env["TRUSTBOT_CHILD_TRACE"] = fmt.Sprintf("%s.%d", f, i)
		}
		// TRUSTBOT_BENCH_ACKLOG=F writes how each of their Slack acks
		// went (F.0, F.1, …: see startAckLog), and the harness's side of
		// every ack to F.harness (see sendBurst).
		if f := os.Getenv("TRUSTBOT_BENCH_ACKLOG"); f != "" {
			env["TRUSTBOT_CHILD_ACKLOG"] = fmt.Sprintf("%s.%d", f, i)
		}
		bots = append(bots, startBenchChild(tb, fake, env, "serve"))
	}
	return fake, bots, users
}

// reportBurst reports trustbot's figures over a run's bursts beside the
// bare client's.
func reportBurst(b *testing.B, tb, bc *burstResult) {
	b.ReportMetric(pct(tb.ack, 0.50), "ack-p50-ms")
	b.ReportMetric(pct(tb.ack, 0.99), "ack-p99-ms")
	b.ReportMetric(pct(tb.answer, 0.50), "answer-p50-ms")
	b.ReportMetric(pct(tb.answer, 0.99), "answer-p99-ms")
	b.ReportMetric(pct(bc.ack, 0.50), "bare-ack-p50-ms")
	b.ReportMetric(pct(bc.ack, 0.99), "bare-ack-p99-ms")
	b.ReportMetric(pct(tb.ack, 0.99)/pct(bc.ack, 0.99), "ack-p99/bare")
	b.ReportMetric(pct(tb.answer, 0.99)/pct(bc.ack, 0.99), "answer-p99/bare")
	b.ReportMetric(float64(tb.busy), "busy")
	b.ReportMetric(float64(tb.slow), "answers>1s")
	b.ReportMetric(100*float64(tb.inAck-tb.busy)/float64(max(1, len(tb.answer))), "in-ack-%")
	if tb.requests > 0 && bc.requests > 0 {
		b.ReportMetric(tb.cpu.Seconds()*1e6/float64(tb.requests), "cpu-us/req")
		b.ReportMetric(bc.cpu.Seconds()*1e6/float64(bc.requests), "bare-cpu-us/req")
	}
}

// burstResult is one side's measures over every burst of a run.
type burstResult struct {
	ack, answer []time.Duration
	busy, slow  int
	inAck       int     // answers that came in the ack
	growthMB    float64 // largest RSS growth over a burst
	// cpu is the CPU time the measured process spent over requests
	// (user and system, to the kernel's tick).
	cpu      time.Duration
	requests int
}

// sendBurst sends n "/trust tip" from users back to back and waits for every
// ack and first answer. busyText marks the ack that says "busy". With mem
// set to the answering process, it measures that process's CPU time and
// RSS growth over the burst: its peak (VmHWM, reset before the burst)
// over its RSS before. With settle, the burst ends only once settle(n)
// returns, after the answers.
func sendBurst(tb testing.TB, fake *fakeslack.Server, users []string, n int, busyText string, mem *crashRun, settle func(n int), res *burstResult) {
	tb.Helper()
	fake.ResetRecordings()
	var before float64
	reset := false
	cpuBefore, cpuOK := procCPU(pidOf(mem))
	if mem != nil {
		runtime.GC()
		pid := mem.cmd.Process.Pid
		reset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
		before, _ = procStatusKB(pid, "VmRSS")
	}
	urls := make([]string, n)
	ids := make([]string, n)
	for i := range n {
		urls[i] = fake.NewResponseURL()
		id, err := fake.SlashCommand(fakeslack.SlashCommand{UserID: users[i%len(users)], Text: "tip", ResponseURL: urls[i]})
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	acklog := openAckLog(tb)
	side := "other" // the first command of each user, or one at a time
	if acklog != nil {
		defer acklog.Close()
		burstsLogged++
		if mem != nil && settle != nil {
			side = "trustbot"
		} else if mem != nil {
			side = "bare"
		}
	}
	for i, id := range ids {
		a, err := fake.WaitAck(ctx, id)
		if err != nil {
			tb.Fatalf("ack: %v", err)
		}
		if acklog != nil {
			// The burst, whose it was, its size, the envelope, when it
			// was sent and its ack read back, and whether the ack
			// carried a message.
			fmt.Fprintf(acklog, "%d %s %d %s %d %d %t\n", burstsLogged, side, n, id, a.Sent.UnixNano(), a.Received.UnixNano(), ackText(a.Payload) != "")
		}
		res.ack = append(res.ack, a.Received.Sub(a.Sent))
		if ackText(a.Payload) != "" {
			res.inAck++
		}
		if busyText != "" && ackText(a.Payload) == busyText {
			res.busy++
			continue
		}
		got, err := fake.WaitAnswers(ctx, urls[i], 1)
		if err != nil {
			tb.Fatalf("answer: %v", err)
		}
		d := got[0].At.Sub(a.Sent)
		res.answer = append(res.answer, d)
		if d > time.Second {
			res.slow++
		}
	}
	if settle != nil {
		settle(n)
	}
	if hwm, ok := procStatusKB(pidOf(mem), "VmHWM"); ok && reset {
		res.growthMB = max(res.growthMB, (hwm-before)/1024)
	}
	if after, ok := procCPU(pidOf(mem)); ok && cpuOK {
		res.cpu += after - cpuBefore
		res.requests += n
	}
}

// burstsLogged counts the bursts written to the harness's ack log.
var burstsLogged int

// openAckLog opens the harness's ack log, F.harness with
// TRUSTBOT_BENCH_ACKLOG=F, to append to; nil without one.
func openAckLog(tb testing.TB) *os.File {
	name := os.Getenv("TRUSTBOT_BENCH_ACKLOG")
	if name == "" {
		return nil
	}
	f, err := os.OpenFile(name+".harness", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// procCPU is the user and system CPU time of process pid so far, from
// /proc/pid/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func procCPU(pid int) (time.Duration, bool) {
	if pid == 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count after its ")".
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, false
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(user+sys) * 10 * time.Millisecond, true
}

func ackText(payload json.RawMessage) string {
	var p struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(payload, &p)
	return p.Text
}

func pidOf(c *crashRun) int {
	if c == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

func procStatusKB(pid int, field string) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb, err == nil
		}
	}
	return 0, false
}

func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
}

func benchUsers(bot *Bot) []string {
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf("UBENCH%02d", i)
		bot.Slack.AddUser(fakeslack.User{ID: users[i], TZ: "Asia/Tokyo", Locale: "ja-JP"})
	}
	return users
}

// BenchmarkBurst compares trustbot with the bare client over bursts of 300
// and 1,000 commands from 50 users; each iteration sends one burst to each,
// trustbot first. Memory growth is trustbot's process's peak RSS during a
// burst (VmHWM, reset before it) over its RSS before.
func BenchmarkBurst(b *testing.B) {
	for _, n := range []int{300, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			fake, bot, users, written := benchBot(b)
			bare, bareRun := bareClient(b)
			busy := mustLibrary(b).T(trustbot.Japanese, "slack.busy")
			// One command per user first: the first answer to a user looks
			// their profile up, which a burst of regulars does not.
			sendBurst(b, fake, users, len(users), busy, nil, written, &burstResult{})
			var tb, bc burstResult
			for b.Loop() {
				sendBurst(b, fake, users, n, busy, bot, written, &tb)
				sendBurst(b, bare, users, n, "", bareRun, nil, &bc)
			}
			reportBurst(b, &tb, &bc)
			b.ReportMetric(tb.growthMB, "RSS-growth-MB")
		})
	}
}

// BenchmarkOneAtATime sends "/trust tip" one after the other, each after the
// previous answer, and reports when the answer became visible.
func BenchmarkOneAtATime(b *testing.B) {
	const n = 200
	fake, _, users, _ := benchBot(b)
	busy := mustLibrary(b).T(trustbot.Japanese, "slack.busy")
	sendBurst(b, fake, users, len(users), busy, nil, nil, &burstResult{})
	var res burstResult
	for b.Loop() {
		for i := range n {
			sendBurst(b, fake, users[i%len(users):i%len(users)+1], 1, busy, nil, nil, &res)
		}
	}
	b.ReportMetric(pct(res.ack, 0.50), "ack-p50-ms")
	b.ReportMetric(pct(res.answer, 0.50), "answer-p50-ms")
	b.ReportMetric(pct(res.answer, 0.99), "answer-p99-ms")
}
