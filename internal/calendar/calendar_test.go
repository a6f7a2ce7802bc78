package calendar_test

import (
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestJapaneseHolidays(t *testing.T) {
	h := calendar.New()
	for d, want := range map[string]bool{
		"2026-01-01": true,  // 元日
		"2026-01-12": true,  // 成人の日, second Monday
		"2026-05-06": true,  // 振替休日 for Constitution Day... observed
		"2026-09-23": true,  // 秋分の日
		"2026-11-03": true,  // 文化の日
		"2026-11-23": true,  // 勤労感謝の日
		"2026-11-24": false, // an ordinary Tuesday
		"2026-11-27": false,
	} {
		date, _ := trustbot.ParseDate(d)
		if got := h.IsHoliday("jp", date); got != want {
			t.Errorf("%s: holiday = %v, want %v", d, got, want)
		}
	}
	d, _ := trustbot.ParseDate("2026-11-23")
	if h.IsHoliday("us", d) {
		t.Error("an unknown region has holidays")
	}
}

// TestSeveralHolidaysAtOnce: two Holidays asked at once, as the program's
// commands and replicas in one process may, about the equinoxes (whose
// definitions write into themselves as they are calculated): the race
// detector finds nothing, and both answer right.
func TestSeveralHolidaysAtOnce(t *testing.T) {
	a, b := calendar.New(), calendar.New()
	var wg sync.WaitGroup
	for _, h := range []*calendar.Holidays{a, b} {
		wg.Go(func() {
			for year := 2020; year < 2040; year++ {
				h.IsHoliday("jp", trustbot.Date{Year: year, Month: time.March, Day: 20})
				h.IsHoliday("jp", trustbot.Date{Year: year, Month: time.September, Day: 22})
			}
		})
	}
	wg.Wait()
	if !a.IsHoliday("jp", trustbot.Date{Year: 2026, Month: time.March, Day: 20}) || !b.IsHoliday("jp", trustbot.Date{Year: 2026, Month: time.September, Day: 23}) {
		t.Error("the equinoxes of 2026 (20 March, 23 September) are not holidays")
	}
}
