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
	Team string // workspace (Slack team ID)
	User string // user ID inside the workspace
}

func (k UserKey) String() string { return k.Team + "/" + k.User }

// Valid reports whether both parts are set and plausible IDs.
func (k UserKey) Valid() bool { return validID(k.Team) && validID(k.User) }

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Settings are one user's preferences.
type Settings struct {
	UserKey
	Lang string // "auto", "ja" or "en"
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
