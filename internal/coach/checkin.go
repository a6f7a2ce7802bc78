package coach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Check-in action IDs. Values carry a delivery ID, which is checked to be
// the user's own before anything is read or written.
const (
	ActAnswer  = "checkin.answer" // value: "<delivery>:<question>:<choice>"
	ActSnooze  = "checkin.snooze" // value: "<delivery>:3h" or "<delivery>:1d"
	ActSkip    = "checkin.skip"   // value: "<delivery>"
	ActNow     = "checkin.now"    // value: ""
	ActCadence = "checkin.set"    // value: "weekly", "biweekly", "monthly" or "off"
	ActNote    = "checkin.note"   // value: "<delivery>"; opens the note form
	ActPause   = "prefs.pause"    // value: a length ("3d", "1w", "2w", "1m") or "resume"

	// FormNote is the note form: its metadata is the delivery ID.
	FormNote = "checkin.note"
)

// Longest note and action kept, in characters.
const (
	MaxNote   = 1000
	MaxAction = 300
)

// KindCheckin is the delivery kind of reflection check-ins.
const KindCheckin = "checkin"

// historyLength is how many periods /trust history shows.
const historyLength = 8

var errClosed = errors.New("a newer check-in has been sent")

// Advance moves a claimed schedule on (for the dispatcher).
func (c *Coach) Advance(s trustbot.Schedule, p trustbot.Prefs, now time.Time) (trustbot.Schedule, int) {
	p.TZ = c.zone(p.TZ)
	return Advance(s, p, now, c.Holidays)
}

// Message builds the direct message of a delivery, in the user's language.
func (c *Coach) Message(ctx context.Context, d trustbot.Delivery) (trustbot.Reply, error) {
	t := &turn{Coach: c, ctx: ctx, req: trustbot.Request{UserKey: d.UserKey}, lang: c.DefaultLang}
	if d.Kind != KindWeekly {
		// A channel's post speaks the subscription's language; everything
		// else, the user's: never another, when the database cannot say
		// which for now (the message waits for a later pass).
		l, err := c.language(ctx, d.UserKey)
		if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
			return trustbot.Reply{}, err
		}
		if err != nil {
			c.Logger.Warn("settings unavailable, using default language", "team", d.Team, "user", d.User, "err", err)
		}
		t.lang = l
	}
	switch d.Kind {
	case KindCheckin:
		return t.checkinMessage(d, trustbot.Answers{}), nil
	case KindJourney:
		return t.journeyMessage(d)
	case KindTryit:
		return t.tryitMessage(d, "")
	case KindNotice:
		return t.noticeMessage(d)
	case KindWeekly:
		s, err := c.Store.Subscription(ctx, d.Team, d.User)
		if err != nil {
			return trustbot.Reply{}, err
		}
		if !s.Active {
			return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "subscription of %s is off", s.Channel)
		}
		if l, ok := trustbot.ParseLang(s.Lang); ok {
			t.lang = l
		}
		return t.weeklyPost(s)
	}
	return trustbot.Reply{}, fmt.Errorf("unknown delivery kind %q", d.Kind)
}

// Delivered refreshes the user's profile when it is stale, so that a
// changed time zone (a move, a trip) is adopted (see profile) even when
// building the message did not read it.
func (c *Coach) Delivered(ctx context.Context, d trustbot.Delivery, now time.Time) {
	switch d.Kind {
	case KindWeekly:
		// Record which tip the channel got: the same choice Message made,
		// since nothing was recorded in between.
		s, err := c.Store.Subscription(ctx, d.Team, d.User)
		if err != nil {
			return
		}
		t := &turn{Coach: c, ctx: ctx, req: trustbot.Request{UserKey: d.UserKey}}
		if tip, err := t.nextTip(s); err == nil {
			if err := c.Store.RecordChannelTip(ctx, s.Team, s.Channel, tip.ID, now); err != nil {
				c.Logger.Error("tip of the week not recorded", "team", s.Team, "channel", s.Channel, "err", err)
			}
		}
		return
	case KindCheckin, KindJourney:
	default:
		return
	}
	c.profile(ctx, d.UserKey)
}

// replan recomputes the user's next check-in after a change of rules.
func (c *Coach) replan(ctx context.Context, k trustbot.UserKey, now time.Time) (trustbot.Schedule, error) {
	s, err := c.Store.Schedule(ctx, k)
	if err != nil || !s.Active {
		return s, err
	}
	set, err := c.settings(ctx, k)
	if err != nil {
		return s, err
	}
	s = Plan(s, set.Prefs, now, c.Holidays)
	return s, c.Store.SaveSchedule(ctx, s)
}

// rezone moves what is planned for the user into their new zone: the next
// check-in and the next follow-up of each active journey.
func (c *Coach) rezone(ctx context.Context, k trustbot.UserKey, now time.Time) error {
	set, err := c.settings(ctx, k)
	if err != nil {
		return err
	}
	return errors.Join(c.rezoneCheckin(ctx, k, set, now), c.rezoneJourneys(ctx, k, set))
}

// rezoneCheckin moves the next check-in to the same local date and time in
// the new zone, or, when that has already passed there, to the next
// occurrence after now. The date is kept so that a move westwards never
// brings back the occurrence just sent.
func (c *Coach) rezoneCheckin(ctx context.Context, k trustbot.UserKey, set trustbot.Settings, now time.Time) error {
	s, err := c.Store.Schedule(ctx, k)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND || err == nil && !s.Active {
		return nil
	}
	if err != nil {
		return err
	}
	loc := Location(set.Prefs.TZ)
	if at := Resolve(s.Occurrence, s.Minute, loc); !s.Occurrence.IsZero() && at.After(now) {
		s.NextDueAt = Allowed(at, s.Minute, set.Prefs, loc, c.Holidays).UTC()
	} else {
		s = Plan(s, set.Prefs, now, c.Holidays)
	}
	return c.Store.SaveSchedule(ctx, s)
}

// rezoneJourneys moves each active journey's next follow-up to the same
// local date and time in the new zone (a follow-up whose time has already
// passed there goes out at the next pass). One that a pass claimed
// meanwhile is left as the pass planned it.
func (c *Coach) rezoneJourneys(ctx context.Context, k trustbot.UserKey, set trustbot.Settings) error {
	js, err := c.Store.Journeys(ctx, k, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, j := range js {
		items := c.timeline(j)
		if j.NextDueAt.IsZero() || j.Step >= len(items) {
			continue
		}
		if to := c.due(j, items[j.Step], set.Prefs); !to.Equal(j.NextDueAt) {
			if _, err := c.Store.MoveJourney(ctx, k, j.ID, j.Step, j.NextDueAt, to); err != nil {
				errs = append(errs, fmt.Errorf("journey %s: %w", j.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// checkinCommand answers "/trust checkin ...".
func (t *turn) checkinCommand(args []string) (trustbot.Reply, error) {
	if len(args) == 0 {
		return t.checkinStatus("")
	}
	switch Word(args[0]) {
	case WordStatus:
		return t.checkinStatus("")
	case WordOff:
		return t.checkinOff()
	case WordNow:
		return t.checkinNow()
	}
	s, err := ParseSchedule(args)
	if err != nil {
		key := "checkin.bad_args"
		switch {
		case errors.Is(err, errBadTime):
			key = "checkin.bad_time"
		case errors.Is(err, errBadDay):
			key = "checkin.bad_day"
		}
		return t.checkinStatus(t.tr(key))
	}
	return t.setSchedule(s)
}

// setSchedule saves a new cadence and plans its first check-in.
func (t *turn) setSchedule(s trustbot.Schedule) (trustbot.Reply, error) {
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	p, _ := t.profile(t.ctx, t.req.UserKey)
	if _, err := t.Store.Schedule(t.ctx, t.req.UserKey); trustbot.ErrorCode(err) == trustbot.ENOTFOUND && p.TZ == "Asia/Tokyo" && set.Prefs.Holidays == "" {
		// A first schedule in Japan skips Japanese public holidays, unless
		// the user already chose; they can turn it off.
		set.Prefs.Holidays = "jp"
		if err := t.Store.SaveSettings(t.ctx, set); err != nil {
			return trustbot.Reply{}, err
		}
	}
	set.Prefs.TZ = p.TZ
	s.UserKey, s.Active, s.Stopped = t.req.UserKey, true, ""
	s = Plan(s, set.Prefs, t.Now(), t.Holidays)
	if err := t.Store.SaveSchedule(t.ctx, s); err != nil {
		return trustbot.Reply{}, err
	}
	note := t.tr("checkin.saved")
	if d, ok := offWorkday(s, set.Prefs.Workdays); ok {
		note += "\n" + t.tr("checkin.not_workday", "day", t.tr("day."+strconv.Itoa(int(d))),
			"command", t.commandText("workdays "+workdaysArg(set.Prefs.Workdays|1<<d)))
	}
	r, err := t.checkinStatus(note)
	r.RefreshHome = true
	return r, err
}

// offWorkday returns the day of the week a schedule asks for when it is
// not one of the user's workdays: its check-ins then move to the next
// workday.
func offWorkday(s trustbot.Schedule, w trustbot.Weekdays) (time.Weekday, bool) {
	if s.Cadence == trustbot.Monthly && s.MonthDay > 0 {
		return 0, false // a date falls on any day of the week
	}
	return s.Weekday, !w.Has(s.Weekday)
}

// workdaysArg writes a set of days as /trust workdays reads it:
// "mon,tue,wed,thu,fri,sun".
func workdaysArg(w trustbot.Weekdays) string {
	names := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	var out []string
	for i := range 7 {
		if d := time.Weekday((i + 1) % 7); w.Has(d) {
			out = append(out, names[d])
		}
	}
	return strings.Join(out, ",")
}

// checkinOff stops the user's check-ins and says what changed: stopped,
// already off, or there were none.
func (t *turn) checkinOff() (trustbot.Reply, error) {
	s, err := t.Store.Schedule(t.ctx, t.req.UserKey)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND || err == nil && s.Cadence == "" {
		return t.checkinStatus(t.tr("checkin.off_none"))
	}
	if err != nil {
		return trustbot.Reply{}, err
	}
	if !s.Active {
		return t.checkinStatus(t.tr("checkin.off_already"))
	}
	s.Active = false
	if err := t.Store.SaveSchedule(t.ctx, s); err != nil {
		return trustbot.Reply{}, err
	}
	r, err := t.checkinStatus(t.tr("checkin.off"))
	r.RefreshHome = true
	return r, err
}

// checkinNow queues a check-in for right away (sent by the dispatcher,
// which is nudged). Its key is the local minute, so a double press sends
// one.
func (t *turn) checkinNow() (trustbot.Reply, error) {
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	now := t.Now().In(Location(set.Prefs.TZ))
	d := trustbot.Delivery{
		UserKey: t.req.UserKey, Kind: KindCheckin, Occurrence: now.Format("2006-01-02~1504"),
		State: trustbot.Pending, DueAt: t.Now(),
	}
	inserted, err := t.Store.InsertDelivery(t.ctx, d)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if !inserted {
		// One check-in a minute: say so rather than promise another.
		return t.textReply(t.tr("checkin.already_now")), nil
	}
	if t.Kick != nil {
		t.Kick()
	}
	text := t.tr("checkin.sent_now")
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}, nil
}

// describe says a schedule in words: "毎週金曜日 16:00".
func (t *turn) describe(s trustbot.Schedule) string {
	clock := fmt.Sprintf("%02d:%02d", s.Minute/60, s.Minute%60)
	day := t.tr("day." + strconv.Itoa(int(s.Weekday)))
	switch {
	case s.Cadence == trustbot.Weekly:
		return t.tr("cadence.weekly", "day", day, "time", clock)
	case s.Cadence == trustbot.Biweekly:
		return t.tr("cadence.biweekly", "day", day, "time", clock)
	case s.MonthDay > 0:
		return t.tr("cadence.monthly_day", "date", strconv.Itoa(s.MonthDay), "time", clock)
	}
	nth := "last"
	if s.Week > 0 {
		nth = strconv.Itoa(s.Week)
	}
	return t.tr("cadence.monthly_week", "nth", t.tr("nth."+nth), "day", day, "time", clock)
}

// when formats an instant in the user's zone: "11月27日(金) 16:00", with
// the year when it is not the current one ("2027年1月8日(金) 16:00").
func (t *turn) when(at time.Time, tz string) string {
	loc := Location(tz)
	l := at.In(loc)
	key := "format.datetime"
	if l.Year() != t.Now().In(loc).Year() {
		key = "format.datetime_year"
	}
	return t.tr(key, "year", strconv.Itoa(l.Year()), "month", strconv.Itoa(int(l.Month())), "monthname", t.tr("month."+strconv.Itoa(int(l.Month()))),
		"day", strconv.Itoa(l.Day()), "weekday", t.tr("dayshort."+strconv.Itoa(int(l.Weekday()))), "time", l.Format("15:04"))
}

// checkinStatus shows the cadence, the next check-in and the rules, with
// buttons to change them; note is shown first when set.
func (t *turn) checkinStatus(note string) (trustbot.Reply, error) {
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	s, err := t.Store.Schedule(t.ctx, t.req.UserKey)
	if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return trustbot.Reply{}, err
	}
	var r trustbot.Reply
	if note != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: note})
	}
	if s.Active && t.zoneAssumed(t.ctx, t.req.UserKey) {
		// Times are in the installation's zone until the platform tells
		// the user's own: say so where the time is set and shown.
		note = strings.TrimSpace(note + "\n" + t.tr("checkin.zone_assumed", "zone", set.Prefs.TZ))
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: t.tr("checkin.zone_assumed", "zone", set.Prefs.TZ)})
	}
	status := t.scheduleStatus(s, set.Prefs.TZ)
	r.Text = strings.TrimSpace(note + "\n" + status)
	r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("checkin.title"), Text: status})
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.prefsLine(set.Prefs)})
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
		{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.weekly"), Value: "weekly"},
		{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.biweekly"), Value: "biweekly"},
		{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.monthly"), Value: "monthly"},
		{Kind: trustbot.Button, ID: ActNow, Label: t.tr("button.checkin_now"), Style: trustbot.Primary},
		{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.checkin_off"), Value: "off"},
	}})
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("checkin.usage")})
	return r, nil
}

// scheduleStatus says where the user's check-ins stand. A schedule that
// was never set is the zero value: neither active nor stopped.
func (t *turn) scheduleStatus(s trustbot.Schedule, tz string) string {
	switch {
	case s.Active:
		return t.tr("checkin.status", "cadence", t.describe(s), "next", t.when(s.NextDueAt, tz))
	case s.Stopped == stoppedUninstalled:
		return t.tr("checkin.stopped_uninstalled", "cadence", t.describe(s))
	case s.Stopped != "":
		return t.tr("checkin.stopped", "cadence", t.describe(s))
	case s.Cadence != "":
		return t.tr("checkin.off_status", "cadence", t.describe(s))
	}
	return t.tr("checkin.none")
}

// prefsLine says the user's rules in one line.
func (t *turn) prefsLine(p trustbot.Prefs) string {
	var days []string
	for d := range 7 {
		if p.Workdays.Has(time.Weekday((d + 1) % 7)) {
			days = append(days, t.tr("dayshort."+strconv.Itoa((d+1)%7)))
		}
	}
	parts := []string{t.tr("prefs.workdays", "days", strings.Join(days, t.tr("list.sep")))}
	if p.QuietStart >= 0 && p.QuietEnd >= 0 {
		parts = append(parts, t.tr("prefs.quiet", "start", clock(p.QuietStart), "end", clock(p.QuietEnd)))
	}
	parts = append(parts, t.holidaysLine(HolidayRegion(p, t.zone(p.TZ))))
	if !p.PausedUntil.IsZero() && p.PausedUntil.After(t.Now()) {
		parts = append(parts, t.tr("prefs.paused", "until", t.when(p.PausedUntil, p.TZ)))
	}
	key := "prefs.zone"
	if t.zoneAssumed(t.ctx, t.req.UserKey) {
		key = "prefs.zone_assumed"
	}
	parts = append(parts, t.tr(key, "zone", t.zone(p.TZ)))
	return strings.Join(parts, t.tr("status.sep"))
}

// holidaysLine says whether Japanese public holidays are skipped.
func (t *turn) holidaysLine(h string) string {
	state := t.tr("state.off")
	if h == "jp" {
		state = t.tr("state.on")
	}
	return t.tr("prefs.holidays_jp", "state", state)
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// prefsCommand answers "/trust workdays|quiet|holidays|pause|resume".
func (t *turn) prefsCommand(name string, args []string) (trustbot.Reply, error) {
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	p := &set.Prefs
	var note string
	switch name {
	case "workdays":
		if len(args) == 0 {
			return t.checkinStatus(t.tr("prefs.workdays_usage"))
		}
		w, err := ParseWorkdays(args)
		if err != nil {
			return t.checkinStatus(t.tr("prefs.workdays_usage"))
		}
		p.Workdays, note = w, t.tr("prefs.saved")
	case "quiet":
		switch {
		case len(args) == 0:
			return t.checkinStatus(t.tr("prefs.quiet_usage"))
		case Word(args[0]) == WordOff:
			p.QuietStart, p.QuietEnd, note = -1, -1, t.tr("prefs.saved")
		default:
			a, b, err := ParseQuiet(args)
			if err != nil {
				return t.checkinStatus(t.tr("prefs.quiet_usage"))
			}
			p.QuietStart, p.QuietEnd, note = a, b, t.tr("prefs.saved")
		}
	case "holidays":
		switch Word(strings.Join(args, "")) {
		case WordJP, WordOn:
			p.Holidays, note = "jp", t.tr("prefs.saved")
		case WordOff:
			p.Holidays, note = trustbot.HolidaysOff, t.tr("prefs.saved")
		default:
			return t.checkinStatus(t.tr("prefs.holidays_usage"))
		}
	case "pause":
		if len(args) == 0 {
			return t.pauseAsk(), nil
		}
		d, err := ParsePause(args)
		if err != nil {
			return t.checkinStatus(t.tr("prefs.pause_usage"))
		}
		p.PausedUntil = t.Now().Add(d).Truncate(time.Minute)
		note = t.tr("prefs.paused_now", "until", t.when(p.PausedUntil, p.TZ))
	case "resume":
		if p.PausedUntil.IsZero() || !p.PausedUntil.After(t.Now()) {
			return t.checkinStatus(t.tr("prefs.not_paused"))
		}
		p.PausedUntil, note = time.Time{}, t.tr("prefs.resumed")
	}
	if err := t.Store.SaveSettings(t.ctx, set); err != nil {
		return trustbot.Reply{}, err
	}
	if _, err := t.replan(t.ctx, t.req.UserKey, t.Now()); err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return trustbot.Reply{}, err
	}
	if err := t.replanJourneys(t.ctx, t.req.UserKey, set.Prefs); err != nil {
		return trustbot.Reply{}, err
	}
	r, err := t.checkinStatus(note)
	r.RefreshHome = true
	return r, err
}

// pauseLengths are the choices of pauseAsk.
var pauseLengths = []string{"3d", "1w", "2w", "1m"}

// pauseAsk answers "/trust pause" without a length: it asks how long,
// and changes nothing until the user chooses.
func (t *turn) pauseAsk() trustbot.Reply {
	text := t.tr("prefs.pause_ask")
	row := trustbot.Block{Kind: trustbot.Actions}
	for _, v := range pauseLengths {
		row.Controls = append(row.Controls, trustbot.Control{Kind: trustbot.Button, ID: ActPause, Label: t.tr("button.pause_" + v), Value: v})
	}
	r := t.textReply(text)
	r.Add(row, trustbot.Block{Kind: trustbot.Context, Text: t.tr("prefs.pause_usage")})
	return r
}

// checkinMessage is the check-in DM: each question with its choices as
// buttons (the chosen one highlighted), then note, snooze and skip.
func (t *turn) checkinMessage(d trustbot.Delivery, a trustbot.Answers) trustbot.Reply {
	ci := t.Library.Checkin
	title := ci.Title.In(t.lang)
	r := trustbot.Reply{Text: title + "\n" + ci.Intro.In(t.lang)}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: title},
		trustbot.Block{Kind: trustbot.Context, Text: ci.Intro.In(t.lang)},
	)
	answered := 0
	for _, q := range ci.Questions {
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: q.Text.In(t.lang)})
		var row []trustbot.Control
		for _, ch := range q.Choices {
			c := trustbot.Control{Kind: trustbot.Button, ID: ActAnswer, Label: ch.Label.In(t.lang), Value: d.ID + ":" + q.ID + ":" + ch.ID}
			if a.Choices[q.ID] == ch.ID {
				c.Style, c.Label = trustbot.Primary, "✓ "+c.Label
				answered++
			}
			row = append(row, c)
		}
		r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: row})
	}
	if answered == len(ci.Questions) {
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: ci.Thanks.In(t.lang)})
	} else if answered > 0 {
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("checkin.recorded_some", "count", strconv.Itoa(answered), "total", strconv.Itoa(len(ci.Questions)))})
	}
	if a.Note != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: ci.NoteLabel.In(t.lang), Text: trustbot.Typed(a.Note)})
	}
	if a.Action != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: ci.ActionLabel.In(t.lang), Text: trustbot.Typed(a.Action)})
	}
	controls := []trustbot.Control{{Kind: trustbot.Button, ID: ActNote, Label: t.tr("button.note"), Value: d.ID}}
	if answered < len(ci.Questions) {
		controls = append(controls,
			trustbot.Control{Kind: trustbot.Button, ID: ActSnooze, Label: t.tr("button.snooze_hours"), Value: d.ID + ":3h"},
			trustbot.Control{Kind: trustbot.Button, ID: ActSnooze, Label: t.tr("button.snooze_tomorrow"), Value: d.ID + ":1d"},
			trustbot.Control{Kind: trustbot.Button, ID: ActSkip, Label: t.tr("button.skip"), Value: d.ID},
		)
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: controls})
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("checkin.private")})
	return r
}

// ownDelivery reads a delivery ID from a control's value and loads it,
// only if it is the user's own check-in.
func (t *turn) ownDelivery(id string) (trustbot.Delivery, error) {
	d, err := t.Store.Delivery(t.ctx, t.req.UserKey, id)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND || err == nil && d.Kind != KindCheckin {
		return d, trustbot.Errorf(trustbot.EINVALID, "not the user's check-in")
	}
	return d, err
}

// open reports whether answers to d still count: until a newer check-in
// has been sent.
func (t *turn) open(d trustbot.Delivery) error {
	rs, err := t.Store.Reflections(t.ctx, t.req.UserKey, KindCheckin, 1)
	if err != nil {
		return err
	}
	if len(rs) > 0 && rs[0].Delivery.ID != d.ID && rs[0].Delivery.Occurrence > d.Occurrence {
		return errClosed
	}
	return nil
}

func (t *turn) answer(value string) (trustbot.Reply, error) {
	parts := strings.Split(value, ":")
	if len(parts) != 3 {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "malformed answer value")
	}
	if !t.validChoice(parts[1], parts[2]) {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown question or choice")
	}
	d, err := t.ownDelivery(parts[0])
	if err != nil {
		return trustbot.Reply{}, err
	}
	if err := t.open(d); errors.Is(err, errClosed) {
		text := t.tr("checkin.closed")
		return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}, nil
	} else if err != nil {
		return trustbot.Reply{}, err
	}
	a, err := t.Store.SaveAnswers(t.ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: t.req.UserKey,
		Choices: map[string]string{parts[1]: parts[2]}, AnsweredAt: t.Now()})
	if err != nil {
		return trustbot.Reply{}, err
	}
	r := t.checkinMessage(d, a)
	r.RefreshHome = true
	return r, nil
}

func (t *turn) validChoice(question, choice string) bool {
	for _, q := range t.Library.Checkin.Questions {
		if q.ID == question {
			return slices.ContainsFunc(q.Choices, func(c playbook.Choice) bool { return c.ID == choice })
		}
	}
	return false
}

func (t *turn) snooze(value string) (trustbot.Reply, error) {
	id, span, _ := strings.Cut(value, ":")
	var until time.Time
	switch span {
	case "3h":
		until = t.Now().Add(3 * time.Hour)
	case "1d":
		set, err := t.settings(t.ctx, t.req.UserKey)
		if err != nil {
			return trustbot.Reply{}, err
		}
		loc := Location(set.Prefs.TZ)
		now := t.Now().In(loc)
		until = Allowed(Resolve(trustbot.DateOf(now).AddDays(1), now.Hour()*60+now.Minute(), loc), now.Hour()*60+now.Minute(), set.Prefs, loc, t.Holidays)
	default:
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown snooze")
	}
	d, err := t.ownDelivery(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if err := t.Store.Snooze(t.ctx, t.req.UserKey, d.ID, until); err != nil {
		return trustbot.Reply{}, err
	}
	set, _ := t.settings(t.ctx, t.req.UserKey)
	text := t.tr("checkin.snoozed", "time", t.when(until, set.Prefs.TZ))
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}, RefreshHome: true}, nil
}

func (t *turn) skip(id string) (trustbot.Reply, error) {
	d, err := t.ownDelivery(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if err := t.Store.Skip(t.ctx, t.req.UserKey, d.ID); err != nil {
		return trustbot.Reply{}, err
	}
	text := t.tr("checkin.skipped")
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}, RefreshHome: true}, nil
}

// Sparkline marks, one per period: a full bar for yes, half for partly, a
// floor for no, a dot when unanswered.
var marks = map[string]string{"yes": "▇", "partly": "▄", "no": "▁"}

// history shows the last periods per question, the streak and the notes.
func (t *turn) history() (trustbot.Reply, error) {
	rs, err := t.Store.Reflections(t.ctx, t.req.UserKey, KindCheckin, historyLength)
	if err != nil {
		return trustbot.Reply{}, err
	}
	title := t.tr("history.title")
	r := trustbot.Reply{Text: title}
	r.Add(trustbot.Block{Kind: trustbot.Header, Text: title})
	if js, err := t.Store.Journeys(t.ctx, t.req.UserKey, true); err != nil {
		return trustbot.Reply{}, err
	} else if len(js) > 0 {
		set, _ := t.settings(t.ctx, t.req.UserKey)
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("journey.list_title")})
		r.Add(t.journeyBlocks(js, set.Prefs.TZ)...)
		r.Add(trustbot.Block{Kind: trustbot.Divider})
	}
	tried, err := t.triedBlocks()
	if err != nil {
		return trustbot.Reply{}, err
	}
	if len(tried) > 0 {
		r.Add(tried...)
		r.Add(trustbot.Block{Kind: trustbot.Divider})
	}
	if len(rs) == 0 {
		r.Add(
			trustbot.Block{Kind: trustbot.Section, Text: t.tr("history.empty")},
			trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
				{Kind: trustbot.Button, ID: ActNow, Label: t.tr("button.checkin_now"), Style: trustbot.Primary},
				{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.weekly"), Value: "weekly"},
			}},
		)
		return r, nil
	}
	r.Add(t.trendBlocks(rs)...)
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("checkin.private")})
	return r, nil
}

// trendBlocks shows reflections (newest first, as stored) as one
// sparkline per question, the streak and the latest notes.
func (t *turn) trendBlocks(rs []trustbot.Reflection) []trustbot.Block {
	rs = slices.Clone(rs)
	slices.Reverse(rs) // oldest first, left to right
	set, _ := t.Store.Settings(t.ctx, t.req.UserKey)
	date := func(r trustbot.Reflection) string { return t.shortDate(r.Delivery.Occurrence, set.Prefs.TZ) }
	var out []trustbot.Block
	var lines []string
	for _, q := range t.Library.Checkin.Questions {
		var b strings.Builder
		for _, ref := range rs {
			m, ok := marks[ref.Answers.Choices[q.ID]]
			if !ok {
				m = "·"
			}
			b.WriteString(m)
		}
		lines = append(lines, "`"+b.String()+"`  "+firstLine(q.Text.In(t.lang)))
	}
	legend := t.tr("history.legend", "from", date(rs[0]), "to", date(rs[len(rs)-1]))
	if from := date(rs[0]); from == date(rs[len(rs)-1]) {
		legend = t.tr("history.legend_one", "date", from)
	}
	out = append(out,
		trustbot.Block{Kind: trustbot.Section, Text: strings.Join(lines, "\n")},
		trustbot.Block{Kind: trustbot.Context, Text: legend},
		trustbot.Block{Kind: trustbot.Section, Text: t.tr("history.streak", "count", strconv.Itoa(streak(rs)))},
	)
	var notes []string
	for i := len(rs) - 1; i >= 0 && len(notes) < 5; i-- {
		a := rs[i].Answers
		for _, s := range []string{a.Note, a.Action} {
			if s != "" {
				notes = append(notes, date(rs[i])+"  "+trustbot.Typed(s))
			}
		}
	}
	if len(notes) > 0 {
		out = append(out, trustbot.Block{Kind: trustbot.Section, Title: t.tr("history.notes_title"), Text: strings.Join(notes, "\n")})
	}
	return out
}

// streak counts the answered periods in a row up to the newest (rs
// oldest first).
func streak(rs []trustbot.Reflection) int {
	n := 0
	for i := len(rs) - 1; i >= 0 && len(rs[i].Answers.Choices) > 0; i-- {
		n++
	}
	return n
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// shortDate turns an occurrence key ("2026-11-27" or "2026-11-27~1032")
// into "11/27", or "2025/11/27" when it is not in the current year in the
// user's zone.
func (t *turn) shortDate(occurrence, tz string) string {
	d, err := trustbot.ParseDate(occurrence[:min(10, len(occurrence))])
	if err != nil {
		return occurrence
	}
	if d.Year != t.Now().In(Location(tz)).Year() {
		return fmt.Sprintf("%d/%d/%d", d.Year, d.Month, d.Day)
	}
	return fmt.Sprintf("%d/%d", d.Month, d.Day)
}

// noteForm opens the form for a note and one small action.
func (t *turn) noteForm(id string) (trustbot.Reply, error) {
	d, err := t.ownDelivery(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	rs, err := t.Store.Reflections(t.ctx, t.req.UserKey, KindCheckin, historyLength)
	if err != nil {
		return trustbot.Reply{}, err
	}
	var cur trustbot.Answers
	for _, r := range rs {
		if r.Delivery.ID == d.ID {
			cur = r.Answers
		}
	}
	ci := t.Library.Checkin
	return trustbot.Reply{Text: ci.NoteLabel.In(t.lang), Modal: &trustbot.Modal{
		ID: FormNote, Metadata: d.ID,
		Title: t.tr("note.title"), Submit: t.tr("note.submit"), Close: t.tr("note.close"),
		Intro: t.tr("note.intro"),
		Inputs: []trustbot.Input{
			{ID: "note", Label: ci.NoteLabel.In(t.lang), Placeholder: ci.NotePlaceholder.In(t.lang), Initial: cur.Note, Multiline: true, Optional: true, MaxLength: MaxNote},
			{ID: "action", Label: ci.ActionLabel.In(t.lang), Placeholder: ci.ActionPlaceholder.In(t.lang), Initial: cur.Action, Optional: true, MaxLength: MaxAction},
		},
	}}, nil
}

// submitNote saves the note form and updates the check-in message.
func (t *turn) submitNote(id string, inputs map[string]string) (trustbot.Reply, error) {
	d, err := t.ownDelivery(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	form, err := t.noteForm(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if problems := t.checkForm(form.Modal, inputs); len(problems) > 0 {
		return t.formAgain(form, inputs, problems), nil
	}
	note, _ := Clean(strings.TrimSpace(inputs["note"]), MaxNote)
	action, _ := Clean(strings.TrimSpace(inputs["action"]), MaxAction)
	a, err := t.Store.SaveAnswers(t.ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: t.req.UserKey, Note: note, Action: action, AnsweredAt: t.Now()})
	if err != nil {
		return trustbot.Reply{}, err
	}
	r := t.checkinMessage(d, a)
	r.RefreshHome = true
	if d.Channel != "" && d.TS != "" {
		r.Update = &trustbot.Posted{Channel: d.Channel, TS: d.TS}
	}
	return r, nil
}

// submit routes a submitted form.
func (t *turn) submit(form, metadata string, inputs map[string]string) (trustbot.Reply, error) {
	switch form {
	case FormNote:
		return t.submitNote(metadata, inputs)
	case FormPlan:
		return t.submitPlan(inputs)
	}
	return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown form")
}

// home is the user's overview: their check-in cadence and next time, the
// recent trend, and buttons to change things or reflect now.
func (t *turn) home() (trustbot.Reply, error) {
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	s, err := t.Store.Schedule(t.ctx, t.req.UserKey)
	if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return trustbot.Reply{}, err
	}
	rs, err := t.Store.Reflections(t.ctx, t.req.UserKey, KindCheckin, historyLength)
	if err != nil {
		return trustbot.Reply{}, err
	}
	status := t.scheduleStatus(s, set.Prefs.TZ)
	r := trustbot.Reply{Text: t.tr("home.title")}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: t.tr("home.title")},
		trustbot.Block{Kind: trustbot.Section, Text: t.tr("home.intro")},
		trustbot.Block{Kind: trustbot.Divider},
		trustbot.Block{Kind: trustbot.Section, Title: t.tr("checkin.title"), Text: status},
		trustbot.Block{Kind: trustbot.Context, Text: t.prefsLine(set.Prefs)},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActNow, Label: t.tr("button.checkin_now"), Style: trustbot.Primary},
			{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.weekly"), Value: "weekly"},
			{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.biweekly"), Value: "biweekly"},
			{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.monthly"), Value: "monthly"},
			{Kind: trustbot.Button, ID: ActCadence, Label: t.tr("button.checkin_off"), Value: "off"},
		}},
	)
	paused := !set.Prefs.PausedUntil.IsZero() && set.Prefs.PausedUntil.After(t.Now())
	pause := trustbot.Control{Kind: trustbot.Button, ID: ActPause, Label: t.tr("button.pause_week"), Value: "1w"}
	if paused {
		pause = trustbot.Control{Kind: trustbot.Button, ID: ActPause, Label: t.tr("button.resume"), Value: "resume"}
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{pause}})
	if len(rs) > 0 {
		r.Add(trustbot.Block{Kind: trustbot.Divider}, trustbot.Block{Kind: trustbot.Section, Title: t.tr("history.title")})
		r.Add(t.trendBlocks(rs)...)
	}
	js, err := t.Store.Journeys(t.ctx, t.req.UserKey, true)
	if err != nil {
		return trustbot.Reply{}, err
	}
	r.Add(trustbot.Block{Kind: trustbot.Divider}, trustbot.Block{Kind: trustbot.Section, Title: t.tr("journey.list_title")})
	r.Add(t.journeyBlocks(js, set.Prefs.TZ)...)
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
		{Kind: trustbot.Button, ID: ActPlanStart, Label: t.tr("button.start_plan")},
	}})
	r.Add(
		trustbot.Block{Kind: trustbot.Divider},
		trustbot.Block{Kind: trustbot.Section, Text: t.tr("help.commands")},
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("checkin.private")},
	)
	return r, nil
}
