package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// teamsCrashLoad is what the Teams crash test fans out: one delivery per
// conversation, so that messages can be told apart by where they went (a
// Teams message carries nothing the bot could search for).
type teamsCrashLoad struct{ checkins, journeys, channels int }

func (l teamsCrashLoad) total() int { return l.checkins + l.journeys + l.channels }

// seedTeamsCrash writes the load into a new database, with each user's
// personal chat and each channel known to the fake Bot Framework, and
// returns every conversation a delivery goes to.
func seedTeamsCrash(t *testing.T, dbPath string, bf *fakebf.Server, l teamsCrashLoad, due time.Time) []string {
	t.Helper()
	ctx := context.Background()
	store := testdb.OpenAt(t, dbPath)
	defer store.Close()
	team := trustbot.TeamsWorkspace(bf.TenantID())
	var convs []string
	user := func(name string) trustbot.UserKey {
		u := fakebf.NewUser(name, "ja-JP", "Asia/Tokyo")
		k := trustbot.UserKey{Team: team, User: u.ID}
		conv := bf.Join(u)
		convs = append(convs, conv)
		_, err := store.SaveConversation(ctx, trustbot.Conversation{Key: k, ID: conv, ServiceURL: bf.ServiceURL(), BotID: bf.BotID(), UpdatedAt: due})
		must(t, err)
		must(t, store.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: time.Now()}))
		return k
	}
	local := due.In(time.FixedZone("JST", 9*3600))
	for i := range l.checkins {
		k := user(fmt.Sprintf("checkin-%d", i))
		must(t, store.SaveSchedule(ctx, trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: local.Weekday(),
			Minute: local.Hour()*60 + local.Minute(), Active: true, Occurrence: trustbot.DateOf(local), NextDueAt: due}))
	}
	for i := range l.journeys {
		k := user(fmt.Sprintf("journey-%d", i))
		must(t, store.SaveJourney(ctx, trustbot.Journey{ID: fmt.Sprintf("jteams%04d", i), UserKey: k, Kind: "cooling",
			State: trustbot.Active, Start: trustbot.DateOf(local), NextDueAt: due, StartedAt: due}))
	}
	for i := range l.channels {
		tm := fakebf.NewTeam(fmt.Sprintf("team-%d", i))
		bf.JoinTeam(tm)
		convs = append(convs, tm.ChannelID)
		k := trustbot.UserKey{Team: team, User: tm.ChannelID}
		_, err := store.SaveConversation(ctx, trustbot.Conversation{Key: k, ID: tm.ChannelID, ServiceURL: bf.ServiceURL(), BotID: bf.BotID(), Channel: true, UpdatedAt: due})
		must(t, err)
		utc := due.UTC()
		must(t, store.SaveSubscription(ctx, trustbot.Subscription{Team: team, Channel: tm.ChannelID, Weekday: utc.Weekday(),
			Minute: utc.Hour()*60 + utc.Minute(), Lang: []string{"ja", "en"}[i%2], TZ: "UTC", Active: true,
			Subscriber: "29:1subscriber", Occurrence: trustbot.DateOf(utc), NextDueAt: due}, "29:1subscriber", "on"))
	}
	return convs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runTeamsCrash is the crash test for Teams deliveries: "trustbot
// dispatch" fans out check-ins, journey follow-ups and channel posts to a
// fake Bot Framework that answers slowly, and is killed with SIGKILL after
// each share of accepted messages in kills; the last start finishes.
// Every delivery arrives; since a bot cannot look in a Teams conversation,
// a delivery the connector had accepted when the process died is sent
// again, and that is the only duplicate allowed: at most one a delivery,
// and only for one caught sending by a kill.
func runTeamsCrash(t *testing.T, l teamsCrashLoad, kills []float64) (lost, duplicates int) {
	t.Helper()
	n := l.total()
	dbPath := filepath.Join(t.TempDir(), "trustbot.db")
	bf := fakebf.New(fakebf.Config{})
	defer bf.Close()
	bf.Inject(fakebf.Fault{Delay: 5 * time.Millisecond})
	due := time.Now().UTC().Truncate(time.Minute)
	convs := seedTeamsCrash(t, dbPath, bf, l, due)
	env := append(os.Environ(),
		crashChildEnv+"=1",
		"TEAMS_APP_ID="+bf.AppID(),
		"TEAMS_APP_PASSWORD="+bf.Password(),
		"TEAMS_TENANT_ID="+bf.TenantID(),
		"TEAMS_OPENID_METADATA_URL="+bf.MetadataURL(),
		"TEAMS_TOKEN_URL="+bf.TokenURL(),
		"TRUSTBOT_DB="+dbPath,
		"TRUSTBOT_PLAYBOOKS_DIR=",
		"LOG_LEVEL=info",
	)
	counts := func() map[string]int {
		out := map[string]int{}
		for _, c := range convs {
			out[c] = len(bf.FromBot(bf.Messages(c)))
		}
		return out
	}
	accepted := func() int {
		sum := 0
		for _, v := range counts() {
			sum += v
		}
		return sum
	}
	// window: conversations whose delivery the connector had taken while
	// the database still had it sending, at some kill.
	window := map[string]bool{}
	for i, share := range kills {
		m := int(share * float64(n))
		r := startDispatch(t, env, due)
		deadline := time.Now().Add(60 * time.Second)
		for accepted() < m {
			select {
			case err := <-r.done:
				t.Fatalf("run %d ended before its kill at %d: %v\n%s", i+1, m, err, r.stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				r.cmd.Process.Kill()
				t.Fatalf("run %d: %d messages in 60s, kill point %d\n%s", i+1, accepted(), m, r.stderr.String())
			}
			time.Sleep(time.Millisecond)
		}
		must(t, r.cmd.Process.Signal(syscall.SIGKILL))
		<-r.done
		// The connector may still finish a request the process sent: wait
		// until it has served each of the process's connections to the end.
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		err := bf.WaitClientsGone(ctx)
		cancel()
		if err != nil {
			t.Fatalf("the killed process's requests to the connector did not end: %v", err)
		}
		states := deliveryStates(t, dbPath)
		if len(states) != n {
			t.Fatalf("after kill %d: %d deliveries, want %d", i+1, len(states), n)
		}
		sending := sendingConversations(t, dbPath)
		got := counts()
		for _, c := range sending {
			if got[c] > 0 {
				window[c] = true
			}
		}
		t.Logf("kill %d after %d accepted messages: %d deliveries sending, %d of them already in Teams", i+1, accepted(), len(sending), len(window))
	}
	last := startDispatch(t, env, due)
	select {
	case err := <-last.done:
		if err != nil {
			t.Fatalf("last run: %v\n%s\n%s", err, last.stdout.String(), last.stderr.String())
		}
	case <-time.After(90 * time.Second):
		last.cmd.Process.Kill()
		t.Fatal("last run did not finish in 90s")
	}
	for id, s := range deliveryStates(t, dbPath) {
		if s != trustbot.Sent {
			t.Errorf("delivery %s is %s, want sent", id, s)
		}
	}
	for c, k := range counts() {
		switch {
		case k == 0:
			lost++
			t.Errorf("nothing reached %s", c)
		case k > 1:
			duplicates += k - 1
			if k > 2 || !window[c] {
				t.Errorf("%s got %d messages, and was not sending in Teams at a kill", c, k)
			}
		}
	}
	t.Logf("%d deliveries, %d kills: %d lost, %d duplicates (%d were in the window)", n, len(kills), lost, duplicates, len(window))
	return lost, duplicates
}

// sendingConversations are the conversations of the deliveries left
// sending.
func sendingConversations(t *testing.T, dbPath string) []string {
	t.Helper()
	ctx := context.Background()
	db := openRaw(t, dbPath)
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.conversation FROM deliveries d JOIN conversations c ON c.team = d.team AND c.user = d.user WHERE d.state = 'sending'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		must(t, rows.Scan(&c))
		out = append(out, c)
	}
	return out
}

// TestTeamsDispatchSurvivesKills is the Teams crash loop (make
// test-crash, which CI runs): check-ins, journey follow-ups and channel
// posts, killed at three points.
func TestTeamsDispatchSurvivesKills(t *testing.T) {
	if os.Getenv(crashTestEnv) == "" {
		t.Skip("the long crash loop runs with make test-crash (" + crashTestEnv + "=1)")
	}
	rounds, _ := strconv.Atoi(os.Getenv("TRUSTBOT_CRASH_ROUNDS"))
	var lost, dups int
	for round := range max(rounds, 1) {
		t.Run(strconv.Itoa(round+1), func(t *testing.T) {
			l, d := runTeamsCrash(t, teamsCrashLoad{checkins: 300, journeys: 100, channels: 20}, []float64{0.2, 0.5, 0.8})
			lost, dups = lost+l, dups+d
		})
	}
	t.Logf("in all: %d lost, %d duplicates", lost, dups)
}
