// Package calendar knows public holidays, from the maintained
// github.com/rickar/cal/v2 definitions: Japan's, for now.
package calendar

import (
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/jp"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Holidays answers whether a date is a public holiday in a region.
type Holidays struct {
	cal map[string]*cal.Calendar
}

// calcMu serializes every holiday calculation in the process: the
// library's holiday definitions are package variables, and some of them
// (the equinoxes) write the year's day into themselves as they are
// calculated, whichever Holidays asks.
var calcMu sync.Mutex

// New returns the holidays of every region trustbot knows ("jp").
func New() *Holidays {
	japan := &cal.Calendar{}
	japan.AddHoliday(jp.Holidays...)
	return &Holidays{cal: map[string]*cal.Calendar{"jp": japan}}
}

// Regions lists the supported region codes.
func Regions() []string { return []string{"jp"} }

// IsHoliday reports whether d is a public holiday, or the day a holiday is
// observed on (振替休日), in region.
func (h *Holidays) IsHoliday(region string, d trustbot.Date) bool {
	calcMu.Lock()
	defer calcMu.Unlock()
	c, ok := h.cal[region]
	if !ok {
		return false
	}
	actual, observed, _ := c.IsHoliday(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC))
	return actual || observed
}
