// Package trustbot holds the domain of the trust-building coach: the nouns
// every other package speaks in (users, languages, requests, replies) and the
// interfaces that adapters and stores implement. It imports only the
// standard library.
package trustbot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lang is a language the coach speaks, as a lower-case ISO 639-1 code.
type Lang string

const (
	Japanese Lang = "ja"
	English  Lang = "en"
)

// Langs lists every language the content must be written in, in menu order.
var Langs = []Lang{Japanese, English}

// ParseLang returns the Lang for a code such as "ja", "EN" or a locale such
// as "ja-JP" or "en_US". It reports false for anything else.
func ParseLang(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i > 0 {
		s = s[:i]
	}
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// LangAuto is the stored language preference meaning "follow the user's
// platform locale".
const LangAuto = "auto"

// UserKey identifies one person in one workspace. Every query about a
// person's data is scoped by both parts.
type UserKey struct {
	// Team is the workspace: a Slack team ID as Slack gives it, or a
	// Microsoft 365 tenant as TeamsWorkspace makes it. It names the
	// platform too (UserKey.Platform).
	Team string
	User string // user ID inside the workspace
}

func (k UserKey) String() string { return k.Team + "/" + k.User }

// Valid reports whether both parts are set and plausible IDs of the
// workspace's platform.
func (k UserKey) Valid() bool {
	if k.Platform() == Teams {
		tenant, _ := Tenant(k.Team)
		return validID(tenant, 64, "-") && validID(k.User, maxTeamsID, teamsIDPunct)
	}
	return validID(k.Team, 64, slackIDPunct) && validID(k.User, 64, slackIDPunct)
}

// IDs are short ASCII: Slack's letters and digits (the console's and the
// tests' too, with a few marks), Teams' longer, with ':' and '@'
// ("29:1a…", "19:…@thread.tacv2").
const (
	slackIDPunct = "-_."
	teamsIDPunct = "-_.:@="
	maxTeamsID   = 256
)

func validID(s string, max int, punct string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(punct, r)) {
			return false
		}
	}
	return true
}

// Settings are one user's preferences.
type Settings struct {
	UserKey
	Lang  string // "auto", "ja" or "en"
	Prefs Prefs  // when messages may arrive; Prefs.TZ comes from the profile
	// NoTryitFollowups turns off the DM that asks how a tip of the week
	// went after the user pressed "try this".
	NoTryitFollowups bool
}

// Profile is what the chat platform tells about a user: the IANA time zone
// and the locale. It is cached by the store and refreshed now and then.
type Profile struct {
	UserKey
	TZ        string    // IANA name, e.g. "Asia/Tokyo"; empty when unknown
	Locale    string    // e.g. "ja-JP"; empty when unknown
	FetchedAt time.Time // when the platform was last asked
}

// Store keeps the coach's state. Every method is scoped to one user.
//
// Methods return an *Error with code ENOTFOUND only where documented;
// anything else is an internal failure.
type Store interface {
	// Settings returns the user's settings, or defaults (Lang "auto") when
	// the user has none yet.
	Settings(ctx context.Context, k UserKey) (Settings, error)
	// SaveSettings creates or replaces the user's settings.
	SaveSettings(ctx context.Context, s Settings) error

	// Profile returns the cached platform profile. ENOTFOUND when none.
	Profile(ctx context.Context, k UserKey) (Profile, error)
	// SaveProfile caches a platform profile.
	SaveProfile(ctx context.Context, p Profile) error

	// RecordTipShown notes that a tip was shown to the user at t.
	RecordTipShown(ctx context.Context, k UserKey, tipID string, t time.Time) error
	// RecentTips returns the IDs of the last n tips shown to the user,
	// newest first.
	RecentTips(ctx context.Context, k UserKey, n int) ([]string, error)
	// AppendRecentTips is RecentTips appending the IDs to dst, for a
	// caller that keeps a buffer for them.
	AppendRecentTips(ctx context.Context, dst []string, k UserKey, n int) ([]string, error)

	CheckinStore
	JourneyStore
	WeeklyStore
	ConversationStore
	FileStore
	ReplicaStore

	// Export returns everything stored about the user.
	Export(ctx context.Context, k UserKey) (UserData, error)
	// Forget deletes every row about the user, in every table.
	Forget(ctx context.Context, k UserKey) error
}

// UserData is everything trustbot stores about one user, for export.
type UserData struct {
	Team        string         `json:"team"`
	User        string         `json:"user"`
	ExportedAt  time.Time      `json:"exported_at"`
	Settings    Settings       `json:"settings"`
	Profile     *Profile       `json:"profile,omitempty"`
	Schedule    *Schedule      `json:"checkin_schedule,omitempty"`
	Deliveries  []Delivery     `json:"deliveries"`
	Reflections []Answers      `json:"reflections"`
	Journeys    []Journey      `json:"journeys"`
	TipsShown   []string       `json:"tips_shown"`
	Subscribed  []Subscription `json:"channels_subscribed"`
}

// CheckinStore keeps reflection check-ins: schedules, deliveries, answers.
type CheckinStore interface {
	// Schedule returns the user's check-in schedule. ENOTFOUND when none.
	Schedule(ctx context.Context, k UserKey) (Schedule, error)
	// SaveSchedule creates or replaces the user's schedule.
	SaveSchedule(ctx context.Context, s Schedule) error

	// ClaimDue claims up to limit schedules due at now, in one transaction:
	// for each, it inserts a pending delivery keyed by the occurrence (a
	// second claim of the same occurrence inserts nothing) and moves the
	// schedule on with advance. It returns the new deliveries.
	ClaimDue(ctx context.Context, now time.Time, limit int, advance func(Schedule, Prefs) (Schedule, int)) ([]Delivery, error)
	// DueSchedules returns up to limit schedules due at now, changing
	// nothing.
	DueSchedules(ctx context.Context, now time.Time, limit int) ([]Schedule, error)
	// InsertDelivery adds a pending delivery (a check-in asked for now). It
	// reports false when one with the same key exists.
	InsertDelivery(ctx context.Context, d Delivery) (bool, error)
	// Deliverable returns up to limit pending deliveries due at now.
	Deliverable(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// StaleSending returns deliveries left Sending since before t (their
	// sender hung or never heard back), or by a replica whose lease has
	// ended by now (it is gone).
	StaleSending(ctx context.Context, before, now time.Time, limit int) ([]Delivery, error)
	// ClaimSending moves up to limit pending deliveries due at due to
	// Sending for replica, each under a new attempt of that replica's, as
	// of now (the real clock). A delivery is claimed by one replica only:
	// claimers at once share the pending ones out.
	ClaimSending(ctx context.Context, due, now time.Time, replica string, limit int) ([]Delivery, error)
	// Sending reports whether the delivery is still sending under attempt.
	Sending(ctx context.Context, id, attempt string) (bool, error)
	// MarkSending moves a pending delivery to Sending under attempt; now
	// is when the attempt begins by the real clock (staleness and the
	// search on the platform after a crash start from it). It reports
	// false when another sender took it first.
	MarkSending(ctx context.Context, id, attempt string, now time.Time) (bool, error)
	// MarkSent records where a delivery sent under attempt went; it also
	// takes effect on a delivery requeued from attempt that nobody took
	// since. It reports false when another attempt owns the delivery.
	MarkSent(ctx context.Context, id, attempt string, p Posted, now time.Time) (bool, error)
	// Requeue puts a delivery left sending under attempt back to pending,
	// due at t. It reports false when the delivery is no longer sending
	// under that attempt (its sender recorded it meanwhile).
	Requeue(ctx context.Context, id, attempt string, t time.Time, reason string) (bool, error)
	// MarkFailed records that a delivery sending under attempt will not be
	// sent, and why. It reports false when the delivery is no longer
	// sending under that attempt.
	MarkFailed(ctx context.Context, id, attempt, reason string) (bool, error)

	// Delivery returns one of the user's deliveries. ENOTFOUND when the ID
	// is not the user's.
	Delivery(ctx context.Context, k UserKey, id string) (Delivery, error)
	// Snooze puts one of the user's deliveries back to pending until t.
	Snooze(ctx context.Context, k UserKey, id string, t time.Time) error
	// Skip marks one of the user's deliveries skipped.
	Skip(ctx context.Context, k UserKey, id string) error
	// SaveAnswers merges answers into the reflection of one of the user's
	// deliveries: choices are added or replaced, a non-empty note or action
	// replaces the stored one.
	SaveAnswers(ctx context.Context, a Answers) (Answers, error)
	// Reflections returns the user's last n deliveries of kind that were
	// sent, newest first, with their answers (empty when unanswered).
	Reflections(ctx context.Context, k UserKey, kind string, n int) ([]Reflection, error)
}

// Reflection is a sent check-in and what the user answered.
type Reflection struct {
	Delivery Delivery
	Answers  Answers
}

// Directory looks people up on the chat platform (Slack users.info).
type Directory interface {
	// Profile returns the user's time zone and locale as the platform
	// reports them now.
	Profile(ctx context.Context, k UserKey) (Profile, error)
}

// Error codes, after the Standard Package Layout's application errors.
const (
	EINTERNAL = "internal"
	EINVALID  = "invalid"
	ENOTFOUND = "not_found"
	ECONFLICT = "conflict"
	// EUNAVAILABLE: a resource (the database) is busy or down for now;
	// trying again later may work.
	EUNAVAILABLE = "unavailable"
)

// Error is an application error: a code for programs and a message for
// operators. Messages for users are looked up in the playbooks' UI catalog,
// never taken from an Error.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("trustbot %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// Metrics records what an operator watches. Implemented by
// internal/metrics; NopMetrics records nothing.
type Metrics interface {
	// Command counts a /trust subcommand (or a press on a control).
	Command(name string)
	// Acked records how long a request waited before its acknowledgement
	// was sent.
	Acked(p Platform, d time.Duration)
	// Delivered counts a delivery's outcome: sent, unreachable, uncertain, failed.
	Delivered(p Platform, kind, state string)
	// APIError counts an error answer from a platform's API method.
	APIError(p Platform, method, code string)
	// RateLimited counts a 429 from a platform's API method.
	RateLimited(p Platform, method string)
	// Reconnected counts a new Socket Mode connection after the first.
	Reconnected()
	// Refused counts a request refused before it was read (no valid
	// signature, too old, too large), by the platform's reason.
	Refused(p Platform, reason string)
	// Backlog reports how many deliveries were due and unsent at a pass.
	Backlog(n int)
	// Missed counts occurrences that passed unsent during downtime.
	Missed(kind string, n int)
	// Fault counts an internal fault that was caught: one of Faults.
	Fault(name string)
	// Claimed counts deliveries this replica claimed to send.
	Claimed(n int)
	// Reconciled counts deliveries left sending that this replica
	// settled, by outcome: "found" (recorded as sent), "requeued",
	// "unreachable".
	Reconciled(outcome string)
	// LeaseExpired counts deliveries this replica found left sending by a
	// replica whose lease had ended.
	LeaseExpired(n int)
	// ReconcileWaiting reports, at the end of a pass, how many deliveries
	// left sending still wait to be looked for on the platform (its
	// budget for reading conversations spent for now) and how long the
	// oldest has waited.
	ReconcileWaiting(n int, oldest time.Duration)
}

// Faults are the internal faults counted by Metrics.Fault.
const (
	FaultPanic     = "panic"      // a panic recovered in a dispatch pass, a send or a request
	FaultClockJump = "clock_jump" // the wall clock moved apart from the monotonic clock
	FaultClockSkew = "clock_skew" // this host's clock and the platform's disagree
	// FaultUnreadable: a stored row skipped because it cannot be read
	// (sealed with a key that is not configured, or damaged).
	FaultUnreadable = "unreadable_row"
	// FaultTipsDropped: a "tip shown" record dropped unwritten, the
	// database having taken no writes while too many waited.
	FaultTipsDropped = "tips_dropped"
	// FaultLeaseLost: this replica's lease ended before it renewed it
	// (paused, or cut off from the database): it registered anew.
	FaultLeaseLost = "lease_lost"
)

// Faults lists every fault name.
var Faults = []string{FaultPanic, FaultClockJump, FaultClockSkew, FaultUnreadable, FaultTipsDropped, FaultLeaseLost}

// NopMetrics records nothing.
type NopMetrics struct{}

func (NopMetrics) Command(string)                      {}
func (NopMetrics) Acked(Platform, time.Duration)       {}
func (NopMetrics) Delivered(Platform, string, string)  {}
func (NopMetrics) APIError(Platform, string, string)   {}
func (NopMetrics) RateLimited(Platform, string)        {}
func (NopMetrics) Reconnected()                        {}
func (NopMetrics) Refused(Platform, string)            {}
func (NopMetrics) Backlog(int)                         {}
func (NopMetrics) Missed(string, int)                  {}
func (NopMetrics) Fault(string)                        {}
func (NopMetrics) Claimed(int)                         {}
func (NopMetrics) Reconciled(string)                   {}
func (NopMetrics) LeaseExpired(int)                    {}
func (NopMetrics) ReconcileWaiting(int, time.Duration) {}
