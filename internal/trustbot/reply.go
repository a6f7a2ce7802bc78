package trustbot

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
	// Home is the user opening their overview (Slack's App Home tab).
	Home
)

// Request is one thing a user asked of the coach, whatever the platform.
type Request struct {
	Kind RequestKind
	UserKey
	Channel string // where the user is; may be empty (console)

	Text string // Command: the text after the command name
	// Typed says a Command was typed as a message (in the bot's DM), not
	// sent as a slash command: no form can open in answer to it at once.
	Typed bool

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

// Block is one platform-neutral piece of a reply. Texts are plain: each
// renderer escapes them and applies its own emphasis to Title.
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
