package teams

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Activity types trustbot handles; others are acknowledged and ignored.
const (
	TypeMessage            = "message"
	TypeInvoke             = "invoke"
	TypeConversationUpdate = "conversationUpdate"
	TypeInstallationUpdate = "installationUpdate"
)

// Invoke names trustbot answers.
const (
	InvokeTaskFetch  = "task/fetch"
	InvokeTaskSubmit = "task/submit"
)

// Values of Activity.Action for an installationUpdate.
const (
	ActionAdd    = "add"
	ActionRemove = "remove"
)

// Conversation types of ConversationAccount.ConversationType.
const (
	ConversationPersonal  = "personal"
	ConversationChannel   = "channel"
	ConversationGroupChat = "groupChat"
)

// ChannelMSTeams is the channelId of every activity from Teams.
const ChannelMSTeams = "msteams"

// ContentTypeAdaptiveCard is the attachment content type of an Adaptive Card.
const ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"

// MaxActivityBytes bounds the body of an inbound activity. A Teams message
// is at most about 28 KB; a card submission with its inputs stays well
// under this.
const MaxActivityBytes = 1 << 20

// Activity is a Bot Framework activity: the fields trustbot reads or sends.
// Unknown fields are ignored on input.
type Activity struct {
	Type           string               `json:"type"`
	ID             string               `json:"id,omitempty"`
	Timestamp      string               `json:"timestamp,omitempty"`
	LocalTimestamp string               `json:"localTimestamp,omitempty"`
	LocalTimezone  string               `json:"localTimezone,omitempty"`
	ServiceURL     string               `json:"serviceUrl,omitempty"`
	ChannelID      string               `json:"channelId,omitempty"`
	From           *ChannelAccount      `json:"from,omitempty"`
	Conversation   *ConversationAccount `json:"conversation,omitempty"`
	Recipient      *ChannelAccount      `json:"recipient,omitempty"`
	Text           string               `json:"text,omitempty"`
	TextFormat     string               `json:"textFormat,omitempty"`
	Locale         string               `json:"locale,omitempty"`
	Entities       []Entity             `json:"entities,omitempty"`
	ChannelData    *ChannelData         `json:"channelData,omitempty"`
	// Value is the data of a card's Action.Submit (on a message) or the
	// value of an invoke, left for the caller to decode.
	Value          json.RawMessage  `json:"value,omitempty"`
	Name           string           `json:"name,omitempty"`
	ReplyToID      string           `json:"replyToId,omitempty"`
	Attachments    []Attachment     `json:"attachments,omitempty"`
	MembersAdded   []ChannelAccount `json:"membersAdded,omitempty"`
	MembersRemoved []ChannelAccount `json:"membersRemoved,omitempty"`
	// Action is "add" or "remove" on an installationUpdate.
	Action string `json:"action,omitempty"`
	// Summary is shown in notifications when the text is empty (a card).
	Summary string `json:"summary,omitempty"`
}

// ChannelAccount is a user or bot. Teams user IDs start with "29:", bot
// IDs with "28:"; AADObjectID is the user's Microsoft Entra object ID.
type ChannelAccount struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	Role        string `json:"role,omitempty"`
}

// ConversationAccount is the conversation an activity belongs to.
type ConversationAccount struct {
	ID               string `json:"id"`
	Name             string `json:"name,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
}

// Entity is one of an activity's entities. Teams sends a "clientInfo"
// entity with the user's client settings, and a "mention" entity for every
// <at>…</at> in the text; the fields of both live here.
type Entity struct {
	Type string `json:"type"`
	// mention
	Mentioned *ChannelAccount `json:"mentioned,omitempty"`
	Text      string          `json:"text,omitempty"`
	// clientInfo
	Locale   string `json:"locale,omitempty"`
	Country  string `json:"country,omitempty"`
	Platform string `json:"platform,omitempty"`
	Timezone string `json:"timezone,omitempty"`
}

// ChannelData is the Teams-specific part of an activity.
type ChannelData struct {
	Tenant    *TenantInfo  `json:"tenant,omitempty"`
	Team      *TeamInfo    `json:"team,omitempty"`
	Channel   *ChannelInfo `json:"channel,omitempty"`
	EventType string       `json:"eventType,omitempty"`
}

// TenantInfo names a Microsoft Entra tenant.
type TenantInfo struct {
	ID string `json:"id"`
}

// TeamInfo names a team.
type TeamInfo struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	AADGroupID string `json:"aadGroupId,omitempty"`
}

// ChannelInfo names a team's channel.
type ChannelInfo struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Attachment is a card or file attached to a message. Content is marshaled
// as it is (a card's struct or a json.RawMessage); on input it is left raw.
type Attachment struct {
	ContentType string `json:"contentType"`
	ContentURL  string `json:"contentUrl,omitempty"`
	Content     any    `json:"content,omitempty"`
	Name        string `json:"name,omitempty"`
}

// ConversationReference is what the bot keeps to write into a conversation
// later: where (service URL), which conversation, and who is who.
type ConversationReference struct {
	ActivityID   string              `json:"activityId,omitempty"`
	User         ChannelAccount      `json:"user"`
	Bot          ChannelAccount      `json:"bot"`
	Conversation ConversationAccount `json:"conversation"`
	ChannelID    string              `json:"channelId"`
	ServiceURL   string              `json:"serviceUrl"`
	Locale       string              `json:"locale,omitempty"`
}

// ConversationParameters asks the connector to create (or find) a
// conversation: a personal chat with one user, or a new thread in a channel.
type ConversationParameters struct {
	IsGroup     bool             `json:"isGroup,omitempty"`
	Bot         *ChannelAccount  `json:"bot,omitempty"`
	Members     []ChannelAccount `json:"members,omitempty"`
	TopicName   string           `json:"topicName,omitempty"`
	TenantID    string           `json:"tenantId,omitempty"`
	Activity    *Activity        `json:"activity,omitempty"`
	ChannelData *ChannelData     `json:"channelData,omitempty"`
}

// ConversationResourceResponse is the connector's answer to a new
// conversation: its ID and, for a channel thread, the first activity's ID.
type ConversationResourceResponse struct {
	ID         string `json:"id"`
	ActivityID string `json:"activityId,omitempty"`
	ServiceURL string `json:"serviceUrl,omitempty"`
}

// ResourceResponse is the connector's answer to a sent or updated activity.
type ResourceResponse struct {
	ID string `json:"id"`
}

// PersonalConversation returns the parameters that open (or find) the
// bot's personal chat with a user, for a message nobody asked for.
func PersonalConversation(appID, tenantID, userID string) ConversationParameters {
	return ConversationParameters{
		Bot:         &ChannelAccount{ID: "28:" + appID},
		Members:     []ChannelAccount{{ID: userID}},
		TenantID:    tenantID,
		ChannelData: &ChannelData{Tenant: &TenantInfo{ID: tenantID}},
	}
}

// ChannelConversation returns the parameters that start a new thread in a
// team's channel with a as its first message.
func ChannelConversation(tenantID, channelID string, a *Activity) ConversationParameters {
	return ConversationParameters{
		IsGroup:     true,
		TenantID:    tenantID,
		Activity:    a,
		ChannelData: &ChannelData{Tenant: &TenantInfo{ID: tenantID}, Channel: &ChannelInfo{ID: channelID}},
	}
}

// ParseActivity decodes an activity and checks that it names what every
// activity must: a type, a service URL, a channel and a conversation.
func ParseActivity(body []byte) (*Activity, error) {
	if len(body) > MaxActivityBytes {
		return nil, errors.New("activity: body too large")
	}
	var a Activity
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, errors.New("activity: not a JSON activity")
	}
	switch {
	case a.Type == "":
		return nil, errors.New("activity: no type")
	case a.ServiceURL == "":
		return nil, errors.New("activity: no serviceUrl")
	case a.ChannelID == "":
		return nil, errors.New("activity: no channelId")
	case a.Conversation == nil || a.Conversation.ID == "":
		return nil, errors.New("activity: no conversation")
	}
	return &a, nil
}

// Reference returns the conversation reference of an inbound activity: the
// user who wrote, the bot it was written to, and where to answer.
func (a *Activity) Reference() ConversationReference {
	r := ConversationReference{ActivityID: a.ID, ChannelID: a.ChannelID, ServiceURL: a.ServiceURL, Locale: a.Locale}
	if a.From != nil {
		r.User = *a.From
	}
	if a.Recipient != nil {
		r.Bot = *a.Recipient
	}
	if a.Conversation != nil {
		r.Conversation = *a.Conversation
		if r.Conversation.TenantID == "" {
			r.Conversation.TenantID = a.TenantID()
		}
	}
	return r
}

// TenantID returns the activity's tenant: the conversation's, or else the
// one in channelData.
func (a *Activity) TenantID() string {
	if a.Conversation != nil && a.Conversation.TenantID != "" {
		return a.Conversation.TenantID
	}
	if a.ChannelData != nil && a.ChannelData.Tenant != nil {
		return a.ChannelData.Tenant.ID
	}
	return ""
}

// IsPersonal reports whether the activity comes from the bot's one-to-one
// chat with the user.
func (a *Activity) IsPersonal() bool {
	return a.Conversation != nil && a.Conversation.ConversationType == ConversationPersonal
}

// TextWithoutMention returns the message text with the bot's own mentions
// (<at>trustbot</at>) taken out and the spaces around trimmed; mentions of
// anyone else stay as they are. The mentions are the ones the activity's
// mention entities name for its recipient, and a leading <at>name</at>
// with the recipient's name (for clients that send no entity) unless an
// entity says it names someone else.
func (a *Activity) TextWithoutMention() string {
	text := a.Text
	var botID, botName string
	if a.Recipient != nil {
		botID, botName = a.Recipient.ID, a.Recipient.Name
	}
	ownLeading := "<at>" + botName + "</at>"
	for _, e := range a.Entities {
		if !strings.EqualFold(e.Type, "mention") || e.Mentioned == nil {
			continue
		}
		if botID == "" || e.Mentioned.ID != botID {
			if e.Text == ownLeading {
				ownLeading = "" // someone else has the bot's name
			}
			continue
		}
		if !strings.HasPrefix(e.Text, "<at>") || !strings.HasSuffix(e.Text, "</at>") {
			continue
		}
		if i := strings.Index(text, e.Text); i >= 0 {
			text = text[:i] + " " + text[i+len(e.Text):]
		}
	}
	text = strings.TrimLeftFunc(text, unicode.IsSpace)
	if botName != "" && ownLeading != "" {
		text = strings.TrimPrefix(text, ownLeading)
	}
	return strings.TrimFunc(strings.ReplaceAll(text, "&nbsp;", " "), unicode.IsSpace)
}

// Timezone returns the user's IANA time zone as the client reports it (the
// clientInfo entity, else localTimezone), or "" when none is given or the
// name is not a zone this machine knows.
func (a *Activity) Timezone() string {
	for _, e := range a.Entities {
		if e.Type == "clientInfo" && validZone(e.Timezone) {
			return e.Timezone
		}
	}
	if validZone(a.LocalTimezone) {
		return a.LocalTimezone
	}
	return ""
}

// UserLocale returns the locale of the user's client (such as "ja-JP"):
// the activity's, else the clientInfo entity's, or "" if neither looks
// like a language tag.
func (a *Activity) UserLocale() string {
	if validLocale(a.Locale) {
		return a.Locale
	}
	for _, e := range a.Entities {
		if e.Type == "clientInfo" && validLocale(e.Locale) {
			return e.Locale
		}
	}
	return ""
}

// Time returns the activity's timestamp, or the zero time.
func (a *Activity) Time() time.Time {
	t, err := time.Parse(time.RFC3339Nano, a.Timestamp)
	if err != nil {
		return time.Time{}
	}
	return t
}

func validZone(name string) bool {
	if name == "" || len(name) > 64 || name == "Local" || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_-+", r)) {
			return false
		}
	}
	if _, ok := knownZones.Load(name); ok {
		return true
	}
	if _, err := time.LoadLocation(name); err != nil {
		return false
	}
	if zonesCached.Add(1) <= maxCachedZones {
		knownZones.Store(name, struct{}{})
	}
	return true
}

// knownZones remembers zone names this machine was found to know, so
// that each activity does not read the zone database again. There are
// about 600 names; the cap only guards against a surprise.
var (
	knownZones  sync.Map
	zonesCached atomic.Int32
)

const maxCachedZones = 2000

func validLocale(tag string) bool {
	if tag == "" || len(tag) > 35 {
		return false
	}
	for i, r := range tag {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
		if !(letter || r >= '0' && r <= '9' || r == '-' && i > 0) {
			return false
		}
	}
	return true
}
