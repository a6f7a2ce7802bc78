package teams

// The Adaptive Card schema, as far as trustbot uses it: the elements of
// schema 1.2 (which every Teams client renders, the mobile ones included)
// and, in dialogs only, the input validation of 1.3.

// Card versions: message cards keep to 1.2 so that mobile clients still
// render them; dialogs use the labels and required inputs of 1.3 and say
// 1.5, the newest Teams supports for bot cards ("Teams platform supports
// v1.5 or earlier", learn.microsoft.com cards-reference).
const (
	MessageCardVersion = "1.2"
	DialogCardVersion  = "1.5"
)

// Card is an Adaptive Card.
type Card struct {
	Type         string     `json:"type"` // "AdaptiveCard"
	Version      string     `json:"version"`
	FallbackText string     `json:"fallbackText,omitempty"`
	Body         []Element  `json:"body"`
	Actions      []Action   `json:"actions,omitempty"`
	MSTeams      *CardTeams `json:"msteams,omitempty"`
}

// CardTeams is the Teams extension of a card: full width on desktop, and
// the mentions its text makes live.
type CardTeams struct {
	Width    string    `json:"width,omitempty"`
	Entities []Mention `json:"entities,omitempty"`
}

// Mention makes "<at>name</at>" in a card's text a live mention of a user.
type Mention struct {
	Type      string  `json:"type"` // "mention"
	Text      string  `json:"text"`
	Mentioned Account `json:"mentioned"`
}

// Account names a user in a mention.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Element is one element of a card body (TextBlock, RichTextBlock,
// Container, ActionSet, Input.Text, Input.ChoiceSet) or an inline TextRun:
// one struct for all, each using its own fields.
type Element struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	Separator bool   `json:"separator,omitempty"`
	Spacing   string `json:"spacing,omitempty"`

	// TextBlock, TextRun
	Text     string `json:"text,omitempty"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	FontType string `json:"fontType,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Italic   bool   `json:"italic,omitempty"`
	Color    string `json:"color,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`

	// RichTextBlock
	Inlines []Element `json:"inlines,omitempty"`

	// Container
	Style string    `json:"style,omitempty"`
	Items []Element `json:"items,omitempty"`

	// ActionSet
	Actions []Action `json:"actions,omitempty"`

	// Inputs
	Label        string   `json:"label,omitempty"`
	Placeholder  string   `json:"placeholder,omitempty"`
	Value        string   `json:"value,omitempty"`
	IsMultiline  bool     `json:"isMultiline,omitempty"`
	MaxLength    int      `json:"maxLength,omitempty"`
	IsRequired   bool     `json:"isRequired,omitempty"`
	ErrorMessage string   `json:"errorMessage,omitempty"`
	Choices      []Choice `json:"choices,omitempty"`
}

// Choice is one option of an Input.ChoiceSet.
type Choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is an Action.Submit.
type Action struct {
	Type  string `json:"type"` // "Action.Submit" or "Action.OpenUrl"
	Title string `json:"title"`
	Style string `json:"style,omitempty"`
	Data  any    `json:"data,omitempty"`
	URL   string `json:"url,omitempty"` // Action.OpenUrl only
}

// Element and action types, and property values.
const (
	typeCard      = "AdaptiveCard"
	typeTextBlock = "TextBlock"
	typeRichText  = "RichTextBlock"
	typeTextRun   = "TextRun"
	typeContainer = "Container"
	typeActionSet = "ActionSet"
	typeInputText = "Input.Text"
	typeChoiceSet = "Input.ChoiceSet"
	typeSubmit    = "Action.Submit"
	typeOpenURL   = "Action.OpenUrl"

	styleCompact     = "compact"
	styleEmphasis    = "emphasis"
	styleAttention   = "attention"
	stylePositive    = "positive"
	styleDestructive = "destructive"
)
