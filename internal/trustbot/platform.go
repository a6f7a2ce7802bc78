package trustbot

import (
	"context"
	"strings"
	"time"
)

// Platform is a chat platform trustbot speaks on.
type Platform string

const (
	Slack Platform = "slack"
	Teams Platform = "msteams"
)

// teamsPrefix starts every workspace ID of Microsoft Teams: the tenant ID
// after it. Slack's workspace IDs (T…, E…) are kept bare, as they always
// were, so that a database written before Teams existed needs no change.
// A colon never occurs in a Slack ID, so the two cannot be confused.
const teamsPrefix = string(Teams) + ":"

// TeamsWorkspace is the workspace ID of a Microsoft 365 tenant.
func TeamsWorkspace(tenantID string) string { return teamsPrefix + tenantID }

// Tenant returns the tenant ID of a Teams workspace ID, and false for any
// other.
func Tenant(workspace string) (string, bool) { return strings.CutPrefix(workspace, teamsPrefix) }

// PlatformOf returns the platform a workspace ID belongs to.
func PlatformOf(workspace string) Platform {
	if strings.HasPrefix(workspace, teamsPrefix) {
		return Teams
	}
	return Slack
}

// Platform returns the platform the user (or channel) is on.
func (k UserKey) Platform() Platform { return PlatformOf(k.Team) }

// Conversation is where messages to a user (or a channel) go on a platform
// that cannot address them by their ID alone: for Teams, the reference to
// the bot's personal chat with the user or to a team channel, taken from
// the platform's own activities and refreshed from later ones.
type Conversation struct {
	// Key is the user (or, for a channel, UserKey.User is the channel ID).
	Key UserKey
	// ID is the platform's conversation ID (Teams: "a:…" for a personal
	// chat, "19:…@thread.tacv2" for a channel).
	ID string
	// ServiceURL is the platform endpoint that serves the conversation.
	ServiceURL string
	// BotID is the bot's own ID in the conversation ("28:…").
	BotID string
	// Channel is true for a team channel, false for a personal chat.
	Channel bool
	// Name is the user's (or channel's) display name, as the platform
	// last gave it: how a mention of them reads.
	Name      string
	UpdatedAt time.Time
}

// ConversationStore keeps conversation references.
type ConversationStore interface {
	// SaveConversation creates or replaces the reference for c.Key, and
	// reports whether it created it: of saves racing for a key with no
	// reference, in any process sharing the store, exactly one does. This
	// is how a platform's first notice of a conversation is told from the
	// ones after it (and from a reinstall, after DeleteConversation).
	SaveConversation(ctx context.Context, c Conversation) (created bool, err error)
	// Conversation returns the reference for k. ENOTFOUND when none.
	Conversation(ctx context.Context, k UserKey) (Conversation, error)
	// DeleteConversation removes the reference for k (the app was
	// uninstalled there) and stops every delivery to it, as for an
	// unreachable user. It is not an error when there is none.
	DeleteConversation(ctx context.Context, k UserKey) error
}

// LinkedFile is a file kept for its owner behind a link: the link's
// secret, Token, is its only key; it works once, until Expires.
type LinkedFile struct {
	Token   string
	Owner   UserKey
	Name    string
	Data    []byte
	Expires time.Time
}

// FileStore keeps files behind links where every replica finds them.
type FileStore interface {
	// PutFile keeps f (of its owner's files, only the newest few).
	PutFile(ctx context.Context, f LinkedFile) error
	// TakeFile returns the file behind token and removes it: false when
	// there is none, or it expired by now.
	TakeFile(ctx context.Context, token string, now time.Time) (LinkedFile, bool, error)
	// DropFile removes the file behind token, if any.
	DropFile(ctx context.Context, token string) error
	// PurgeFiles removes the files whose links expired by now, unused.
	PurgeFiles(ctx context.Context, now time.Time) (int64, error)
}

// Messengers routes each delivery to the messenger of its platform. A
// delivery for a platform this process does not serve is not tried: the
// error is ECANCELED, so it stays pending for a process that does.
type Messengers map[Platform]Messenger

func (m Messengers) of(k UserKey) (Messenger, error) {
	if mm, ok := m[k.Platform()]; ok && mm != nil {
		return mm, nil
	}
	return nil, Errorf(ECANCELED, "no messenger for platform %s", k.Platform())
}

// PostDM sends r through the messenger of to's platform.
func (m Messengers) PostDM(ctx context.Context, to UserKey, r Reply, deliveryID string) (Posted, error) {
	mm, err := m.of(to)
	if err != nil {
		return Posted{}, err
	}
	return mm.PostDM(ctx, to, r, deliveryID)
}

// FindDMs looks through the messenger of to's platform.
func (m Messengers) FindDMs(ctx context.Context, to UserKey, deliveryIDs []string, since time.Time) (map[string]Posted, bool, error) {
	mm, err := m.of(to)
	if err != nil {
		return nil, false, err
	}
	return mm.FindDMs(ctx, to, deliveryIDs, since)
}

// Directories looks each user up on their own platform. A platform
// without a lookup (Teams sends the zone and locale with each message
// instead) answers ENOTFOUND.
type Directories map[Platform]Directory

// Profile asks the directory of k's platform.
func (d Directories) Profile(ctx context.Context, k UserKey) (Profile, error) {
	if dd, ok := d[k.Platform()]; ok && dd != nil {
		return dd.Profile(ctx, k)
	}
	return Profile{}, Errorf(ENOTFOUND, "no directory for platform %s", k.Platform())
}

// SendSlots is a send rate kept by every process that shares it: the
// store, when several processes run on one database. A key names a
// platform's workspace (and method).
type SendSlots interface {
	// TakeSendSlot reserves the next send of key, interval after the one
	// before, and returns how long to wait before sending.
	TakeSendSlot(ctx context.Context, key string, interval time.Duration) (time.Duration, error)
	// BlockSends pauses the sends of key for d (a 429's Retry-After).
	BlockSends(ctx context.Context, key string, d time.Duration) error
	// SendsBlocked returns how long the sends of key stay paused.
	SendsBlocked(ctx context.Context, key string) (time.Duration, error)
	// TrySendSlot takes the slot of key only when it is free now (none
	// taken within interval, no pause), and reports whether it did: for
	// calls that wait for no turn.
	TrySendSlot(ctx context.Context, key string, interval time.Duration) (bool, error)
}
