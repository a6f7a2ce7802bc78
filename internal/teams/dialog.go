package teams

import (
	"cmp"
	"strings"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Dialog sizes: Teams takes "small", "medium", "large" or pixels, and shows
// a dialog full screen on a phone whatever the size.
const (
	DialogHeight = "medium"
	DialogWidth  = "medium"
	// MaxDialogTitle bounds a dialog's title, in characters. Not
	// documented; chosen short enough for one line on a phone.
	MaxDialogTitle = 60
	// MaxInputLength is the longest text an input takes when the form
	// names no limit. Not a Teams limit; chosen as Slack's, which the
	// coach's forms keep to.
	MaxInputLength = 3000
)

// TaskResponse is the body of the answer to a task/fetch or task/submit
// invoke.
type TaskResponse struct {
	Task TaskInfo `json:"task"`
}

// TaskInfo is a dialog to show ("continue") or a message in a small dialog
// ("message").
type TaskInfo struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// DialogInfo is the dialog of a "continue" answer.
type DialogInfo struct {
	Title  string         `json:"title"`
	Height string         `json:"height"`
	Width  string         `json:"width"`
	Card   CardAttachment `json:"card"`
}

// Form is a form to show in a dialog.
type Form struct {
	Modal *trustbot.Modal
	// Values are what the user typed (a task/submit's Inputs): shown
	// instead of the form's initial values, so that nothing typed is lost
	// when the form comes back.
	Values map[string]string
	// Problem, when set, is shown at the top of the form: why the form
	// came back (the coach's words, localized).
	Problem string
	// Required is shown under a required input left empty (localized);
	// without it, the input's label is.
	Required string
}

// DialogFor is the answer to a task/fetch or task/submit that shows the
// form: the coach's reply to the press that opens it (a reply with a
// Modal), or its reply to a submission that it refused, a reply with the
// Modal again whose blocks say what to correct. Values are the
// submission's inputs (nil for a task/fetch) and required the localized
// text for a required input left empty. A reply without a Modal gives
// false: a task/fetch then answers with TaskMessage(reply.Text)
// (FetchAnswer), a task/submit closes the dialog (status 200, an empty
// body) and the reply goes to the chat: in place of the message it names
// (ReplaceTarget), else as a new one.
func DialogFor(r trustbot.Reply, values map[string]string, required string, o Options) (TaskResponse, bool) {
	if r.Modal == nil {
		return TaskResponse{}, false
	}
	var problem []string
	for _, b := range r.Blocks {
		if b.Kind == trustbot.Section || b.Kind == trustbot.Context {
			problem = append(problem, strings.TrimSpace(b.Title+"\n"+b.Text))
		}
	}
	return Dialog(Form{Modal: r.Modal, Values: values, Problem: strings.Join(problem, "\n"), Required: required}, o), true
}

// FetchAnswer is the answer to a task/fetch: the form of the coach's reply
// to the press, or, when the coach answered without one (the press was
// refused), its text in a small dialog.
func FetchAnswer(r trustbot.Reply, required string, o Options) TaskResponse {
	if res, ok := DialogFor(r, nil, required, o); ok {
		return res
	}
	return TaskMessage(r.Text, o)
}

// Dialog renders a form as the "continue" answer of a dialog invoke.
func Dialog(f Form, o Options) TaskResponse {
	return TaskResponse{Task: TaskInfo{Type: "continue", Value: DialogInfo{
		Title: cut(plain(f.Modal.Title, o), MaxDialogTitle), Height: DialogHeight, Width: DialogWidth,
		Card: CardAttachment{ContentType: ContentTypeAdaptiveCard, Content: FormCard(f, o)},
	}}}
}

// TaskMessage is the answer of a dialog invoke that shows a short text in
// place of a form (a form that could not be opened).
func TaskMessage(text string, o Options) TaskResponse {
	return TaskResponse{Task: TaskInfo{Type: "message", Value: cut(plain(text, o), MaxSummary)}}
}

// FormCard is a form as a card: its intro, each input with its label and
// limits, and the submit button, which carries the form's routing. The
// close button is the dialog's own.
func FormCard(f Form, o Options) *Card {
	m := f.Modal
	var body []Element
	var mentions []Mention
	if f.Problem != "" {
		es, ms := paragraph(f.Problem, kind{weight: "Bolder"}, o)
		mentions = append(mentions, ms...)
		for i := range es {
			if es[i].Type == typeTextBlock {
				es[i].Color = styleAttention
			}
			for j := range es[i].Inlines {
				es[i].Inlines[j].Color = styleAttention
			}
		}
		body = append(body, Element{Type: typeContainer, Style: styleAttention, Items: es})
	}
	if m.Intro != "" {
		es, ms := paragraph(m.Intro, kind{}, o)
		mentions = append(mentions, ms...)
		body = append(body, es...)
	}
	for _, in := range m.Inputs {
		value := in.Initial
		if v, ok := f.Values[in.ID]; ok {
			value = v
		}
		e := Element{ID: inputPrefix + in.ID, Label: plain(in.Label, o), Placeholder: plain(in.Placeholder, o),
			IsRequired: !in.Optional, Spacing: "medium"}
		if e.IsRequired {
			// Every required input needs its message (the Adaptive Cards
			// library flags one without); the label names the field when
			// no message is given.
			e.ErrorMessage = plain(cmp.Or(f.Required, in.Label), o)
		}
		if len(in.Options) > 0 {
			e.Type, e.Style = typeChoiceSet, styleCompact
			for _, opt := range in.Options[:min(len(in.Options), MaxChoices)] {
				e.Choices = append(e.Choices, Choice{Title: plain(opt.Label, o), Value: opt.Value})
				if opt.Value == value {
					e.Value = value
				}
			}
		} else {
			e.Type, e.IsMultiline = typeInputText, in.Multiline
			e.MaxLength = MaxInputLength
			if in.MaxLength > 0 {
				e.MaxLength = min(in.MaxLength, MaxInputLength)
			}
			// A value longer than the limit (the coach sent the form back
			// for it) is shown whole, the limit raised to fit: cut, the
			// cut part would be lost; the coach's message says how long
			// it may be.
			e.Value = value
			e.MaxLength = max(e.MaxLength, utf8.RuneCountInString(value))
		}
		body = append(body, e)
	}
	c := &Card{Type: typeCard, Version: DialogCardVersion, FallbackText: plain(m.Title, o), Body: body,
		Actions: []Action{{Type: typeSubmit, Title: cut(plain(m.Submit, o), MaxButtonTitle), Style: stylePositive,
			Data: submitData{Trustbot: actionData{F: m.ID, M: m.Metadata}}}}}
	if ms := dedupe(mentions); len(ms) > 0 {
		c.MSTeams = &CardTeams{Entities: ms}
	}
	return c
}

// Launcher is the card that opens a form when the form cannot open at
// once: the coach answered a press that came as a message (Action.Submit)
// with a form. Its one button opens the dialog (task/fetch) by pressing
// again the control that asked for the form (press).
func Launcher(r trustbot.Reply, press Press, o Options) Payload {
	title := cmp.Or(r.Modal.Title, r.Modal.Submit)
	text := r.Text
	if text == "" {
		text = title
	}
	body, mentions := renderBody([]trustbot.Block{{Kind: trustbot.Section, Text: text}}, o)
	body = append(body, Element{Type: typeActionSet, Actions: []Action{{
		Type: typeSubmit, Title: cut(plain(title, o), MaxButtonTitle), Style: stylePositive,
		Data: submitData{Teams: &teamsData{Type: taskFetch}, Trustbot: actionData{A: press.ActionID, V: press.Value}},
	}}})
	return payload(trustbot.Reply{Text: text}, body, mentions, o)
}
