package coach

import (
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// ExportSchema names the format of a data export and ExportVersion its
// version, raised whenever a field changes meaning or goes away.
// docs/export.md describes every field.
const (
	ExportSchema  = "trustbot-export"
	ExportVersion = 1
)

// Export is everything trustbot stores about one user, in the documented
// format: snake_case names, weekdays by name, times of day as "HH:MM",
// instants as RFC 3339 in UTC, dates as "YYYY-MM-DD", and null for "none".
type Export struct {
	Schema        string                `json:"schema"`
	SchemaVersion int                   `json:"schema_version"`
	ExportedAt    string                `json:"exported_at"`
	Workspace     string                `json:"workspace"`
	User          string                `json:"user"`
	Settings      ExportSettings        `json:"settings"`
	Profile       *ExportProfile        `json:"profile"`
	Checkins      *ExportSchedule       `json:"checkin_schedule"`
	Deliveries    []ExportDelivery      `json:"deliveries"`
	Reflections   []ExportReflection    `json:"reflections"`
	Journeys      []ExportJourney       `json:"journeys"`
	TipsShown     []string              `json:"tips_shown"`
	Channels      []ExportSubscriptions `json:"channels_subscribed"`
}

// ExportSettings are the user's preferences.
type ExportSettings struct {
	Language       string       `json:"language"` // "auto", "ja" or "en"
	Workdays       []string     `json:"workdays"` // "monday" … "sunday"
	QuietHours     *ExportRange `json:"quiet_hours"`
	SkipJPHolidays bool         `json:"skip_japanese_holidays"`
	PausedUntil    *string      `json:"paused_until"`
	TryFollowups   bool         `json:"tip_of_the_week_followups"`
}

// ExportRange is a span of local time, "22:00" to "08:00".
type ExportRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// ExportProfile is what the chat platform last said about the user.
type ExportProfile struct {
	TimeZone  *string `json:"time_zone"`
	Locale    *string `json:"locale"`
	FetchedAt *string `json:"fetched_at"`
}

// ExportSchedule is the reflection check-in cadence.
type ExportSchedule struct {
	Cadence       string  `json:"cadence"`      // weekly, biweekly, monthly
	Weekday       *string `json:"weekday"`      // null for monthly on a date
	DayOfMonth    *int    `json:"day_of_month"` // monthly on a date
	WeekOfMonth   *string `json:"week_of_month"`
	Time          string  `json:"time"`
	Active        bool    `json:"active"`
	StoppedReason *string `json:"stopped_reason"`
	NextDate      *string `json:"next_date"`
	NextAt        *string `json:"next_at"`
}

// ExportDelivery is one message trustbot planned to send the user.
type ExportDelivery struct {
	ID       string  `json:"id"`
	Kind     string  `json:"kind"`
	Key      string  `json:"key"`
	State    string  `json:"state"`
	DueAt    *string `json:"due_at"`
	Attempts int     `json:"attempts"`
	Channel  *string `json:"posted_channel"`
	TS       *string `json:"posted_ts"`
	Error    *string `json:"error"`
}

// ExportReflection is what the user answered to one check-in.
type ExportReflection struct {
	DeliveryID string            `json:"delivery_id"`
	Key        string            `json:"key"`
	Answers    map[string]string `json:"answers"` // question → choice
	Note       *string           `json:"note"`
	Action     *string           `json:"small_action"`
	AnsweredAt *string           `json:"answered_at"`
}

// ExportJourney is a cooling-off period, a trust plan or a repair.
type ExportJourney struct {
	ID            string            `json:"id"`
	Kind          string            `json:"kind"`
	Label         *string           `json:"label"`
	State         string            `json:"state"`
	StartDate     *string           `json:"start_date"`
	NextStep      int               `json:"next_step"`
	NextAt        *string           `json:"next_at"`
	StartedAt     *string           `json:"started_at"`
	Time          *string           `json:"time"`
	Signs         []string          `json:"signs"`
	Stage         *string           `json:"stage"`
	Goal          *string           `json:"goal"`
	HorizonMonths *int              `json:"horizon_months"`
	Answers       map[string]string `json:"answers"`
	DeclinedAgain bool              `json:"declined_again"`
}

// ExportSubscriptions is a channel's tip of the week the user set up.
type ExportSubscriptions struct {
	Channel        string   `json:"channel"`
	Weekday        string   `json:"weekday"`
	Time           string   `json:"time"`
	Language       string   `json:"language"`
	Topics         []string `json:"topics"` // empty: every topic for everyone
	TimeZone       *string  `json:"time_zone"`
	SkipJPHolidays bool     `json:"skip_japanese_holidays"`
	Active         bool     `json:"active"`
	StoppedReason  *string  `json:"stopped_reason"`
	NextAt         *string  `json:"next_at"`
}

var weekdayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func ptr[T any](v T) *T { return &v }

// str is nil for "", else s.
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// instant is nil for the zero time, else t in RFC 3339, UTC.
func instant(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return ptr(t.UTC().Format(time.RFC3339))
}

func date(d trustbot.Date) *string {
	if d.IsZero() {
		return nil
	}
	return ptr(d.String())
}

// ExportOf turns what the store holds about a user into the export format.
func ExportOf(u trustbot.UserData) Export {
	e := Export{
		Schema: ExportSchema, SchemaVersion: ExportVersion, ExportedAt: u.ExportedAt.UTC().Format(time.RFC3339),
		Workspace: u.Team, User: u.User,
		Deliveries: []ExportDelivery{}, Reflections: []ExportReflection{}, Journeys: []ExportJourney{},
		TipsShown: append([]string{}, u.TipsShown...), Channels: []ExportSubscriptions{},
	}
	p := u.Settings.Prefs
	e.Settings = ExportSettings{Language: u.Settings.Lang, Workdays: []string{}, SkipJPHolidays: p.Holidays == "jp",
		PausedUntil: instant(p.PausedUntil), TryFollowups: !u.Settings.NoTryitFollowups}
	if e.Settings.Language == "" {
		e.Settings.Language = trustbot.LangAuto
	}
	for d := range 7 {
		if wd := time.Weekday((d + 1) % 7); p.Workdays.Has(wd) {
			e.Settings.Workdays = append(e.Settings.Workdays, weekdayNames[wd])
		}
	}
	if p.QuietStart >= 0 && p.QuietEnd >= 0 {
		e.Settings.QuietHours = &ExportRange{Start: clock(p.QuietStart), End: clock(p.QuietEnd)}
	}
	if u.Profile != nil {
		e.Profile = &ExportProfile{TimeZone: str(u.Profile.TZ), Locale: str(u.Profile.Locale), FetchedAt: instant(u.Profile.FetchedAt)}
	}
	if s := u.Schedule; s != nil {
		x := &ExportSchedule{Cadence: string(s.Cadence), Time: clock(s.Minute), Active: s.Active,
			StoppedReason: str(s.Stopped), NextDate: date(s.Occurrence), NextAt: instant(s.NextDueAt)}
		if s.Cadence != trustbot.Monthly || s.MonthDay == 0 {
			x.Weekday = ptr(weekdayNames[s.Weekday])
		}
		if s.Cadence == trustbot.Monthly {
			switch {
			case s.MonthDay > 0:
				x.DayOfMonth = ptr(s.MonthDay)
			case s.Week == -1:
				x.WeekOfMonth = ptr("last")
			case s.Week >= 1 && s.Week <= 4:
				x.WeekOfMonth = ptr([]string{"first", "second", "third", "fourth"}[s.Week-1])
			}
		}
		e.Checkins = x
	}
	for _, d := range u.Deliveries {
		e.Deliveries = append(e.Deliveries, ExportDelivery{ID: d.ID, Kind: d.Kind, Key: d.Occurrence, State: d.State,
			DueAt: instant(d.DueAt), Attempts: d.Attempts, Channel: str(d.Channel), TS: str(d.TS), Error: str(d.Error)})
	}
	for _, a := range u.Reflections {
		e.Reflections = append(e.Reflections, ExportReflection{DeliveryID: a.DeliveryID, Key: a.Occurrence,
			Answers: orEmpty(a.Choices), Note: str(a.Note), Action: str(a.Action), AnsweredAt: instant(a.AnsweredAt)})
	}
	for _, j := range u.Journeys {
		x := ExportJourney{ID: j.ID, Kind: j.Kind, Label: str(j.Label), State: j.State, StartDate: date(j.Start),
			NextStep: j.Step, NextAt: instant(j.NextDueAt), StartedAt: instant(j.StartedAt),
			Signs: append([]string{}, j.Data.Signs...), Stage: str(j.Data.Stage), Goal: str(j.Data.Goal),
			Answers: orEmpty(j.Data.Answers), DeclinedAgain: j.Data.Declined}
		if j.Data.Minute > 0 {
			x.Time = ptr(clock(j.Data.Minute))
		}
		if j.Data.Horizon > 0 {
			x.HorizonMonths = ptr(j.Data.Horizon)
		}
		e.Journeys = append(e.Journeys, x)
	}
	for _, s := range u.Subscribed {
		e.Channels = append(e.Channels, ExportSubscriptions{Channel: s.Channel, Weekday: weekdayNames[s.Weekday],
			Time: clock(s.Minute), Language: s.Lang, Topics: append([]string{}, s.Topics...), TimeZone: str(s.TZ),
			SkipJPHolidays: s.Holidays == "jp", Active: s.Active, StoppedReason: str(s.Stopped), NextAt: instant(s.NextDueAt)})
	}
	return e
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// MarshalExport writes an export as indented JSON, ending in a newline.
func MarshalExport(e Export) ([]byte, error) {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// exportName is the file name of a user's export, unique to the second:
// "trustbot-export-U1-20261130-060512.json".
func exportName(user string, at time.Time) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, user)
	return "trustbot-export-" + safe + "-" + at.UTC().Format("20060102-150405") + ".json"
}
