package trustbot

import (
	"context"
	"slices"
	"strings"
)

// RequestKind says what a user did.
type RequestKind int

const (
	// Command is a slash command: Text holds what followed "/trust".
	Command RequestKind = iota + 1
	// Action is a press on a button or a choice in a menu of an earlier
	// reply: ActionID and Value say which.
	Action
	// Submit is a filled-in form (a modal): ActionID is the form's ID,
	// Value its metadata, Inputs what the user typed.
	Submit
	// Home is the user opening their overview (Slack's App Home tab, or
	// the "home" command).
	Home
	// Install is the app being added where the user (or, in a channel,
	// the team) can use it: the reply is a short greeting.
	Install
	// Uninstall is the app being removed there: nothing more may be sent
	// to it. There is no reply.
	Uninstall
	// Suggest is a user typing in a menu whose choices come as they type
	// (a Control with Suggest): ActionID is the menu, Text what was typed
	// so far. The reply's Options are the choices to show.
	Suggest
)

// Handler answers requests: the coach is one. Every adapter hands what
// its platform received to a Handler and renders the Reply it returns.
type Handler interface {
	Handle(ctx context.Context, req Request) Reply
}

// Request is one thing a user asked of the coach, whatever the platform.
type Request struct {
	Kind RequestKind
	UserKey
	Channel string // where the user is; may be empty (console)

	Text string // Command: the text after the command name
	// Typed says a Command was typed as a message (in the bot's DM, or
	// anywhere on a platform without slash commands), not sent as a slash
	// command: no form can open in answer to it at once.
	Typed bool
	// Direct says the request came from the user's direct chat with the
	// bot, not from a channel.
	Direct bool
	// Profile, when set, is what the platform said about the user with
	// this request (Teams sends the zone and locale with each message): it
	// is adopted before the request is answered.
	Profile *Profile

	ActionID string // Action: which control
	Value    string // Action: the control's value, or the chosen option's value

	Inputs map[string]string // Submit: input ID → what the user typed
}

// BlockKind is the kind of one block of a reply.
type BlockKind int

const (
	// Header is a short title line.
	Header BlockKind = iota + 1
	// Section is a paragraph with an optional bold title.
	Section
	// Quote is text meant to be copied as it is (a ready-to-send phrasing),
	// with an optional title above it.
	Quote
	// Context is small print.
	Context
	// Divider is a thin line.
	Divider
	// Actions is a row of buttons and menus.
	Actions
)

// Block is one platform-neutral piece of a reply. Texts are plain, with
// mentions marked (MentionUser): each renderer escapes them, turns the
// marks into its own mentions and applies its own emphasis to Title.
type Block struct {
	Kind     BlockKind
	Title    string
	Text     string
	Controls []Control // Actions only
}

// ControlKind is a button or a menu.
type ControlKind int

const (
	Button ControlKind = iota + 1
	Select
)

// Style is a button's emphasis.
type Style int

const (
	Plain Style = iota
	Primary
	Danger
)

// Control is a button or a single-choice menu. Pressing a button sends a
// Request of kind Action with its ID and Value; choosing in a menu sends the
// menu's ID and the option's Value.
type Control struct {
	Kind        ControlKind
	ID          string
	Label       string // button text, or menu placeholder
	Value       string
	Style       Style
	Options     []Option // Select only
	Initial     string   // Select: the value chosen at first, if any
	Description string   // optional: what the control does, for screen readers
	// URL, on a button, opens the link instead of sending a request (a
	// download).
	URL string
	// Suggest, on a Select, lets a platform that can fetch a menu's
	// choices as the user types (Slack's external select) leave Options
	// out of the message and answer a Request of kind Suggest instead:
	// the message is smaller and the search can match more than labels.
	// Options still lists every choice, for the platforms that show them
	// all.
	Suggest bool
}

// Option is one choice of a Select.
type Option struct {
	Label string
	Value string
}

// Reply is what the coach answers. Text is always set: it is the
// notification and the fallback where blocks cannot be shown.
type Reply struct {
	Text   string
	Blocks []Block
	// Public replies are seen by everyone in the channel; by default a
	// reply is seen only by the person who asked.
	Public bool
	// ReplaceOriginal asks the platform to update the message whose control
	// was used, instead of sending a new one.
	ReplaceOriginal bool
	// Modal, when set, opens a form instead of answering with a message.
	Modal *Modal
	// Update, when set, says which earlier message (a check-in DM) this
	// reply replaces.
	Update *Posted
	// RefreshHome says the user's overview changed and should be shown
	// anew.
	RefreshHome bool
	// File, when set, is sent to the user privately (their DM), with Text
	// as its comment.
	File *File
	// Options answers a Request of kind Suggest: the choices matching
	// what was typed, best first.
	Options []Option
	// Shared says the reply is made of content alone (a tip, its topic
	// menu), the same for everyone who gets it in the language: nothing
	// in it belongs to the user, so a platform may keep its rendering
	// and serve it again. Its Blocks may be shared with every other
	// caller who got it: they are read, or added to with append (a
	// shared list is full to its capacity, so append copies it), never
	// written to in place.
	Shared bool
}

// File is a document for the user: their data export.
type File struct {
	Name  string
	Title string
	Data  []byte
	// Sent says where the file went, for the place the user asked from;
	// Failed is the answer instead when it could not be sent.
	Sent, Failed string
	// Dest is where the user asked the file to be written, as typed
	// ("export FILE"); only a platform that writes files (the console)
	// uses it.
	Dest string
}

// Modal is a small form.
type Modal struct {
	ID       string // what the submission is routed by
	Metadata string // given back with the submission; checked like any input
	Title    string
	Submit   string
	Close    string
	Intro    string
	Inputs   []Input
}

// Input is one text field of a form.
type Input struct {
	ID          string
	Label       string
	Placeholder string
	Initial     string
	Multiline   bool
	Optional    bool
	MaxLength   int
	Options     []Option // a choice instead of text; Initial is the chosen value
}

// Add appends blocks and returns the reply, for building replies inline.
func (r *Reply) Add(b ...Block) *Reply {
	r.Blocks = append(r.Blocks, b...)
	return r
}

// Mentions of a user or a channel in a reply's text are marked with two
// control characters, which no text from outside carries: the coach drops
// every control character from what it reads, and adapters drop these two
// from what they receive (Unmarked). So only the coach can name someone in
// a way a platform shows as a live mention; whatever a user typed, even
// "<@U123>" or "<!here>", is shown as the characters they typed.
const (
	mentionOpen  = "\x1d"
	mentionClose = "\x1f"
)

// What a user typed is marked too when the coach echoes it (Typed), with
// two other control characters: a renderer that formats text shows it as
// the characters typed, never as formatting; the others drop the marks
// (Mentions does).
const (
	typedOpen  = "\x1c"
	typedClose = "\x1e"
	marks      = mentionOpen + mentionClose + typedOpen + typedClose
)

// Typed marks s as typed by a user, for the renderers.
func Typed(s string) string { return typedOpen + Unmarked(s) + typedClose }

// TypedPieces calls f for each piece of s: text the coach wrote (typed
// false), still holding its mention marks, or text a user typed (typed
// true). Stray typed marks are dropped.
func TypedPieces(s string, f func(text string, typed bool)) {
	for s != "" {
		i := strings.Index(s, typedOpen)
		j := -1
		if i >= 0 {
			j = strings.Index(s[i:], typedClose)
		}
		if i < 0 || j < 0 {
			if rest := strings.ReplaceAll(strings.ReplaceAll(s, typedOpen, ""), typedClose, ""); rest != "" {
				f(rest, false)
			}
			return
		}
		if before := strings.ReplaceAll(s[:i], typedClose, ""); before != "" {
			f(before, false)
		}
		if typed := s[i+1 : i+j]; typed != "" {
			f(typed, true)
		}
		s = s[i+j+1:]
	}
}

// TypedPerLine returns s with each line of a typed piece marked on its
// own, for a renderer that reads a text line by line.
func TypedPerLine(s string) string {
	if !strings.Contains(s, typedOpen) || !strings.Contains(s, "\n") {
		return s
	}
	var b strings.Builder
	TypedPieces(s, func(text string, typed bool) {
		if !typed {
			b.WriteString(text)
			return
		}
		for i, line := range strings.Split(text, "\n") {
			if i > 0 {
				b.WriteString("\n")
			}
			if line != "" {
				b.WriteString(Typed(line))
			}
		}
	})
	return b.String()
}

// MentionUser marks a user ID for the renderers: Slack shows a live
// mention, the console "@U123".
func MentionUser(id string) string { return mentionOpen + "@" + id + mentionClose }

// MentionChannel marks a channel ID: Slack shows a link to the channel,
// the console "#C123".
func MentionChannel(id string) string { return mentionOpen + "#" + id + mentionClose }

// Mentions calls f for each piece of s: plain text (mention false) or a
// marked mention (sigil '@' or '#' and the ID). Stray marks and typed
// marks are dropped.
func Mentions(s string, f func(text string, mention bool, sigil byte, id string)) {
	for s != "" {
		i := strings.IndexAny(s, marks)
		if i < 0 {
			f(s, false, 0, "")
			return
		}
		if i > 0 {
			f(s[:i], false, 0, "")
		}
		s = s[i:]
		if s[0] == mentionOpen[0] {
			if j := strings.Index(s, mentionClose); j > 2 && (s[1] == '@' || s[1] == '#') && validMentionID(s[2:j]) {
				f("", true, s[1], s[2:j])
				s = s[j+1:]
				continue
			}
		}
		s = s[1:] // a stray mark
	}
}

// validMentionID: Slack user and channel IDs are capital letters and
// digits; Teams IDs are longer, with ':', '@', '-', '_' and '.'.
func validMentionID(id string) bool {
	if id == "" || len(id) > maxTeamsID {
		return false
	}
	for _, r := range id {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && (r < 'a' || r > 'z') && !strings.ContainsRune(teamsIDPunct, r) {
			return false
		}
	}
	return true
}

// Unmarked returns s without mention or typed marks: adapters apply it to
// all text they receive, so that no user can send a mention through the
// coach or end the marks around their own text.
func Unmarked(s string) string {
	if !strings.ContainsAny(s, marks) {
		return s
	}
	return unmarker.Replace(s)
}

var unmarker = strings.NewReplacer(mentionOpen, "", mentionClose, "", typedOpen, "", typedClose, "")

// EqualBlocks reports whether a and b hold the same blocks: every field
// of each, of its controls and of their options. It allocates nothing.
func EqualBlocks(a, b []Block) bool {
	return slices.EqualFunc(a, b, func(x, y Block) bool {
		return x.Kind == y.Kind && x.Title == y.Title && x.Text == y.Text &&
			slices.EqualFunc(x.Controls, y.Controls, func(p, q Control) bool {
				return p.Kind == q.Kind && p.ID == q.ID && p.Label == q.Label && p.Value == q.Value &&
					p.Style == q.Style && p.Initial == q.Initial && p.Description == q.Description &&
					p.URL == q.URL && p.Suggest == q.Suggest && slices.Equal(p.Options, q.Options)
			})
	})
}

// CloneBlocks copies blocks, their controls and the controls' options:
// the copy shares nothing that could be written in place.
func CloneBlocks(blocks []Block) []Block {
	if blocks == nil {
		return nil
	}
	out := slices.Clone(blocks)
	for i := range out {
		out[i].Controls = slices.Clone(out[i].Controls)
		for j := range out[i].Controls {
			out[i].Controls[j].Options = slices.Clone(out[i].Controls[j].Options)
		}
	}
	return out
}
