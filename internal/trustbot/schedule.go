package trustbot

import (
	"context"
	"fmt"
	"time"
)

// Cadence is how often a user wants to reflect.
type Cadence string

const (
	Weekly   Cadence = "weekly"
	Biweekly Cadence = "biweekly"
	Monthly  Cadence = "monthly"
)

// Date is a calendar date without a time zone, "2026-03-08".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.noon().AddDate(0, 0, n)) }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.noon().Weekday() }

// DaysSince returns the number of days from e to d.
func (d Date) DaysSince(e Date) int { return int(d.noon().Sub(e.noon()).Hours()) / 24 }

func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// Weekdays is a set of days of the week, bit i for time.Weekday(i).
type Weekdays uint8

// MondayToFriday is the default set of workdays.
const MondayToFriday Weekdays = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool { return w&(1<<d) != 0 }

// Prefs are a user's rules for when trustbot may write to them. They apply
// to every direct message: check-ins and journeys.
type Prefs struct {
	TZ          string    // IANA zone; "" means UTC until the platform tells
	Workdays    Weekdays  // days a message may arrive; never empty
	QuietStart  int       // minutes after midnight; -1 when there are no quiet hours
	QuietEnd    int       // minutes after midnight; may be before QuietStart (overnight)
	Holidays    string    // "jp" to skip Japanese public holidays; HolidaysOff when the user turned them off; "" when never chosen (not skipped)
	PausedUntil time.Time // zero when not paused
}

// HolidaysOff is Prefs.Holidays of a user who chose not to skip public
// holidays: unlike "", a default for their zone never overrides it.
const HolidaysOff = "off"

// DefaultPrefs are the rules before a user changes any.
func DefaultPrefs() Prefs { return Prefs{Workdays: MondayToFriday, QuietStart: -1, QuietEnd: -1} }

// Schedule is a user's reflection check-in cadence. The database row is
// the source of truth for time: NextDueAt is a UTC instant computed from the
// user's local rules, and Occurrence is the local date it stands for.
type Schedule struct {
	UserKey
	Cadence  Cadence
	Weekday  time.Weekday // weekly and biweekly; monthly with Week
	MonthDay int          // monthly on a day of the month, 1-31 (clamped to short months); 0 otherwise
	Week     int          // monthly on a weekday: 1-4 for the nth, -1 for the last; 0 otherwise
	Minute   int          // local time of day, minutes after midnight
	Anchor   Date         // biweekly: a date of the cycle, for the parity of weeks
	Active   bool
	Stopped  string // why sending stopped without the user asking (e.g. "account_inactive"); "" otherwise

	Occurrence Date      // the local date of the next check-in, as scheduled
	NextDueAt  time.Time // when it is sent: Occurrence at Minute, moved past non-workdays, holidays, quiet hours and pauses
}

// Delivery states.
const (
	Pending = "pending" // claimed, waiting to be sent (or snoozed until DueAt)
	Sending = "sending" // handed to the platform; outcome not yet recorded
	Sent    = "sent"
	Failed  = "failed"  // the platform refused for good (user gone, invalid message)
	Skipped = "skipped" // the user skipped it
)

// Delivery is one check-in (or journey message) for one occurrence. Its
// key (team, user, kind, occurrence) is unique: a second claim of the same
// occurrence cannot create a second delivery.
type Delivery struct {
	ID string
	UserKey
	Kind       string // "checkin"
	Occurrence string // local date, or another key unique per kind
	State      string
	Attempt    string // who last took it to send: every later change of its state names it
	Attempts   int
	DueAt      time.Time
	Channel    string // where it was posted, once Sent
	TS         string // the platform's message ID, once Sent
	Error      string
	Missed     int // occurrences that passed unsent before this one (downtime), for the log

	SendingAt time.Time // when the last attempt to send began, by the sender's clock
}

// Answers are a user's reflection for one check-in.
type Answers struct {
	DeliveryID string
	UserKey
	Occurrence string
	Choices    map[string]string // question ID → choice ID
	Note       string
	Action     string
	AnsweredAt time.Time
}

// Posted says where a message went.
type Posted struct {
	Channel string
	TS      string
}

// Messenger sends direct messages on the chat platform.
type Messenger interface {
	// PostDM sends r to the user's direct-message channel, tagged with the
	// delivery ID. An *Error with code EUNREACHABLE means the user cannot
	// receive messages (left, deactivated, blocked the app); EUNCERTAIN
	// means the platform may or may not have accepted the message (a timeout
	// or a server error): it must be looked for with FindDMs, never blindly
	// resent.
	PostDM(ctx context.Context, to UserKey, r Reply, deliveryID string) (Posted, error)
	// FindDMs looks, in one read of the conversation where it can, for
	// the messages tagged with the delivery IDs sent to the user (or
	// posted in the channel, for a channel's deliveries) since t, and
	// returns those found. complete is false when the read was cut short
	// (the platform's budget for it is spent for now): an ID not found
	// may then still be there, and must be looked for again later.
	FindDMs(ctx context.Context, to UserKey, deliveryIDs []string, since time.Time) (found map[string]Posted, complete bool, err error)
}

// Delivery error codes.
const (
	EUNREACHABLE = "unreachable"
	EUNCERTAIN   = "uncertain"
	// ECANCELED means the message was never handed to the platform (the
	// process is stopping, or no connection could be made): it can be sent
	// later as if never tried.
	ECANCELED = "canceled"
	// ENOTINSTALLED means the app is not installed where the message goes
	// (the workspace removed it): nothing was asked of the platform, and
	// nothing can be sent there until it is installed again.
	ENOTINSTALLED = "not_installed"
)

// Journey states.
const (
	Active   = "active"
	Finished = "finished"
	Stopped  = "stopped"
)

// Journey is a series of follow-ups over weeks: the cooling-off period
// after being declined, a trust plan, or repairing trust.
type Journey struct {
	ID string
	UserKey
	Kind      string // "cooling", "plan", "repair"
	Label     string // private, optional: whom it is about, in the user's words
	State     string
	Start     Date      // local date of day 0
	Step      int       // the next item of the journey's timeline
	NextDueAt time.Time // when that item is sent; zero when nothing is due
	Data      JourneyData
	StartedAt time.Time
}

// JourneyData is what a journey records along the way.
type JourneyData struct {
	Signs    []string          `json:"signs,omitempty"`    // cooling: signs the user noticed
	Stage    string            `json:"stage,omitempty"`    // plan: the stage at the start
	Goal     string            `json:"goal,omitempty"`     // plan: the goal in the user's words
	Horizon  int               `json:"horizon,omitempty"`  // plan: months
	Answers  map[string]string `json:"answers,omitempty"`  // item key → answer (promises kept, stage at a review)
	Minute   int               `json:"minute,omitempty"`   // local time of day the follow-ups arrive
	Declined bool              `json:"declined,omitempty"` // cooling: declined again
}

// JourneyStore keeps journeys. Every method is scoped to the user.
type JourneyStore interface {
	// SaveJourney creates or replaces one of the user's journeys.
	SaveJourney(ctx context.Context, j Journey) error
	// Journey returns one of the user's journeys. ENOTFOUND when the ID is
	// not the user's.
	Journey(ctx context.Context, k UserKey, id string) (Journey, error)
	// Journeys returns the user's journeys, newest first; active only when
	// activeOnly.
	Journeys(ctx context.Context, k UserKey, activeOnly bool) ([]Journey, error)
	// ClaimDueJourneys claims up to limit journeys with a follow-up due at
	// now, in one transaction: for each, it inserts a pending delivery
	// keyed by the item (advance returns its key and the journey moved on).
	ClaimDueJourneys(ctx context.Context, now time.Time, limit int, advance func(Journey, Prefs) (Journey, string)) ([]Delivery, error)
	// SkipPending marks the user's pending deliveries of a kind whose key
	// starts with prefix skipped (a stopped journey sends nothing more).
	SkipPending(ctx context.Context, k UserKey, kind, prefix string) error
	// MoveJourney moves an active journey's next follow-up from from to
	// to, only if it is still at step with that follow-up due at from (a
	// pass may have claimed it meanwhile). It reports whether it moved.
	MoveJourney(ctx context.Context, k UserKey, id string, step int, from, to time.Time) (bool, error)
}

// Subscription is a channel's tip of the week. Its deliveries are keyed by
// the channel: their UserKey.User is the channel ID.
type Subscription struct {
	Team       string
	Channel    string
	Weekday    time.Weekday
	Minute     int
	Lang       string
	Topics     []string // empty: every topic for everyone
	TZ         string   // the subscriber's zone
	Holidays   string   // "jp": a Japanese public holiday moves the post to the next workday
	Active     bool
	Stopped    string // why posting stopped without anyone asking (the bot was removed)
	Subscriber string // who subscribed
	Occurrence Date
	NextDueAt  time.Time
}

// WeeklyStore keeps channel subscriptions.
type WeeklyStore interface {
	// Subscription returns a channel's subscription. ENOTFOUND when none.
	Subscription(ctx context.Context, team, channel string) (Subscription, error)
	// SaveSubscription creates or replaces a subscription and records who
	// made which change.
	SaveSubscription(ctx context.Context, s Subscription, by, change string) error
	// ClaimDueSubscriptions claims due subscriptions like ClaimDue.
	ClaimDueSubscriptions(ctx context.Context, now time.Time, limit int, advance func(Subscription) (Subscription, int)) ([]Delivery, error)
	// ChannelTips counts how often each tip was posted in the channel.
	ChannelTips(ctx context.Context, team, channel string) (map[string]int, error)
	// RecordChannelTip notes that a tip was posted in the channel.
	RecordChannelTip(ctx context.Context, team, channel, tipID string, at time.Time) error
}
