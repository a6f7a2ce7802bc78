package trustbot

import (
	"errors"
	"time"
)

// Installation is trustbot installed in one Slack workspace (or, with
// Team empty, in a whole Enterprise Grid organisation) through "Add to
// Slack": what the OAuth exchange returned and when it changed. The
// tokens never appear in logs.
type Installation struct {
	Enterprise string // E…; empty outside Enterprise Grid
	Team       string // T…; empty for an organisation-wide install
	AppID      string
	BotUser    string // the bot's own user ID in the workspace
	Scopes     string // comma-separated, as Slack lists them
	// BotToken is the bot token (xoxb-…, or xoxe.xoxb-… when it
	// expires); RefreshToken (xoxe-1-…) and ExpiresAt are set only when
	// the app rotates its tokens.
	BotToken     string
	RefreshToken string
	ExpiresAt    time.Time
	Installer    string // the user who installed it
	InstalledAt  time.Time
	UpdatedAt    time.Time
	// DisabledAt is set when the app was uninstalled or its tokens
	// revoked: the tokens are gone until it is installed again.
	DisabledAt time.Time
}

// Disabled reports whether the installation was uninstalled or revoked.
func (in Installation) Disabled() bool { return !in.DisabledAt.IsZero() }

// Why an OAuth state handed out by the install page cannot be used.
var (
	// ErrStateUnknown: never handed out, or used already.
	ErrStateUnknown = errors.New("unknown or used OAuth state")
	// ErrStateExpired: handed out too long ago.
	ErrStateExpired = errors.New("expired OAuth state")
	// ErrStateBrowser: handed out to another browser.
	ErrStateBrowser = errors.New("OAuth state of another browser")
)
