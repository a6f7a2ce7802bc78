package coach_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// zoneDir is a Directory whose answer the test can change (a user who moves).
type zoneDir struct{ tz, locale string }

func (d *zoneDir) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	return trustbot.Profile{UserKey: k, TZ: d.tz, Locale: d.locale}, nil
}

type checkinEnv struct {
	c   *coach.Coach
	db  *testdb.DB
	dir *zoneDir
	now time.Time
}

func newCheckinEnv(t *testing.T) *checkinEnv {
	t.Helper()
	db := MustStore(t)
	e := &checkinEnv{db: db, dir: &zoneDir{tz: "Asia/Tokyo", locale: "en-US"}, now: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	e.c = coach.New(MustLibrary(t), db, e.dir, trustbot.Japanese, nil)
	e.c.Now = func() time.Time { return e.now }
	e.c.Holidays = holidays{"2026-11-23": true}
	return e
}

func (e *checkinEnv) cmd(k trustbot.UserKey, text string) trustbot.Reply {
	return e.c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: text})
}

func (e *checkinEnv) press(k trustbot.UserKey, id, value string) trustbot.Reply {
	return e.c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Action, UserKey: k, ActionID: id, Value: value})
}

// deliver claims and "sends" what is due at now, as the dispatcher does.
func (e *checkinEnv) deliver(t *testing.T) []trustbot.Delivery {
	t.Helper()
	ctx := context.Background()
	ds, err := e.db.ClaimDue(ctx, e.now, 100, func(s trustbot.Schedule, p trustbot.Prefs) (trustbot.Schedule, int) {
		return e.c.Advance(s, p, e.now)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		e.db.MarkSending(ctx, d.ID, "test", e.now)
		e.db.MarkSent(ctx, d.ID, "test", trustbot.Posted{Channel: "D" + d.User, TS: "1.1"}, e.now)
	}
	return ds
}

func TestCheckinStatusAndPrefs(t *testing.T) {
	e := newCheckinEnv(t)
	r := e.cmd(user, "checkin weekly fri 16:00")
	if !strings.Contains(all(r), "every Friday at 16:00") || !strings.Contains(all(r), "Fri 27 Nov, 16:00") || !r.RefreshHome {
		t.Fatalf("weekly: %q", all(r))
	}
	// Japan: holidays skipped by default; the rules show in the status.
	if !strings.Contains(all(r), "Skipping Japanese public holidays: on") || !strings.Contains(all(r), "Asia/Tokyo") {
		t.Fatalf("status lacks the rules: %q", all(r))
	}
	for _, tc := range [][2]string{
		{"workdays mon,wed,fri", "Days: Mon, Wed, Fri"},
		{"quiet 22:00-08:00", "Quiet hours: 22:00–08:00"},
		{"holidays off", "every Friday at 16:00"},
		{"pause 2w", "DMs are paused until Sun 6 Dec"},
		{"resume", "DMs are back on"},
		{"checkin monthly 31 9:00", "monthly on day 31 at 09:00"},
		{"checkin monthly", "monthly on the last Friday at 16:00"},
		{"checkin biweekly mon", "every other Monday at 16:00"},
		{"checkin weekly 25:00", "I couldn't read that time"},
		{"checkin weekly someday", "I couldn't read that day"},
		{"quiet later", "Choose hours"},
		{"checkin off", "Check-ins are off"},
	} {
		if got := all(e.cmd(user, tc[0])); !strings.Contains(got, tc[1]) {
			t.Errorf("%q: reply lacks %q: %q", tc[0], tc[1], got)
		}
	}
}

func TestCheckinAnswerSnoozeSkip(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	e.cmd(user, "checkin weekly fri 16:00")
	e.now = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC) // Friday 16:00 in Tokyo
	ds := e.deliver(t)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	id := ds[0].ID
	q := lib.Checkin.Questions[0]

	t.Run("OthersCannotTouchIt", func(t *testing.T) {
		mallory := trustbot.UserKey{Team: "T1", User: "UMALLORY"}
		invalid := lib.T(trustbot.English, "error.invalid") // their locale is en-US
		for _, a := range [][2]string{
			{coach.ActAnswer, id + ":" + q.ID + ":" + q.Choices[0].ID},
			{coach.ActSnooze, id + ":3h"},
			{coach.ActSkip, id},
			{coach.ActNote, id},
		} {
			if r := e.press(mallory, a[0], a[1]); r.Text != invalid {
				t.Errorf("%s by another user: %q", a[0], r.Text)
			}
		}
		other := trustbot.UserKey{Team: "T2", User: user.User} // same user ID, another workspace
		if r := e.press(other, coach.ActSkip, id); r.Text != invalid {
			t.Errorf("skip from another workspace: %q", r.Text)
		}
		for _, bad := range []string{id + ":nope:yes", id + ":" + q.ID + ":maybe", "x", id + ":" + q.ID} {
			if r := e.press(user, coach.ActAnswer, bad); r.Text != lib.T(trustbot.English, "error.invalid") {
				t.Errorf("forged answer %q: %q", bad, r.Text)
			}
		}
	})

	t.Run("Answer", func(t *testing.T) {
		r := e.press(user, coach.ActAnswer, id+":"+q.ID+":"+q.Choices[0].ID)
		if !r.ReplaceOriginal || !strings.Contains(all(r), "✓ "+q.Choices[0].Label.In(trustbot.English)) || !r.RefreshHome {
			t.Fatalf("answer: %q", all(r))
		}
		rs, _ := e.db.Reflections(context.Background(), user, "checkin", 5)
		if len(rs) != 1 || rs[0].Answers.Choices[q.ID] != q.Choices[0].ID {
			t.Fatalf("stored: %+v", rs)
		}
	})

	t.Run("SnoozeComesBack", func(t *testing.T) {
		r := e.press(user, coach.ActSnooze, id+":3h")
		if !strings.Contains(all(r), "Fri 27 Nov, 19:00") {
			t.Fatalf("snooze: %q", all(r))
		}
		if got, _ := e.db.Deliverable(context.Background(), e.now.Add(3*time.Hour), 10); len(got) != 1 || got[0].ID != id {
			t.Fatalf("snoozed check-in not due again in 3 hours: %+v", got)
		}
		r = e.press(user, coach.ActSnooze, id+":1d")
		// Tomorrow is Saturday: the next workday at the same time.
		if !strings.Contains(all(r), "Mon 30 Nov, 16:00") {
			t.Fatalf("snooze to tomorrow: %q", all(r))
		}
	})

	t.Run("LateAnswerClosesWhenANewerOneIsSent", func(t *testing.T) {
		e.db.MarkSending(context.Background(), id, "t", e.now)
		e.db.MarkSent(context.Background(), id, "t", trustbot.Posted{Channel: "DU1", TS: "1.1"}, e.now)
		// Still counts on Monday, before the next one.
		e.now = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
		if r := e.press(user, coach.ActAnswer, id+":"+q.ID+":"+q.Choices[1].ID); strings.Contains(all(r), "closed") {
			t.Fatalf("late answer refused too early: %q", all(r))
		}
		e.now = time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
		if n := len(e.deliver(t)); n != 1 {
			t.Fatalf("next check-in: %d", n)
		}
		if r := e.press(user, coach.ActAnswer, id+":"+q.ID+":"+q.Choices[2].ID); !strings.Contains(all(r), lib.T(trustbot.English, "checkin.closed")) {
			t.Fatalf("answer after a newer check-in: %q", all(r))
		}
	})

	t.Run("Skip", func(t *testing.T) {
		rs, _ := e.db.Reflections(context.Background(), user, "checkin", 1)
		r := e.press(user, coach.ActSkip, rs[0].Delivery.ID)
		if !strings.Contains(all(r), lib.T(trustbot.English, "checkin.skipped")) {
			t.Fatalf("skip: %q", all(r))
		}
	})

	t.Run("History", func(t *testing.T) {
		r := e.cmd(user, "history")
		if !strings.Contains(all(r), "▄") || !strings.Contains(all(r), "·") {
			t.Fatalf("history: %q", all(r))
		}
	})
}

// TestZoneChangeReplans: after a delivery, a stale profile is read again;
// a user who moved gets their next check-in at the same local time in the
// new zone.
func TestZoneChangeReplans(t *testing.T) {
	e := newCheckinEnv(t)
	e.cmd(user, "checkin weekly fri 16:00")
	e.now = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	ds := e.deliver(t)
	e.dir.tz = "America/New_York"
	e.now = e.now.Add(coach.ProfileTTL + time.Minute)
	e.c.Delivered(context.Background(), ds[0], e.now)
	s, err := e.db.Schedule(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if got := s.NextDueAt.In(ny).Format("Mon 15:04"); got != "Fri 16:00" {
		t.Fatalf("next check-in after moving to New York: %s (%s)", got, s.NextDueAt)
	}
}

// TestStatusShowsTheYearWhenNotThisOne: a next check-in or a pause that
// ends in another year says which year; one in this year does not.
func TestStatusShowsTheYearWhenNotThisOne(t *testing.T) {
	e := newCheckinEnv(t)
	e.now = time.Date(2026, 12, 28, 3, 0, 0, 0, time.UTC) // Monday 28 December in Tokyo
	r := e.cmd(user, "checkin monthly 25 16:00")
	if !strings.Contains(all(r), "Mon 25 Jan 2027, 16:00") {
		t.Fatalf("next check-in in January: %q", all(r))
	}
	r = e.cmd(user, "pause 2w")
	if !strings.Contains(all(r), "2027") {
		t.Fatalf("pause into next year: %q", all(r))
	}
	e.cmd(user, "lang ja")
	r = e.cmd(user, "checkin status")
	if !strings.Contains(all(r), "2027年1月") {
		t.Fatalf("ja status: %q", all(r))
	}
	e.now = time.Date(2027, 1, 4, 3, 0, 0, 0, time.UTC)
	e.cmd(user, "resume")
	r = e.cmd(user, "checkin status")
	if strings.Contains(all(r), "2027") {
		t.Fatalf("this year's date shows its year: %q", all(r))
	}
}

// TestHistoryShowsTheYearWhenNotThisOne: reflections from last year are
// dated with their year in the history; this year's are not.
func TestHistoryShowsTheYearWhenNotThisOne(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	q := lib.Checkin.Questions[0]
	e.now = time.Date(2026, 12, 21, 3, 0, 0, 0, time.UTC)
	e.cmd(user, "checkin weekly fri 16:00")
	for _, at := range []time.Time{
		time.Date(2026, 12, 25, 7, 0, 0, 0, time.UTC), // Friday 16:00 in Tokyo
		time.Date(2027, 1, 1, 7, 0, 0, 0, time.UTC),
	} {
		e.now = at
		ds := e.deliver(t)
		if len(ds) != 1 {
			t.Fatalf("%s: %d deliveries", at, len(ds))
		}
		e.press(user, coach.ActAnswer, ds[0].ID+":"+q.ID+":"+q.Choices[0].ID)
	}
	e.now = time.Date(2027, 1, 12, 3, 0, 0, 0, time.UTC)
	r := e.cmd(user, "history")
	if !strings.Contains(all(r), "2026/12/25–1/1") {
		t.Fatalf("history across the new year: %q", all(r))
	}
}

// TestHistoryOfOneDay: a history of check-ins on one day names that day
// once, not as a span from it to itself.
func TestHistoryOfOneDay(t *testing.T) {
	e := newCheckinEnv(t)
	q := MustLibrary(t).Checkin.Questions[0]
	e.now = time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	e.cmd(user, "checkin weekly fri 16:00")
	e.now = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC) // Friday 16:00 in Tokyo
	ds := e.deliver(t)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	e.press(user, coach.ActAnswer, ds[0].ID+":"+q.ID+":"+q.Choices[0].ID)
	r := e.cmd(user, "history")
	if got := all(r); !strings.Contains(got, "The check-in of 11/27.") || strings.Contains(got, "11/27–11/27") {
		t.Fatalf("history of one check-in: %q", got)
	}
	e.cmd(user, "lang ja")
	if got := all(e.cmd(user, "履歴")); !strings.Contains(got, "11/27の回") || strings.Contains(got, "〜") {
		t.Fatalf("ja history of one check-in: %q", got)
	}
}

// TestHolidaysOffSticksInTokyo: a user in Asia/Tokyo who turned holidays
// off before setting a check-in keeps them off; only a user who never
// chose gets Japan's default.
func TestHolidaysOffSticksInTokyo(t *testing.T) {
	e := newCheckinEnv(t) // Asia/Tokyo; 23 Nov 2026 (Monday) is a holiday
	ctx := context.Background()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	chose := trustbot.UserKey{Team: "T1", User: "UCHOSE"}
	e.cmd(chose, "holidays off")
	e.cmd(chose, "checkin weekly mon 16:00")
	set, err := e.db.Settings(ctx, chose)
	if err != nil {
		t.Fatal(err)
	}
	if set.Prefs.Holidays != trustbot.HolidaysOff {
		t.Errorf("holidays after \"holidays off\" and a first check-in: %q", set.Prefs.Holidays)
	}
	s, _ := e.db.Schedule(ctx, chose)
	if got := s.NextDueAt.In(tokyo).Format("Mon 2 Jan 15:04"); got != "Mon 23 Nov 16:00" {
		t.Errorf("first check-in of a user who turned holidays off: %s, want the holiday itself", got)
	}

	never := trustbot.UserKey{Team: "T1", User: "UNEVER"}
	e.cmd(never, "checkin weekly mon 16:00")
	s, _ = e.db.Schedule(ctx, never)
	if got := s.NextDueAt.In(tokyo).Format("Mon 2 Jan 15:04"); got != "Tue 24 Nov 16:00" {
		t.Errorf("first check-in of a user who never chose: %s, want the day after the holiday", got)
	}
	// Turned off later, it stays off through a new cadence.
	e.cmd(never, "holidays off")
	e.cmd(never, "checkin off")
	e.cmd(never, "checkin weekly mon 16:00")
	if set, _ := e.db.Settings(ctx, never); set.Prefs.Holidays != trustbot.HolidaysOff {
		t.Errorf("holidays after off and a new cadence: %q", set.Prefs.Holidays)
	}
	// And back on.
	e.cmd(never, "holidays jp")
	if set, _ := e.db.Settings(ctx, never); set.Prefs.Holidays != "jp" {
		t.Errorf("holidays jp: %q", set.Prefs.Holidays)
	}
}

// TestZoneChangeAdoptedWhateverTheLanguage: the dispatcher builds the DM
// (Message) before it records the delivery (Delivered). For a user whose
// language follows the platform ("auto"), building the DM already reads
// the stale profile again; the move is adopted all the same, for the very
// next check-in.
func TestZoneChangeAdoptedWhateverTheLanguage(t *testing.T) {
	for _, lang := range []string{"auto", "en"} {
		t.Run(lang, func(t *testing.T) {
			e := newCheckinEnv(t)
			ctx := context.Background()
			e.cmd(user, "lang "+lang)
			e.cmd(user, "checkin weekly fri 16:00")
			e.now = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
			ds := e.deliver(t)
			if len(ds) != 1 {
				t.Fatalf("%d deliveries", len(ds))
			}
			// A week later the user is in New York and the profile is stale.
			e.dir.tz = "America/New_York"
			e.now = time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
			ds = e.deliver(t)
			if len(ds) != 1 {
				t.Fatalf("%d deliveries a week later", len(ds))
			}
			if _, err := e.c.Message(ctx, ds[0]); err != nil {
				t.Fatal(err)
			}
			e.c.Delivered(ctx, ds[0], e.now)
			s, err := e.db.Schedule(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			ny, _ := time.LoadLocation("America/New_York")
			if got := s.NextDueAt.In(ny).Format("Mon 2 Jan 15:04"); got != "Fri 11 Dec 16:00" {
				t.Fatalf("next check-in after moving to New York: %s in New York (%s)", got, s.NextDueAt)
			}
		})
	}
}

// failingDir is a Directory that cannot be asked until it is told to
// answer, like users.info failing.
type failingDir struct {
	tz    string
	fail  bool
	calls int
}

func (d *failingDir) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	d.calls++
	if d.fail {
		return trustbot.Profile{}, trustbot.Errorf(trustbot.EINTERNAL, "users.info failed")
	}
	return trustbot.Profile{UserKey: k, TZ: d.tz, Locale: "en-US"}, nil
}

// TestDefaultZoneUntilThePlatformTells: while the platform gives no zone,
// check-ins are planned in the installation's zone (DefaultTZ, not UTC)
// and the reply says so; the platform is asked again later, and the
// user's own zone is then adopted.
func TestDefaultZoneUntilThePlatformTells(t *testing.T) {
	e := newCheckinEnv(t)
	ctx := context.Background()
	lib := MustLibrary(t)
	dir := &failingDir{tz: "America/New_York", fail: true}
	e.c.Directory = dir
	e.c.DefaultTZ = "Europe/Berlin"
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")

	r := e.cmd(user, "checkin weekly fri 16:00")
	assumed := lib.T(trustbot.Japanese, "checkin.zone_assumed", "zone", "Europe/Berlin")
	if !strings.Contains(all(r), assumed) || !strings.Contains(r.Text, assumed) {
		t.Errorf("the reply does not say which zone is assumed: %q", all(r))
	}
	s, _ := e.db.Schedule(ctx, user)
	if got := s.NextDueAt.In(berlin).Format("Mon 2 Jan 15:04"); got != "Fri 27 Nov 16:00" {
		t.Errorf("check-in planned in %s Berlin time (%s), want Friday 16:00 in the default zone", got, s.NextDueAt)
	}
	if r := e.cmd(user, "checkin status"); !strings.Contains(all(r), assumed) {
		t.Errorf("the status does not say which zone is assumed: %q", all(r))
	}
	// The failure is not taken as final, nor asked again at every turn.
	calls := dir.calls
	e.cmd(user, "tip")
	if dir.calls != calls {
		t.Errorf("the platform was asked again at once (%d calls, then %d)", calls, dir.calls)
	}

	// Later the platform answers: the user's own zone is adopted.
	dir.fail = false
	e.now = e.now.Add(coach.ZoneRetry + time.Minute)
	r = e.cmd(user, "checkin status")
	if strings.Contains(all(r), assumed) {
		t.Errorf("still assumed after the platform answered: %q", all(r))
	}
	if !strings.Contains(all(r), "America/New_York") {
		t.Errorf("status lacks the user's own zone: %q", all(r))
	}
	s, _ = e.db.Schedule(ctx, user)
	if got := s.NextDueAt.In(ny).Format("Mon 2 Jan 15:04"); got != "Fri 27 Nov 16:00" {
		t.Errorf("after the zone became known: %s New York time, want Friday 16:00 there", got)
	}
}

// TestStatusSeparatorFollowsTheLanguage: the parts of a status line are
// set apart with the language's own dot, "・" in Japanese and "·" in
// English, never the other's.
func TestStatusSeparatorFollowsTheLanguage(t *testing.T) {
	lib := MustLibrary(t)
	for _, tc := range []struct {
		locale, sep, other string
		lang               trustbot.Lang
	}{{"ja-JP", " ・ ", "·", trustbot.Japanese}, {"en-US", " · ", "・", trustbot.English}} {
		c := MustCoach(t, tc.locale)
		command(c, "quiet 22:00-08:00")
		r := command(c, "checkin")
		days, _, _ := strings.Cut(lib.T(tc.lang, "prefs.workdays"), "{")
		var status string
		for _, b := range r.Blocks {
			if b.Kind == trustbot.Context && strings.HasPrefix(b.Text, days) && strings.Count(b.Text, tc.sep) >= 2 {
				status = b.Text
			}
		}
		if status == "" || strings.Contains(status, tc.other) {
			t.Errorf("%s: no status line set apart with %q alone:\n%s", tc.locale, tc.sep, all(r))
		}
	}
}
