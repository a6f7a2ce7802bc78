package coach

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Defaults when only a cadence is given: Friday 16:00 local, the end of a
// working week; monthly on its last Friday.
const (
	DefaultWeekday = time.Friday
	DefaultMinute  = 16 * 60
)

var (
	cadenceWords = map[string]trustbot.Cadence{
		"weekly": trustbot.Weekly, "week": trustbot.Weekly, "毎週": trustbot.Weekly, "週1": trustbot.Weekly, "週一": trustbot.Weekly,
		"biweekly": trustbot.Biweekly, "fortnightly": trustbot.Biweekly, "隔週": trustbot.Biweekly, "2週間ごと": trustbot.Biweekly, "2週ごと": trustbot.Biweekly,
		"monthly": trustbot.Monthly, "month": trustbot.Monthly, "毎月": trustbot.Monthly, "月1": trustbot.Monthly, "月一": trustbot.Monthly,
	}
	weekdayWords = map[string]time.Weekday{}
	nthWords     = map[string]int{
		"first": 1, "1st": 1, "第1": 1, "最初の": 1, "second": 2, "2nd": 2, "第2": 2, "third": 3, "3rd": 3, "第3": 3,
		"fourth": 4, "4th": 4, "第4": 4, "last": -1, "最終": -1, "最後の": -1, "最終週": -1,
	}
	clockHHMM  = regexp.MustCompile(`^(\d{1,2}):(\d{2})$`)
	clockJa    = regexp.MustCompile(`^(\d{1,2})時(?:(\d{1,2})分|(半))?$`)
	clockAmPm  = regexp.MustCompile(`^(\d{1,2})(?::(\d{2}))?(am|pm)$`)
	monthDayRe = regexp.MustCompile(`^(\d{1,2})(?:日|st|nd|rd|th)?$`)
	// "last-fri", "第2月曜", "最終金曜日": an nth word glued to a weekday.
	nthGlued = regexp.MustCompile(`^(first|second|third|fourth|last|1st|2nd|3rd|4th|第[1-4]|最終|最後の)[-_]?(.+)$`)
)

func init() {
	en := [][]string{{"sun", "sunday"}, {"mon", "monday"}, {"tue", "tues", "tuesday"}, {"wed", "wednesday"}, {"thu", "thur", "thurs", "thursday"}, {"fri", "friday"}, {"sat", "saturday"}}
	ja := []string{"日", "月", "火", "水", "木", "金", "土"}
	for d := range 7 {
		for _, w := range en[d] {
			weekdayWords[w] = time.Weekday(d)
		}
		weekdayWords[ja[d]] = time.Weekday(d)
		weekdayWords[ja[d]+"曜"] = time.Weekday(d)
		weekdayWords[ja[d]+"曜日"] = time.Weekday(d)
	}
}

// Errors of check-in arguments; each maps to an interface string.
var (
	errBadTime    = errors.New("checkin: time")
	errBadDay     = errors.New("checkin: day")
	errBadArg     = errors.New("checkin: argument")
	errNoWorkdays = errors.New("checkin: no workdays")
)

// parseClock reads "16:00", "9:30", "16時", "16時30分", "9時半", "4pm".
func parseClock(s string) (int, bool) {
	var h, m int
	switch {
	case clockHHMM.MatchString(s):
		g := clockHHMM.FindStringSubmatch(s)
		h, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi(g[2])
	case clockJa.MatchString(s):
		g := clockJa.FindStringSubmatch(s)
		h, _ = strconv.Atoi(g[1])
		if g[2] != "" {
			m, _ = strconv.Atoi(g[2])
		}
		if g[3] != "" {
			m = 30
		}
	case clockAmPm.MatchString(s):
		g := clockAmPm.FindStringSubmatch(s)
		h, _ = strconv.Atoi(g[1])
		if g[2] != "" {
			m, _ = strconv.Atoi(g[2])
		}
		if h < 1 || h > 12 {
			return 0, false
		}
		h %= 12
		if g[3] == "pm" {
			h += 12
		}
	default:
		return 0, false
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// ParseSchedule reads the words after "/trust checkin" that set a cadence:
// a cadence word, then optionally a day and a time in any order. Words are
// already folded (half-width, lower case).
func ParseSchedule(args []string) (trustbot.Schedule, error) {
	if len(args) == 0 {
		return trustbot.Schedule{}, errBadArg
	}
	cadence, ok := cadenceWords[args[0]]
	if !ok {
		return trustbot.Schedule{}, errBadArg
	}
	s := trustbot.Schedule{Cadence: cadence, Weekday: DefaultWeekday, Minute: DefaultMinute}
	if cadence == trustbot.Monthly {
		s.Week = -1
	}
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		w := strings.TrimSuffix(strings.TrimSuffix(rest[i], ","), "、")
		if w == "on" || w == "at" || w == "the" || w == "に" || w == "の" || w == "days" {
			continue
		}
		if m, ok := parseClock(w); ok {
			s.Minute = m
			continue
		}
		if d, ok := weekdayWords[w]; ok {
			s.Weekday = d
			continue
		}
		if cadence != trustbot.Monthly {
			if monthDayRe.MatchString(w) || strings.ContainsAny(w, "0123456789") {
				return s, errBadTime
			}
			return s, errBadDay
		}
		if g := monthDayRe.FindStringSubmatch(w); g != nil {
			n, _ := strconv.Atoi(g[1])
			if n < 1 || n > 31 {
				return s, errBadDay
			}
			s.MonthDay, s.Week = n, 0
			continue
		}
		if n, ok := nthWords[w]; ok && i+1 < len(rest) {
			if d, ok := weekdayWords[rest[i+1]]; ok {
				s.Week, s.Weekday, s.MonthDay = n, d, 0
				i++
				continue
			}
		}
		if g := nthGlued.FindStringSubmatch(w); g != nil {
			if d, ok := weekdayWords[g[2]]; ok {
				s.Week, s.Weekday, s.MonthDay = nthWords[g[1]], d, 0
				continue
			}
		}
		if strings.ContainsAny(w, "0123456789") {
			return s, errBadTime
		}
		return s, errBadDay
	}
	return s, nil
}

// ParseWorkdays reads "mon-fri", "月-金", "mon,tue,wed", "月火水木金",
// "weekdays", "平日", "everyday", "毎日".
func ParseWorkdays(args []string) (trustbot.Weekdays, error) {
	text := strings.Join(args, ",")
	switch text {
	case "weekdays", "平日":
		return trustbot.MondayToFriday, nil
	case "everyday", "every,day", "毎日", "all":
		return 0x7f, nil
	}
	var set trustbot.Weekdays
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '、' || r == '・' || r == '/' }) {
		if from, to, ok := strings.Cut(part, "-"); ok || strings.Contains(part, "〜") || strings.Contains(part, "~") {
			if !ok {
				from, to, _ = strings.Cut(strings.ReplaceAll(part, "〜", "~"), "~")
			}
			a, ok1 := weekdayWords[from]
			b, ok2 := weekdayWords[to]
			if !ok1 || !ok2 {
				return 0, errBadDay
			}
			for d := a; ; d = (d + 1) % 7 {
				set |= 1 << d
				if d == b {
					break
				}
			}
			continue
		}
		if d, ok := weekdayWords[part]; ok {
			set |= 1 << d
			continue
		}
		// "月火水木金": one character a day.
		for _, r := range part {
			d, ok := weekdayWords[string(r)]
			if !ok {
				return 0, errBadDay
			}
			set |= 1 << d
		}
	}
	if set == 0 {
		return 0, errNoWorkdays
	}
	return set, nil
}

// ParseQuiet reads "22:00-08:00" (also with 〜 or ~) into start and end
// minutes.
func ParseQuiet(args []string) (int, int, error) {
	text := strings.NewReplacer("〜", "-", "~", "-", "から", "-", "まで", "", " ", "").Replace(strings.Join(args, ""))
	from, to, ok := strings.Cut(text, "-")
	if !ok {
		return 0, 0, errBadTime
	}
	a, ok1 := parseClock(from)
	b, ok2 := parseClock(to)
	if !ok1 || !ok2 || a == b {
		return 0, 0, errBadTime
	}
	return a, b, nil
}

var durationRe = regexp.MustCompile(`^(\d{1,3})(d|day|days|日|日間|w|wk|week|weeks|週|週間|m|mo|month|months|か月|ヶ月|カ月|ヵ月)$`)

// MaxPause is the longest pause; longer asks are cut to it.
const MaxPause = 183 * 24 * time.Hour

// ParsePause reads "2w", "3d", "1m", "2週間", "10日", "1か月" (and "2 weeks").
// There is no default length: an empty text is an error.
func ParsePause(args []string) (time.Duration, error) {
	text := strings.Join(args, "")
	g := durationRe.FindStringSubmatch(text)
	if g == nil {
		return 0, errBadArg
	}
	n, _ := strconv.Atoi(g[1])
	if n == 0 {
		return 0, errBadArg
	}
	day := 24 * time.Hour
	var d time.Duration
	switch g[2] {
	case "d", "day", "days", "日", "日間":
		d = time.Duration(n) * day
	case "w", "wk", "week", "weeks", "週", "週間":
		d = time.Duration(n) * 7 * day
	default:
		d = time.Duration(n) * 30 * day
	}
	return min(d, MaxPause), nil
}
