package slack

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// encodeMessage is json.Marshal of a message, written directly for the
// blocks Render makes: slack-go's blocks marshal themselves level by level,
// and encoding/json re-reads each level's output, which made encoding most
// of the cost of answering a command. Anything else (a field or a block
// Render never sets) is left to json.Marshal. TestEncodeMessage checks
// that both give the same JSON.
func encodeMessage(m *slack.WebhookMessage) (json.RawMessage, error) {
	if b, ok := appendMessage(make([]byte, 0, 2048), m); ok {
		return b, nil
	}
	return json.Marshal(m)
}

func appendMessage(b []byte, m *slack.WebhookMessage) ([]byte, bool) {
	if m.Username != "" || m.IconEmoji != "" || m.IconURL != "" || m.Channel != "" || m.ThreadTimestamp != "" ||
		len(m.Attachments) > 0 || m.Parse != "" || m.ReplyBroadcast || m.UnfurlLinks != nil || m.UnfurlMedia != nil {
		return nil, false
	}
	b = append(b, '{')
	if m.Text != "" {
		b = appendString(append(b, `"text":`...), m.Text)
		b = append(b, ',')
	}
	if m.Blocks != nil && m.Blocks.BlockSet == nil {
		b = append(b, `"blocks":null,`...)
	} else if m.Blocks != nil {
		b = append(b, `"blocks":[`...)
		for i, blk := range m.Blocks.BlockSet {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendBlock(b, blk); !ok {
				return nil, false
			}
		}
		b = append(b, "],"...)
	}
	if m.ResponseType != "" {
		b = appendString(append(b, `"response_type":`...), m.ResponseType)
		b = append(b, ',')
	}
	b = strconv.AppendBool(append(b, `"replace_original":`...), m.ReplaceOriginal)
	b = strconv.AppendBool(append(b, `,"delete_original":`...), m.DeleteOriginal)
	return append(b, '}'), true
}

func appendBlock(b []byte, blk slack.Block) ([]byte, bool) {
	switch x := blk.(type) {
	case *slack.HeaderBlock:
		if x.Level != 0 {
			return nil, false
		}
		b = appendString(append(b, `{"type":`...), string(x.Type))
		b = appendText(b, "text", x.Text)
		b = appendField(b, "block_id", x.BlockID)
		return append(b, '}'), true
	case *slack.SectionBlock:
		if len(x.Fields) > 0 || x.Accessory != nil || x.Expand {
			return nil, false
		}
		b = appendString(append(b, `{"type":`...), string(x.Type))
		b = appendText(b, "text", x.Text)
		b = appendField(b, "block_id", x.BlockID)
		return append(b, '}'), true
	case *slack.ContextBlock:
		b = appendString(append(b, `{"type":`...), string(x.Type))
		b = appendField(b, "block_id", x.BlockID)
		if x.ContextElements.Elements == nil {
			return append(b, `,"elements":null}`...), true
		}
		b = append(b, `,"elements":[`...)
		for i, e := range x.ContextElements.Elements {
			t, ok := e.(*slack.TextBlockObject)
			if !ok || t == nil {
				return nil, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTextObject(b, t)
		}
		return append(b, "]}"...), true
	case *slack.DividerBlock:
		b = appendString(append(b, `{"type":`...), string(x.Type))
		b = appendField(b, "block_id", x.BlockID)
		return append(b, '}'), true
	case *slack.ActionBlock:
		b = appendString(append(b, `{"type":`...), string(x.Type))
		b = appendField(b, "block_id", x.BlockID)
		if x.Elements == nil || x.Elements.ElementSet == nil {
			return append(b, `,"elements":null}`...), true
		}
		b = append(b, `,"elements":[`...)
		for i, e := range x.Elements.ElementSet {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendElement(b, e); !ok {
				return nil, false
			}
		}
		return append(b, "]}"...), true
	}
	return nil, false
}

func appendElement(b []byte, e slack.BlockElement) ([]byte, bool) {
	switch x := e.(type) {
	case *slack.ButtonBlockElement:
		if x.Confirm != nil || x.AccessibilityLabel != "" || x.AgentPrompt != "" || x.AgentPromptDisplay != "" || len(x.VisibleToUserIDs) > 0 {
			return nil, false
		}
		b = append(b, '{')
		if x.Type != "" {
			b = appendString(append(b, `"type":`...), string(x.Type))
			b = append(b, ',')
		}
		b = append(b, `"text":`...)
		if x.Text == nil {
			b = append(b, "null"...)
		} else {
			b = appendTextObject(b, x.Text)
		}
		b = appendField(b, "action_id", x.ActionID)
		b = appendField(b, "url", x.URL)
		b = appendField(b, "value", x.Value)
		b = appendField(b, "style", string(x.Style))
		return append(b, '}'), true
	case *slack.SelectBlockElement:
		if len(x.OptionGroups) > 0 || x.InitialUser != "" || x.InitialConversation != "" || x.InitialChannel != "" ||
			x.DefaultToCurrentConversation || x.ResponseURLEnabled || x.Filter != nil || x.MinQueryLength != nil || x.Confirm != nil || x.FocusOnLoad {
			return nil, false
		}
		b = append(b, '{')
		sep := ""
		if x.Type != "" {
			b = appendString(append(b, `"type":`...), x.Type)
			sep = ","
		}
		if x.Placeholder != nil {
			b = appendTextObject(append(b, sep+`"placeholder":`...), x.Placeholder)
			sep = ","
		}
		if x.ActionID != "" {
			b = appendString(append(b, sep+`"action_id":`...), x.ActionID)
			sep = ","
		}
		if len(x.Options) > 0 {
			b = append(b, sep+`"options":[`...)
			for i, o := range x.Options {
				if i > 0 {
					b = append(b, ',')
				}
				var ok bool
				if b, ok = appendOption(b, o); !ok {
					return nil, false
				}
			}
			b = append(b, ']')
			sep = ","
		}
		if x.InitialOption != nil {
			var ok bool
			if b, ok = appendOption(append(b, sep+`"initial_option":`...), x.InitialOption); !ok {
				return nil, false
			}
		}
		return append(b, '}'), true
	}
	return nil, false
}

func appendOption(b []byte, o *slack.OptionBlockObject) ([]byte, bool) {
	if o == nil || o.Description != nil || o.URL != "" {
		return nil, false
	}
	b = append(b, `{"text":`...)
	if o.Text == nil {
		b = append(b, "null"...)
	} else {
		b = appendTextObject(b, o.Text)
	}
	b = appendString(append(b, `,"value":`...), o.Value)
	return append(b, '}'), true
}

// appendText adds `,"name":{text object}` when t is set.
func appendText(b []byte, name string, t *slack.TextBlockObject) []byte {
	if t == nil {
		return b
	}
	return appendTextObject(append(append(append(b, `,"`...), name...), `":`...), t)
}

func appendTextObject(b []byte, t *slack.TextBlockObject) []byte {
	b = appendString(append(b, `{"type":`...), t.Type)
	b = appendString(append(b, `,"text":`...), t.Text)
	if t.Emoji != nil {
		b = strconv.AppendBool(append(b, `,"emoji":`...), *t.Emoji)
	}
	if t.Verbatim {
		b = append(b, `,"verbatim":true`...)
	}
	return append(b, '}')
}

// appendField adds `,"name":"value"` when value is not empty (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendString(append(append(append(b, `,"`...), name...), `":`...), value)
}

// appendString adds s as a JSON string, as encoding/json writes it:
// invalid UTF-8 as U+FFFD, <, > and & escaped, and U+2028 and U+2029.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
