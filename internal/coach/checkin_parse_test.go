package coach_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want trustbot.Schedule
		err  bool
	}{
		{"weekly", trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: time.Friday, Minute: 960}, false},
		{"毎週", trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: time.Friday, Minute: 960}, false},
		{"weekly mon 9:30", trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: time.Monday, Minute: 570}, false},
		{"weekly 17:00 thursday", trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: time.Thursday, Minute: 1020}, false},
		{"毎週 水曜日 18時", trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: time.Wednesday, Minute: 1080}, false},
		{"毎週 火 9時半", trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: time.Tuesday, Minute: 570}, false},
		{"biweekly fri 4pm", trustbot.Schedule{Cadence: trustbot.Biweekly, Weekday: time.Friday, Minute: 960}, false},
		{"隔週 月 10:00", trustbot.Schedule{Cadence: trustbot.Biweekly, Weekday: time.Monday, Minute: 600}, false},
		{"monthly", trustbot.Schedule{Cadence: trustbot.Monthly, Week: -1, Weekday: time.Friday, Minute: 960}, false},
		{"monthly 31 9:00", trustbot.Schedule{Cadence: trustbot.Monthly, MonthDay: 31, Weekday: time.Friday, Minute: 540}, false},
		{"毎月 25日 17時", trustbot.Schedule{Cadence: trustbot.Monthly, MonthDay: 25, Weekday: time.Friday, Minute: 1020}, false},
		{"monthly last friday 17:00", trustbot.Schedule{Cadence: trustbot.Monthly, Week: -1, Weekday: time.Friday, Minute: 1020}, false},
		{"monthly last-mon", trustbot.Schedule{Cadence: trustbot.Monthly, Week: -1, Weekday: time.Monday, Minute: 960}, false},
		{"monthly first monday", trustbot.Schedule{Cadence: trustbot.Monthly, Week: 1, Weekday: time.Monday, Minute: 960}, false},
		{"毎月 第2水曜", trustbot.Schedule{Cadence: trustbot.Monthly, Week: 2, Weekday: time.Wednesday, Minute: 960}, false},
		{"毎月 最終金曜日 16:30", trustbot.Schedule{Cadence: trustbot.Monthly, Week: -1, Weekday: time.Friday, Minute: 990}, false},
		{"weekly 25:00", trustbot.Schedule{}, true},
		{"weekly someday", trustbot.Schedule{}, true},
		{"monthly 32", trustbot.Schedule{}, true},
		{"daily", trustbot.Schedule{}, true},
		{"weekly 15", trustbot.Schedule{}, true},
	} {
		got, err := coach.ParseSchedule(strings.Fields(coach.Fold(tc.in)))
		if (err != nil) != tc.err {
			t.Errorf("%q: err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseWorkdays(t *testing.T) {
	wd := func(days ...time.Weekday) trustbot.Weekdays {
		var w trustbot.Weekdays
		for _, d := range days {
			w |= 1 << d
		}
		return w
	}
	for in, want := range map[string]trustbot.Weekdays{
		"mon-fri":       trustbot.MondayToFriday,
		"月-金":           trustbot.MondayToFriday,
		"月〜金":           trustbot.MondayToFriday,
		"平日":            trustbot.MondayToFriday,
		"mon,tue,thu":   wd(time.Monday, time.Tuesday, time.Thursday),
		"月火水":           wd(time.Monday, time.Tuesday, time.Wednesday),
		"sun-tue":       wd(time.Sunday, time.Monday, time.Tuesday),
		"sat-mon":       wd(time.Saturday, time.Sunday, time.Monday),
		"毎日":            0x7f,
		"mon, wed, fri": wd(time.Monday, time.Wednesday, time.Friday),
	} {
		got, err := coach.ParseWorkdays(strings.Fields(coach.Fold(in)))
		if err != nil || got != want {
			t.Errorf("%q: got %07b, %v; want %07b", in, got, err, want)
		}
	}
	for _, in := range []string{"someday", "mon-xyz", ""} {
		if _, err := coach.ParseWorkdays(strings.Fields(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParseQuietAndPause(t *testing.T) {
	for in, want := range map[string][2]int{
		"22:00-08:00": {1320, 480}, "22:00〜8:00": {1320, 480}, "12:00 - 13:00": {720, 780}, "22時から7時": {1320, 420},
	} {
		a, b, err := coach.ParseQuiet(strings.Fields(coach.Fold(in)))
		if err != nil || a != want[0] || b != want[1] {
			t.Errorf("quiet %q: %d %d %v", in, a, b, err)
		}
	}
	if _, _, err := coach.ParseQuiet([]string{"22:00"}); err == nil {
		t.Error("quiet without an end accepted")
	}
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"2w": 14 * day, "3d": 3 * day, "1m": 30 * day, "2週間": 14 * day, "10日": 10 * day, "1か月": 30 * day, "2 weeks": 14 * day, "99m": coach.MaxPause,
	} {
		got, err := coach.ParsePause(strings.Fields(coach.Fold(in)))
		if err != nil || got != want {
			t.Errorf("pause %q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "forever", "-1w"} {
		if _, err := coach.ParsePause([]string{in}); err == nil {
			t.Errorf("pause %q accepted", in)
		}
	}
}
