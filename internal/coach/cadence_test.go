package coach_test

import (
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func date(s string) trustbot.Date {
	d, err := trustbot.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func loc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestResolve pins the rule for wall times that do not exist (moved
// forward by the gap) or exist twice (the first).
func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		zone, date, time, want string
	}{
		// Ordinary.
		{"Asia/Tokyo", "2026-11-27", "16:00", "2026-11-27T16:00:00+09:00"},
		// New York: 02:30 does not exist on 2026-03-08; 01:30 happens twice on 2026-11-01.
		{"America/New_York", "2026-03-08", "02:30", "2026-03-08T03:30:00-04:00"},
		{"America/New_York", "2026-03-08", "01:59", "2026-03-08T01:59:00-05:00"},
		{"America/New_York", "2026-03-08", "03:00", "2026-03-08T03:00:00-04:00"},
		{"America/New_York", "2026-11-01", "01:30", "2026-11-01T01:30:00-04:00"},
		// Berlin.
		{"Europe/Berlin", "2026-03-29", "02:30", "2026-03-29T03:30:00+02:00"},
		{"Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T02:30:00+02:00"},
		// Lord Howe: a 30-minute change.
		{"Australia/Lord_Howe", "2026-10-04", "02:15", "2026-10-04T02:45:00+11:00"},
		{"Australia/Lord_Howe", "2026-04-05", "01:45", "2026-04-05T01:45:00+11:00"},
		// Santiago: midnight does not exist on 2026-09-06; 23:30 happens twice on 2026-04-04.
		{"America/Santiago", "2026-09-06", "00:00", "2026-09-06T01:00:00-03:00"},
		{"America/Santiago", "2026-09-06", "00:30", "2026-09-06T01:30:00-03:00"},
		{"America/Santiago", "2026-04-04", "23:30", "2026-04-04T23:30:00-03:00"},
		// Apia skipped 2011-12-30 entirely.
		{"Pacific/Apia", "2011-12-30", "09:00", "2011-12-31T09:00:00+14:00"},
		{"Pacific/Apia", "2011-12-29", "09:00", "2011-12-29T09:00:00-10:00"},
	} {
		h, _ := time.Parse("15:04", tc.time)
		got := coach.Resolve(date(tc.date), h.Hour()*60+h.Minute(), loc(t, tc.zone))
		if s := got.Format(time.RFC3339); s != tc.want {
			t.Errorf("%s %s %s: got %s, want %s", tc.zone, tc.date, tc.time, s, tc.want)
		}
	}
}

func weekly(day time.Weekday, hhmm int) trustbot.Schedule {
	return trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: day, Minute: hhmm/100*60 + hhmm%100}
}

// occurrences lists the next n occurrences after start, advancing as the
// dispatcher does, each as the local time it is sent.
func occurrences(t *testing.T, s trustbot.Schedule, p trustbot.Prefs, start string, n int, hol coach.Holidays) []string {
	t.Helper()
	now, err := time.Parse(time.RFC3339, start)
	if err != nil {
		t.Fatal(err)
	}
	l := coach.Location(p.TZ)
	s = coach.Plan(s, p, now, hol)
	var out []string
	for range n {
		out = append(out, s.NextDueAt.In(l).Format("2006-01-02 Mon 15:04 MST"))
		var missed int
		s, missed = coach.Advance(s, p, s.NextDueAt, hol)
		if missed != 0 {
			t.Fatalf("missed %d while advancing on time", missed)
		}
	}
	return out
}

func prefs(tz string) trustbot.Prefs {
	p := trustbot.DefaultPrefs()
	p.TZ = tz
	p.Workdays = 0x7f // every day, unless a case says otherwise
	return p
}

func TestCadence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     trustbot.Schedule
		p     trustbot.Prefs
		start string
		want  []string
	}{
		{"WeeklyKeepsLocalTimeAcrossSpringForward", weekly(time.Friday, 1600), prefs("America/New_York"), "2026-03-01T00:00:00Z",
			[]string{"2026-03-06 Fri 16:00 EST", "2026-03-13 Fri 16:00 EDT", "2026-03-20 Fri 16:00 EDT"}},
		{"WeeklyInTheGapIsNotSkipped", weekly(time.Sunday, 230), prefs("America/New_York"), "2026-03-02T00:00:00Z",
			[]string{"2026-03-08 Sun 03:30 EDT", "2026-03-15 Sun 02:30 EDT"}},
		{"WeeklyInTheRepeatedHourRunsOnce", weekly(time.Sunday, 130), prefs("America/New_York"), "2026-10-26T00:00:00Z",
			[]string{"2026-11-01 Sun 01:30 EDT", "2026-11-08 Sun 01:30 EST"}},
		{"BerlinFallBack", weekly(time.Sunday, 230), prefs("Europe/Berlin"), "2026-10-19T00:00:00Z",
			[]string{"2026-10-25 Sun 02:30 CEST", "2026-11-01 Sun 02:30 CET"}},
		{"LordHoweHalfHour", weekly(time.Sunday, 215), prefs("Australia/Lord_Howe"), "2026-09-28T00:00:00Z",
			[]string{"2026-10-04 Sun 02:45 +11", "2026-10-11 Sun 02:15 +11"}},
		{"SantiagoMidnightGap", weekly(time.Sunday, 0), prefs("America/Santiago"), "2026-08-31T00:00:00Z",
			[]string{"2026-09-06 Sun 01:00 -03", "2026-09-13 Sun 00:00 -03"}},
		{"ApiaSkippedFriday", weekly(time.Friday, 900), prefs("Pacific/Apia"), "2011-12-20T00:00:00Z",
			[]string{"2011-12-23 Fri 09:00 -10", "2011-12-31 Sat 09:00 +14", "2012-01-06 Fri 09:00 +14"}},
		{"Biweekly", trustbot.Schedule{Cadence: trustbot.Biweekly, Weekday: time.Friday, Minute: 16 * 60}, prefs("Asia/Tokyo"), "2026-11-22T00:00:00Z",
			[]string{"2026-11-27 Fri 16:00 JST", "2026-12-11 Fri 16:00 JST", "2026-12-25 Fri 16:00 JST", "2027-01-08 Fri 16:00 JST"}},
		{"Monthly31stNeverSkipsAShortMonth", trustbot.Schedule{Cadence: trustbot.Monthly, MonthDay: 31, Minute: 9 * 60}, prefs("Asia/Tokyo"), "2026-12-01T00:00:00Z",
			[]string{"2026-12-31 Thu 09:00 JST", "2027-01-31 Sun 09:00 JST", "2027-02-28 Sun 09:00 JST", "2027-03-31 Wed 09:00 JST", "2027-04-30 Fri 09:00 JST"}},
		{"Monthly29thInALeapYear", trustbot.Schedule{Cadence: trustbot.Monthly, MonthDay: 29, Minute: 9 * 60}, prefs("UTC"), "2028-01-30T00:00:00Z",
			[]string{"2028-02-29 Tue 09:00 UTC", "2028-03-29 Wed 09:00 UTC"}},
		{"MonthlyLastFriday", trustbot.Schedule{Cadence: trustbot.Monthly, Week: -1, Weekday: time.Friday, Minute: 17 * 60}, prefs("Asia/Tokyo"), "2026-11-01T00:00:00Z",
			[]string{"2026-11-27 Fri 17:00 JST", "2026-12-25 Fri 17:00 JST", "2027-01-29 Fri 17:00 JST", "2027-02-26 Fri 17:00 JST"}},
		{"MonthlyFirstMonday", trustbot.Schedule{Cadence: trustbot.Monthly, Week: 1, Weekday: time.Monday, Minute: 10 * 60}, prefs("Europe/Berlin"), "2026-11-05T00:00:00Z",
			[]string{"2026-12-07 Mon 10:00 CET", "2027-01-04 Mon 10:00 CET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := occurrences(t, tc.s, tc.p, tc.start, len(tc.want), nil)
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("occurrence %d: got %s, want %s (all: %v)", i, got[i], tc.want[i], got)
				}
			}
		})
	}
}

type holidays map[string]bool

func (h holidays) IsHoliday(region string, d trustbot.Date) bool {
	return region == "jp" && h[d.String()]
}

func TestAllowed(t *testing.T) {
	tokyo := loc(t, "Asia/Tokyo")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	hol := holidays{"2026-11-23": true} // 勤労感謝の日, a Monday
	base := trustbot.DefaultPrefs()
	base.TZ = "Asia/Tokyo"
	for _, tc := range []struct {
		name string
		t    string
		p    func(p *trustbot.Prefs)
		want string
	}{
		{"Workday", "2026-11-27 16:00", nil, "2026-11-27 16:00"},
		{"SaturdayMovesToMonday", "2026-11-28 16:00", nil, "2026-11-30 16:00"},
		{"HolidayMovesToNextWorkday", "2026-11-21 16:00", func(p *trustbot.Prefs) { p.Holidays = "jp" }, "2026-11-24 16:00"},
		{"HolidayIgnoredWhenOff", "2026-11-23 16:00", func(p *trustbot.Prefs) { p.Holidays = trustbot.HolidaysOff }, "2026-11-23 16:00"},
		// In Asia/Tokyo, a user who never chose skips Japan's holidays.
		{"HolidaySkippedInTokyoByDefault", "2026-11-23 16:00", nil, "2026-11-24 16:00"},
		{"QuietHoursEndSameDay", "2026-11-27 12:30", func(p *trustbot.Prefs) { p.QuietStart, p.QuietEnd = 12*60, 13*60 }, "2026-11-27 13:00"},
		{"OvernightQuietBeforeMidnight", "2026-11-26 23:00", func(p *trustbot.Prefs) { p.QuietStart, p.QuietEnd = 22*60, 8*60 }, "2026-11-27 08:00"},
		{"OvernightQuietAfterMidnight", "2026-11-27 06:00", func(p *trustbot.Prefs) { p.QuietStart, p.QuietEnd = 22*60, 8*60 }, "2026-11-27 08:00"},
		{"QuietEndOnAWeekendMovesOn", "2026-11-27 23:00", func(p *trustbot.Prefs) { p.QuietStart, p.QuietEnd = 22*60, 8*60 }, "2026-11-30 16:00"},
		{"Paused", "2026-11-27 16:00", func(p *trustbot.Prefs) { p.PausedUntil = at("2026-12-03 10:00") }, "2026-12-03 10:00"},
		{"PauseEndingOnSaturday", "2026-11-27 16:00", func(p *trustbot.Prefs) { p.PausedUntil = at("2026-12-05 00:00") }, "2026-12-07 16:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			if tc.p != nil {
				tc.p(&p)
			}
			got := coach.Allowed(at(tc.t), 16*60, p, tokyo, hol)
			if s := got.Format("2006-01-02 15:04"); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

// TestAdvanceAfterDowntime: occurrences that passed while the bot was down
// are counted, not sent one after another.
func TestAdvanceAfterDowntime(t *testing.T) {
	p := prefs("Asia/Tokyo")
	s := coach.Plan(weekly(time.Friday, 1600), p, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil)
	if s.Occurrence != date("2026-11-06") {
		t.Fatalf("first occurrence %s", s.Occurrence)
	}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) // down for almost three weeks
	next, missed := coach.Advance(s, p, now, nil)
	if missed != 2 || next.Occurrence != date("2026-11-27") {
		t.Fatalf("missed %d, next %s; want 2 missed (11-13, 11-20) and 11-27", missed, next.Occurrence)
	}
}

// TestPauseIsNotDowntime: occurrences that fell inside the user's pause
// are not counted as missed.
func TestPauseIsNotDowntime(t *testing.T) {
	p := prefs("Asia/Tokyo")
	s := coach.Plan(weekly(time.Wednesday, 900), p, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), nil)
	p.PausedUntil = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo
	s = coach.Plan(s, p, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), nil)
	next, missed := coach.Advance(s, p, p.PausedUntil, nil)
	if missed != 0 {
		t.Fatalf("a pause counted as %d missed occurrences", missed)
	}
	if !next.NextDueAt.After(p.PausedUntil) {
		t.Fatalf("next %s is not after the pause", next.NextDueAt)
	}
}
