package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// mainChildEnv makes the test binary run the real main (signals included)
// instead of the tests.
const mainChildEnv = "TRUSTBOT_MAIN_CHILD"

func init() {
	if os.Getenv(mainChildEnv) == "1" {
		main()
	}
}

// seedDue creates n users with a weekly check-in due at due.
func seedDue(t *testing.T, path string, n int, due time.Time) []string {
	t.Helper()
	ctx := context.Background()
	db := testdb.OpenAt(t, path)
	defer db.Close()
	var users []string
	for i := range n {
		k := trustbot.UserKey{Team: fakeslack.TeamID, User: fmt.Sprintf("USD%04d", i)}
		users = append(users, k.User)
		if err := db.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: due}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveSchedule(ctx, trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: due.In(time.UTC).Weekday(),
			Minute: 16 * 60, Active: true, Occurrence: trustbot.DateOf(due), NextDueAt: due}); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

func TestSIGTERMDuringFanOut(t *testing.T) {
	t.Parallel() // it mostly waits on child processes of its own
	if testing.Short() {
		t.Skip("starts a child process")
	}
	fake := fakeslack.New()
	defer fake.Close()
	fake.SetDelay("chat.postMessage", 20*time.Millisecond)
	path := testdb.EmptyDSN(t)
	due := time.Now().Add(-time.Minute).Truncate(time.Second)
	users := seedDue(t, path, 150, due)
	env := append(os.Environ(), mainChildEnv+"=1",
		"SLACK_BOT_TOKEN="+fakeslack.BotToken, "SLACK_APP_TOKEN="+fakeslack.AppToken, "SLACK_API_URL="+fake.APIURL(),
		"TRUSTBOT_DB="+path, "TRUSTBOT_SEND_RATE=1000", "LOG_LEVEL=info")
	stderr := &syncBuffer{} // written by exec's copier while the test reads it
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env, cmd.Stderr = env, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Mid-way through the fan-out, ask it to stop.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := fake.WaitAllMessages(ctx, 40); err != nil {
		t.Fatalf("fan-out did not start: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("did not stop within 30 s of SIGTERM")
	}
	sentAtStop := len(fake.AllMessages())
	if sentAtStop >= len(users) {
		t.Fatalf("the fan-out finished before the signal (%d sent): the test proves nothing", sentAtStop)
	}

	// Nothing is left sending: every delivery is sent (with its message in
	// Slack) or handed back as pending.
	db := testdb.OpenAt(t, path)
	stale, _ := db.StaleSending(context.Background(), time.Now().Add(time.Hour), time.Now(), 10_000)
	pending, _ := db.Deliverable(context.Background(), time.Now().Add(time.Hour), 10_000)
	db.Close()
	if len(stale) != 0 {
		t.Fatalf("%d deliveries left sending after a clean stop", len(stale))
	}
	if len(pending)+sentAtStop != len(users) {
		t.Fatalf("%d pending + %d sent != %d users", len(pending), sentAtStop, len(users))
	}
	t.Logf("SIGTERM after %d of %d DMs; %d handed back; exit 0", sentAtStop, len(users), len(pending))

	// The next start sends the rest; everyone has exactly one DM.
	code, out, errOut := runCmd(t, map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "TRUSTBOT_DB": path, "TRUSTBOT_SEND_RATE": "1000"}, "", "dispatch", "--now", time.Now().Format(time.RFC3339))
	if code != 0 {
		t.Fatalf("dispatch after restart: %d %s %s", code, out, errOut)
	}
	for _, u := range users {
		if n := len(fake.Messages("D" + u)); n != 1 {
			t.Errorf("%s has %d DMs", u, n)
		}
	}
	if strings.Contains(stderr.String(), fakeslack.BotToken) {
		t.Error("the token is in the logs")
	}
}
