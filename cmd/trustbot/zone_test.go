package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestDefaultZoneWhenUsersInfoFails: users.info failing does not turn a
// user's zone into UTC: their check-in is planned in TRUSTBOT_TZ, the reply
// says that zone is assumed, and Slack is asked again later; once it
// answers, the user's own zone is adopted.
func TestDefaultZoneWhenUsersInfoFails(t *testing.T) {
	lib := mustLibrary(t)
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_TZ": "Europe/Berlin"})
	const user = "UNOZONE"
	bot.Slack.AddUser(fakeslack.User{ID: user, TZ: "America/New_York", Locale: "en-US"})
	bot.Slack.FailNext("users.info", "fatal_error", -1)

	_, r := bot.Slash(t, user, "checkin weekly fri 16:00")
	assumed := lib.T(trustbot.Japanese, "checkin.zone_assumed", "zone", "Europe/Berlin") // no locale either: the default language
	if !strings.Contains(r.raw, jsonText(assumed)) {
		t.Fatalf("the reply does not say which zone is assumed: %s", r.raw)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if due := bot.dueAt(t, user).In(berlin); due.Weekday() != time.Friday || due.Format("15:04") != "16:00" {
		t.Errorf("check-in due %s in Berlin, want Friday 16:00 in TRUSTBOT_TZ", due)
	}
	calls := len(bot.Slack.Calls("users.info"))
	if calls == 0 {
		t.Fatal("users.info was never asked")
	}

	// Slack answers again; once the retry period has passed (moved back
	// here in the file, while the bot is stopped: it caches what it read),
	// the next command reads the user's own zone.
	bot.Slack.FailNext("users.info", "", 0)
	bot.Stop(t)
	db := openRaw(t, bot.DB)
	res, err := db.Exec(`UPDATE profiles SET fetched_at = fetched_at - 7200 WHERE "user" = ?`, user)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d profiles moved back", n)
	}
	db.Close()
	bot.Start(t)
	_, r = bot.Slash(t, user, "checkin status")
	if strings.Contains(r.raw, jsonText(lib.T(trustbot.English, "checkin.zone_assumed", "zone", "Europe/Berlin"))) || !strings.Contains(r.raw, "America/New_York") {
		t.Errorf("after Slack answered: %s", r.raw)
	}
	if len(bot.Slack.Calls("users.info")) == calls {
		t.Error("users.info was not asked again")
	}
	ny, _ := time.LoadLocation("America/New_York")
	if due := bot.dueAt(t, user).In(ny); due.Weekday() != time.Friday || due.Format("15:04") != "16:00" {
		t.Errorf("check-in due %s in New York, want Friday 16:00 in the user's own zone", due)
	}
}

func TestTZConfig(t *testing.T) {
	for _, bad := range []string{"Mars/Olympus", "Local", "JST-9", "../../etc/passwd"} {
		code, _, stderr := runCmd(t, map[string]string{"TRUSTBOT_TZ": bad}, "", "migrate", "--db", t.TempDir()+"/db")
		if code != 2 || !strings.Contains(stderr, "TRUSTBOT_TZ") || !strings.Contains(stderr, "Asia/Tokyo") {
			t.Errorf("TRUSTBOT_TZ=%s: exit %d: %s", bad, code, stderr)
		}
	}
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil || cfg.TZ != "Asia/Tokyo" {
		t.Errorf("default TRUSTBOT_TZ: %q, %v", cfg.TZ, err)
	}
}

// TestHolidaysOffSticksInTokyo: a user in Tokyo who turned Japanese
// holidays off before setting a check-in keeps them off: Tokyo's default
// is for those who never chose.
func TestHolidaysOffSticksInTokyo(t *testing.T) {
	bot := MustRunBot(t, nil)
	const user = "UTOKYOEN"
	bot.Slack.AddUser(fakeslack.User{ID: user, TZ: "Asia/Tokyo", Locale: "en-US"})
	const off = "Skipping Japanese public holidays: off"
	if _, r := bot.Slash(t, user, "holidays off"); !strings.Contains(r.raw, off) {
		t.Fatalf("holidays off: %s", r.raw)
	}
	if _, r := bot.Slash(t, user, "checkin weekly mon 16:00"); !strings.Contains(r.raw, off) {
		t.Errorf("the first check-in of a Tokyo user who turned holidays off: %s", r.raw)
	}
	if _, r := bot.Slash(t, user, "checkin status"); !strings.Contains(r.raw, off) {
		t.Errorf("check-in status: %s", r.raw)
	}
}

// TestZoneChangeAdoptedAtTheNextCheckin: a user whose language follows
// Slack moves from Tokyo to New York. The first check-in sent once Slack
// gives the new zone plans the next one at the same day and time in New
// York, not one occurrence later.
func TestZoneChangeAdoptedAtTheNextCheckin(t *testing.T) {
	bot := MustRunBot(t, nil)
	const user = "UMOVER"
	bot.Slack.AddUser(fakeslack.User{ID: user, TZ: "Asia/Tokyo", Locale: "en-US"})
	if _, r := bot.Slash(t, user, "checkin weekly fri 16:00"); !strings.Contains(r.raw, "16:00") {
		t.Fatalf("check-in not saved: %s", r.raw)
	}
	bot.Stop(t)
	// The check-in comes due, the profile read from Slack a day ago; the
	// user has moved meanwhile.
	db := openRaw(t, bot.DB)
	defer db.Close()
	for q, args := range map[string][]any{
		`UPDATE schedules SET next_due_at = ? WHERE "user" = ?`:                {time.Now().Unix() - 60, user},
		`UPDATE profiles SET fetched_at = fetched_at - 86400 WHERE "user" = ?`: {user},
	} {
		if res, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s: %d rows", q, n)
		}
	}
	bot.Slack.AddUser(fakeslack.User{ID: user, TZ: "America/New_York", Locale: "en-US"})
	bot.Start(t)
	// The start-up pass sends it, records it, then plans the next one; a
	// stop lets the pass finish.
	for deadline := time.Now().Add(patience); ; time.Sleep(20 * time.Millisecond) {
		var sent int
		if err := db.QueryRow(`SELECT count(*) FROM deliveries WHERE "user" = ? AND state = 'sent'`, user).Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if sent == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the due check-in was not sent\n%s", bot.Stderr)
		}
	}
	bot.Stop(t)
	if n := len(bot.Slack.Messages(user)); n != 1 {
		t.Fatalf("%d check-ins sent, want 1", n)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if due := bot.dueAt(t, user).In(ny); due.Weekday() != time.Friday || due.Format("15:04") != "16:00" {
		t.Errorf("the next check-in after the move is due %s in New York, want Friday 16:00 there", due)
	}
}
