package coach

import (
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Holidays tells public holidays apart; implemented by internal/calendar.
type Holidays interface {
	// IsHoliday reports whether d is a public holiday in region ("jp").
	IsHoliday(region string, d trustbot.Date) bool
}

// Resolve returns the instant at which the clocks in loc show minute (after
// midnight) on date d. Where that wall time does not exist (a daylight-saving
// gap, a skipped day) it is moved forward by the length of the gap; where it
// exists twice (the hour repeated when clocks go back) the first is taken.
// This is the "compatible" rule of RFC 5545 and JavaScript Temporal.
func Resolve(d trustbot.Date, minute int, loc *time.Location) time.Time {
	wall := time.Date(d.Year, d.Month, d.Day, minute/60, minute%60, 0, 0, time.UTC)
	// The offsets in force around that wall time: a transition near it lies
	// between the two probes.
	before := offsetAt(wall.Add(-48*time.Hour), loc)
	after := offsetAt(wall.Add(48*time.Hour), loc)
	var best time.Time
	for _, off := range []int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second)
		if offsetAt(t, loc) == off && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() {
		// In a gap: read the wall time with the offset from before the
		// change, which lands as far past the gap as it was into it.
		best = wall.Add(-time.Duration(before) * time.Second)
	}
	return best.In(loc)
}

func offsetAt(t time.Time, loc *time.Location) int {
	_, off := t.In(loc).Zone()
	return off
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day() }

// nextDate returns the first date of the cadence strictly after from.
func nextDate(s trustbot.Schedule, from trustbot.Date) trustbot.Date {
	switch s.Cadence {
	case trustbot.Weekly, trustbot.Biweekly:
		d := from.AddDays(1)
		d = d.AddDays((int(s.Weekday) - int(d.Weekday()) + 7) % 7)
		// Every other week: the weeks an even number of weeks from the
		// anchor (an earlier occurrence on the same weekday).
		if s.Cadence == trustbot.Biweekly && !s.Anchor.IsZero() && s.Anchor.Weekday() == s.Weekday {
			if n := (d.DaysSince(s.Anchor)%14 + 14) % 14; n != 0 {
				d = d.AddDays(14 - n)
			}
		}
		return d
	case trustbot.Monthly:
		y, m := from.Year, from.Month
		for range 3 {
			if d, ok := monthDate(s, y, m); ok && d.DaysSince(from) > 0 {
				return d
			}
			m++
			if m > time.December {
				y, m = y+1, time.January
			}
		}
	}
	return from.AddDays(7) // unreachable for a valid schedule
}

// monthDate returns the cadence's date in month m of year y.
func monthDate(s trustbot.Schedule, y int, m time.Month) (trustbot.Date, bool) {
	n := daysIn(y, m)
	switch {
	case s.MonthDay > 0:
		// The 29th-31st fall on the last day of a shorter month: never a
		// month without a check-in.
		return trustbot.Date{Year: y, Month: m, Day: min(s.MonthDay, n)}, true
	case s.Week == -1:
		d := trustbot.Date{Year: y, Month: m, Day: n}
		return d.AddDays(-((int(d.Weekday()) - int(s.Weekday) + 7) % 7)), true
	case s.Week >= 1 && s.Week <= 4:
		d := trustbot.Date{Year: y, Month: m, Day: 1}
		return d.AddDays((int(s.Weekday)-int(d.Weekday())+7)%7 + 7*(s.Week-1)), true
	}
	return trustbot.Date{}, false
}

// NextOccurrence returns the first occurrence of the schedule whose
// instant is after t: its local date and its instant.
func NextOccurrence(s trustbot.Schedule, t time.Time, loc *time.Location) (trustbot.Date, time.Time) {
	d := trustbot.DateOf(t.In(loc)).AddDays(-3)
	for range 1000 {
		d = nextDate(s, d)
		if at := Resolve(d, s.Minute, loc); at.After(t) {
			return d, at
		}
	}
	panic("coach: no next occurrence") // a cadence always has one within 1000 steps
}

// HolidayRegion is the region whose public holidays the user skips, or
// "": their choice, else Japan's for a user in Asia/Tokyo (zone) who never
// chose.
func HolidayRegion(p trustbot.Prefs, zone string) string {
	switch {
	case p.Holidays == trustbot.HolidaysOff:
		return ""
	case p.Holidays == "" && zone == "Asia/Tokyo":
		return "jp"
	}
	return p.Holidays
}

// Allowed moves t forward to the first moment the user's rules allow a
// message: after any pause, on a workday that is not a holiday they skip
// (HolidayRegion), outside quiet hours. A day that is not allowed moves
// to the next one at the same time of day (minute). Check-ins, journey
// follow-ups and snoozes all pass through it.
func Allowed(t time.Time, minute int, p trustbot.Prefs, loc *time.Location, hol Holidays) time.Time {
	region := HolidayRegion(p, loc.String())
	for range 1000 {
		if !p.PausedUntil.IsZero() && t.Before(p.PausedUntil) {
			t = p.PausedUntil.In(loc)
			continue
		}
		local := t.In(loc)
		d := trustbot.DateOf(local)
		if p.Workdays != 0 && !p.Workdays.Has(d.Weekday()) || region != "" && hol != nil && hol.IsHoliday(region, d) {
			t = Resolve(d.AddDays(1), minute, loc)
			continue
		}
		if end, ok := quietEnd(local, p); ok {
			t = end
			continue
		}
		return t
	}
	return t // no allowed moment within 1000 moves: send rather than never
}

// quietEnd returns when the quiet hours that contain local end.
func quietEnd(local time.Time, p trustbot.Prefs) (time.Time, bool) {
	if p.QuietStart < 0 || p.QuietEnd < 0 || p.QuietStart == p.QuietEnd {
		return time.Time{}, false
	}
	m := local.Hour()*60 + local.Minute()
	d := trustbot.DateOf(local)
	switch {
	case p.QuietStart < p.QuietEnd && m >= p.QuietStart && m < p.QuietEnd:
		return Resolve(d, p.QuietEnd, local.Location()), true
	case p.QuietStart > p.QuietEnd && m >= p.QuietStart:
		return Resolve(d.AddDays(1), p.QuietEnd, local.Location()), true
	case p.QuietStart > p.QuietEnd && m < p.QuietEnd:
		return Resolve(d, p.QuietEnd, local.Location()), true
	}
	return time.Time{}, false
}

// Location returns the zone for an IANA name; UTC for "" or an unknown name.
func Location(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Plan sets the schedule's next occurrence: the first one after now,
// moved to when the user's rules allow it.
func Plan(s trustbot.Schedule, p trustbot.Prefs, now time.Time, hol Holidays) trustbot.Schedule {
	loc := Location(p.TZ)
	if s.Cadence == trustbot.Biweekly && s.Anchor.IsZero() {
		first, _ := NextOccurrence(trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: s.Weekday, Minute: s.Minute}, now, loc)
		s.Anchor = first
	}
	d, at := NextOccurrence(s, now, loc)
	s.Occurrence, s.NextDueAt = d, Allowed(at, s.Minute, p, loc, hol).UTC()
	return s
}

// Advance moves a schedule whose occurrence was just claimed at now to the
// next one. Occurrences that passed while nothing was sending (downtime)
// are not sent late one by one: they are counted as missed (those inside
// the user's pause are not), and the next occurrence is the first still
// ahead.
func Advance(s trustbot.Schedule, p trustbot.Prefs, now time.Time, hol Holidays) (trustbot.Schedule, int) {
	loc := Location(p.TZ)
	missed := 0
	d := s.Occurrence
	for range 10000 {
		d = nextDate(s, d)
		at := Resolve(d, s.Minute, loc)
		if at.After(now) {
			s.Occurrence, s.NextDueAt = d, Allowed(at, s.Minute, p, loc, hol).UTC()
			return s, missed
		}
		// An occurrence inside a pause was the user's choice, not downtime.
		if p.PausedUntil.IsZero() || !at.Before(p.PausedUntil) {
			missed++
		}
	}
	return Plan(s, p, now, hol), missed
}
