package slack

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Block Kit limits, from the docs.slack.dev Block Kit reference (blocks,
// block elements and composition objects pages).
const (
	MaxMessageBlocks  = 50    // blocks in one message
	MaxSectionText    = 3000  // section text object
	MaxHeaderText     = 150   // header block, plain_text
	MaxContextText    = 3000  // one context element's text
	MaxActionElements = 25    // elements in one actions block
	MaxButtonLabel    = 75    // button text, plain_text
	MaxButtonValue    = 2000  // button value
	MaxActionID       = 255   // action_id and block_id
	MaxSelectOptions  = 100   // options of a static select
	MaxOptionText     = 75    // option text
	MaxOptionValue    = 75    // option value: 150 per docs.slack.dev, 75 per Slack's Node SDK types; the lower is safe
	MaxPlaceholder    = 150   // select placeholder
	MaxFallbackText   = 4000  // chat.postMessage text: Slack recommends at most 4,000 characters
	MaxAckPayload     = 20480 // Socket Mode response frames of this size or more are dropped (slack-go socketmode.go)
)

// escaper makes plain text safe inside mrkdwn: Slack treats only &, < and
// > as control characters (docs.slack.dev "Formatting text for app
// surfaces"), so "<@U123>", "<!here>" or a link typed by a user is shown as
// typed.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape renders a text for mrkdwn: every character escaped, and only the
// coach's marked mentions (trustbot.MentionUser) made live.
func escape(s string) string {
	var b strings.Builder
	trustbot.Mentions(s, func(text string, mention bool, sigil byte, id string) {
		if mention {
			b.WriteString("<" + string(sigil) + id + ">")
			return
		}
		escaper.WriteString(&b, text)
	})
	return b.String()
}

// plain renders a text for a plain_text object, where Slack shows every
// character as it is: marked mentions become "@U123".
func plain(s string) string {
	var b strings.Builder
	trustbot.Mentions(s, func(text string, mention bool, sigil byte, id string) {
		if mention {
			b.WriteString(string(sigil) + id)
			return
		}
		b.WriteString(text)
	})
	return b.String()
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// split cuts s into pieces of at most n characters, at line breaks where
// possible, so that long content becomes several sections instead of being
// refused by Slack.
func split(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		cut := n
		if i := strings.LastIndex(string(r[:n]), "\n"); i > 0 {
			cut = utf8.RuneCountInString(string(r[:n])[:i])
		}
		out = append(out, strings.TrimRight(string(r[:cut]), "\n"))
		s = strings.TrimLeft(string(r[cut:]), "\n")
	}
	return append(out, s)
}

// Render turns a reply into Block Kit blocks within Slack's limits.
func Render(r trustbot.Reply) []slack.Block {
	var blocks []slack.Block
	id := func() string { return "b" + strconv.Itoa(len(blocks)) }
	for _, b := range r.Blocks {
		switch b.Kind {
		case trustbot.Header:
			blocks = append(blocks, slack.NewHeaderBlock(
				slack.NewTextBlockObject(slack.PlainTextType, truncate(plain(b.Text), MaxHeaderText), true, false), slack.HeaderBlockOptionBlockID(id())))
		case trustbot.Section, trustbot.Quote:
			text := escape(b.Text)
			if b.Kind == trustbot.Quote {
				text = "> " + strings.ReplaceAll(text, "\n", "\n> ")
				if b.Title != "" {
					text = "_" + escape(b.Title) + "_\n" + text
				}
			} else if b.Title != "" {
				text = "*" + escape(b.Title) + "*\n" + text
			}
			for _, part := range split(strings.TrimSpace(text), MaxSectionText) {
				if part == "" {
					continue
				}
				blocks = append(blocks, slack.NewSectionBlock(
					slack.NewTextBlockObject(slack.MarkdownType, part, false, false), nil, nil, slack.SectionBlockOptionBlockID(id())))
			}
		case trustbot.Context:
			blocks = append(blocks, slack.NewContextBlock(id(),
				slack.NewTextBlockObject(slack.MarkdownType, truncate(escape(b.Text), MaxContextText), false, false)))
		case trustbot.Divider:
			blocks = append(blocks, slack.NewDividerBlock())
		case trustbot.Actions:
			var elems []slack.BlockElement
			for i, c := range b.Controls {
				if i == MaxActionElements {
					break
				}
				if e := renderControl(c, i); e != nil {
					elems = append(elems, e)
				}
			}
			if len(elems) > 0 {
				blocks = append(blocks, slack.NewActionBlock(id(), elems...))
			}
		}
	}
	if len(blocks) > MaxMessageBlocks {
		// Keep the last block when it holds the controls: a reply without
		// its buttons is a dead end.
		last := blocks[len(blocks)-1]
		blocks = blocks[:MaxMessageBlocks-1]
		if last.BlockType() == slack.MBTAction {
			blocks[len(blocks)-1] = last
		}
		blocks = append(blocks, slack.NewContextBlock("more", slack.NewTextBlockObject(slack.PlainTextType, "…", false, false)))
	}
	return blocks
}

func renderControl(c trustbot.Control, i int) slack.BlockElement {
	actionID := truncate(c.ID, MaxActionID-8) + actionSep + strconv.Itoa(i)
	switch c.Kind {
	case trustbot.Button:
		btn := slack.NewButtonBlockElement(actionID, truncate(c.Value, MaxButtonValue),
			slack.NewTextBlockObject(slack.PlainTextType, truncate(plain(c.Label), MaxButtonLabel), true, false))
		if c.URL != "" {
			btn.URL = c.URL
		}
		switch c.Style {
		case trustbot.Primary:
			btn.Style = slack.StylePrimary
		case trustbot.Danger:
			btn.Style = slack.StyleDanger
		}
		return btn
	case trustbot.Select:
		var opts []*slack.OptionBlockObject
		var initial *slack.OptionBlockObject
		for _, o := range c.Options {
			if len(opts) == MaxSelectOptions || utf8.RuneCountInString(o.Value) > MaxOptionValue {
				continue
			}
			opt := slack.NewOptionBlockObject(o.Value,
				slack.NewTextBlockObject(slack.PlainTextType, truncate(plain(o.Label), MaxOptionText), true, false), nil)
			opts = append(opts, opt)
			if o.Value == c.Initial {
				initial = opt
			}
		}
		if len(opts) == 0 {
			return nil
		}
		placeholder := slack.NewTextBlockObject(slack.PlainTextType, truncate(plain(c.Label), MaxPlaceholder), true, false)
		if c.Suggest {
			// Slack asks for the choices when the menu opens (nothing
			// typed yet: min_query_length 0) and as the user types.
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, placeholder, actionID)
			sel.MinQueryLength = new(0)
			sel.InitialOption = initial
			return sel
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder, actionID, opts...)
		sel.InitialOption = initial
		return sel
	}
	return nil
}

// suggestions renders the answer to a block_suggestion: the options of
// the reply, as many as a menu shows, with values Slack takes.
func suggestions(r trustbot.Reply) jsonOptions {
	out := jsonOptions{Options: []*jsonOption{}}
	emoji := true
	for _, o := range r.Options {
		if len(out.Options) == MaxSelectOptions {
			break
		}
		if o.Value == "" || utf8.RuneCountInString(o.Value) > MaxOptionValue {
			continue
		}
		out.Options = append(out.Options, &jsonOption{Text: &jsonText{Type: slack.PlainTextType, Text: truncate(plain(o.Label), MaxOptionText), Emoji: &emoji}, Value: o.Value})
	}
	return out
}

// fallback is the notification text of a reply. Slack reads it like
// mrkdwn, so it is escaped the same way.
func fallback(r trustbot.Reply) string { return truncate(escape(r.Text), MaxFallbackText) }

// webhookMessage is the body posted to a response_url.
func webhookMessage(r trustbot.Reply) *slack.WebhookMessage {
	m := &slack.WebhookMessage{
		Text:            fallback(r),
		Blocks:          &slack.Blocks{BlockSet: Render(r)},
		ResponseType:    slack.ResponseTypeEphemeral,
		ReplaceOriginal: r.ReplaceOriginal,
	}
	if r.Public {
		m.ResponseType = slack.ResponseTypeInChannel
	}
	return m
}

// View limits (docs.slack.dev reference: modal and Home tab views).
const (
	MaxViewBlocks   = 100  // blocks in a modal or the Home tab
	MaxViewTitle    = 24   // modal title, submit and close labels
	MaxInputLabel   = 2000 // input block label
	MaxInputLength  = 3000 // plain_text_input max_length
	MaxViewMetadata = 3000 // private_metadata
)

// renderModal turns a form into a modal view.
func renderModal(m *trustbot.Modal) slack.ModalViewRequest {
	text := func(s string, n int) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, truncate(plain(s), n), true, false)
	}
	var blocks []slack.Block
	if m.Intro != "" {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(escape(m.Intro), MaxSectionText), false, false), nil, nil))
	}
	for _, in := range m.Inputs {
		if len(in.Options) > 0 {
			var opts []*slack.OptionBlockObject
			var initial *slack.OptionBlockObject
			for _, o := range in.Options[:min(len(in.Options), MaxSelectOptions)] {
				opt := slack.NewOptionBlockObject(o.Value, text(o.Label, MaxOptionText), nil)
				opts = append(opts, opt)
				if o.Value == in.Initial {
					initial = opt
				}
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, in.ID, opts...)
			sel.InitialOption = initial
			blocks = append(blocks, slack.NewInputBlock(in.ID, text(in.Label, MaxInputLabel), nil, sel).WithOptional(in.Optional))
			continue
		}
		el := slack.NewPlainTextInputBlockElement(nil, in.ID)
		if in.Placeholder != "" {
			el.Placeholder = text(in.Placeholder, MaxPlaceholder)
		}
		el.InitialValue = truncate(plain(in.Initial), MaxInputLength)
		el.Multiline = in.Multiline
		if in.MaxLength > 0 {
			el.MaxLength = min(in.MaxLength, MaxInputLength)
		}
		blocks = append(blocks, slack.NewInputBlock(in.ID, text(in.Label, MaxInputLabel), nil, el).WithOptional(in.Optional))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           text(m.Title, MaxViewTitle),
		Submit:          text(m.Submit, MaxViewTitle),
		Close:           text(m.Close, MaxViewTitle),
		CallbackID:      m.ID,
		PrivateMetadata: truncate(m.Metadata, MaxViewMetadata),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// renderHome turns a reply into the App Home view.
func renderHome(r trustbot.Reply) slack.HomeTabViewRequest {
	blocks := Render(r)
	if len(blocks) > MaxViewBlocks {
		blocks = blocks[:MaxViewBlocks]
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}
