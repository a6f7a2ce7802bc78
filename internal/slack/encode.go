package slack

import (
	"encoding/json"

	"github.com/slack-go/slack"
)

// The JSON of a message, as plain values that encoding/json writes by
// reflection. slack-go's blocks marshal themselves level by level, and
// encoding/json re-reads (compacts) each level's output, and an ack's
// payload once more as a whole: byte by byte, that made encoding most of
// the cost of answering a command. These types have no MarshalJSON, so
// nothing is read twice, whether they are marshalled alone (a
// response_url body) or inside an ack. They cover the blocks
// Render makes; anything else (a field or a block Render never sets) is
// left to slack-go's own marshalling. TestEncodeMessage checks that both
// give the same JSON.
type (
	jsonMessage struct {
		Text            string       `json:"text,omitempty"`
		Blocks          *[]jsonBlock `json:"blocks,omitempty"`
		ResponseType    string       `json:"response_type,omitempty"`
		ReplaceOriginal bool         `json:"replace_original"`
		DeleteOriginal  bool         `json:"delete_original"`
	}
	// jsonBlock is any of the blocks: each sets the fields it has.
	jsonBlock struct {
		Type     string    `json:"type"`
		Text     *jsonText `json:"text,omitempty"`
		BlockID  string    `json:"block_id,omitempty"`
		Elements *[]any    `json:"elements,omitempty"` // *jsonText, *jsonButton or *jsonSelect
	}
	jsonText struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Emoji    *bool  `json:"emoji,omitempty"`
		Verbatim bool   `json:"verbatim,omitempty"`
	}
	jsonButton struct {
		Type     string    `json:"type,omitempty"`
		Text     *jsonText `json:"text"`
		ActionID string    `json:"action_id,omitempty"`
		URL      string    `json:"url,omitempty"`
		Value    string    `json:"value,omitempty"`
		Style    string    `json:"style,omitempty"`
	}
	jsonSelect struct {
		Type           string        `json:"type,omitempty"`
		Placeholder    *jsonText     `json:"placeholder,omitempty"`
		ActionID       string        `json:"action_id,omitempty"`
		Options        []*jsonOption `json:"options,omitempty"`
		InitialOption  *jsonOption   `json:"initial_option,omitempty"`
		MinQueryLength *int          `json:"min_query_length,omitempty"`
	}
	// jsonOptions is the ack of a block_suggestion: the menu's choices,
	// an empty list when none match.
	jsonOptions struct {
		Options []*jsonOption `json:"options"`
	}
	jsonOption struct {
		Text  *jsonText `json:"text"`
		Value string    `json:"value"`
	}
)

// encodeMessage is json.Marshal of a message, through plainMessage where
// it can.
func encodeMessage(m *slack.WebhookMessage) (json.RawMessage, error) {
	return json.Marshal(plainMessage(m))
}

// plainMessage returns m as plain values to marshal, or m itself when it
// holds anything they do not cover.
func plainMessage(m *slack.WebhookMessage) any {
	if p, ok := toPlain(m); ok {
		return p
	}
	return m
}

func toPlain(m *slack.WebhookMessage) (*jsonMessage, bool) {
	if m.Username != "" || m.IconEmoji != "" || m.IconURL != "" || m.Channel != "" || m.ThreadTimestamp != "" ||
		len(m.Attachments) > 0 || m.Parse != "" || m.ReplyBroadcast || m.UnfurlLinks != nil || m.UnfurlMedia != nil {
		return nil, false
	}
	p := &jsonMessage{Text: m.Text, ResponseType: m.ResponseType, ReplaceOriginal: m.ReplaceOriginal, DeleteOriginal: m.DeleteOriginal}
	if m.Blocks != nil {
		var blocks []jsonBlock
		if m.Blocks.BlockSet != nil {
			blocks = make([]jsonBlock, 0, len(m.Blocks.BlockSet))
		}
		for _, blk := range m.Blocks.BlockSet {
			b, ok := plainBlock(blk)
			if !ok {
				return nil, false
			}
			blocks = append(blocks, b)
		}
		p.Blocks = &blocks
	}
	return p, true
}

func plainBlock(blk slack.Block) (jsonBlock, bool) {
	switch x := blk.(type) {
	case *slack.HeaderBlock:
		if x.Level != 0 {
			return jsonBlock{}, false
		}
		return jsonBlock{Type: string(x.Type), Text: plainText(x.Text), BlockID: x.BlockID}, true
	case *slack.SectionBlock:
		if len(x.Fields) > 0 || x.Accessory != nil || x.Expand {
			return jsonBlock{}, false
		}
		return jsonBlock{Type: string(x.Type), Text: plainText(x.Text), BlockID: x.BlockID}, true
	case *slack.ContextBlock:
		b := jsonBlock{Type: string(x.Type), BlockID: x.BlockID, Elements: new([]any)}
		if x.ContextElements.Elements != nil {
			*b.Elements = make([]any, 0, len(x.ContextElements.Elements))
		}
		for _, e := range x.ContextElements.Elements {
			t, ok := e.(*slack.TextBlockObject)
			if !ok || t == nil {
				return jsonBlock{}, false
			}
			*b.Elements = append(*b.Elements, plainText(t))
		}
		return b, true
	case *slack.DividerBlock:
		return jsonBlock{Type: string(x.Type), BlockID: x.BlockID}, true
	case *slack.ActionBlock:
		b := jsonBlock{Type: string(x.Type), BlockID: x.BlockID, Elements: new([]any)}
		if x.Elements == nil || x.Elements.ElementSet == nil {
			return b, true
		}
		*b.Elements = make([]any, 0, len(x.Elements.ElementSet))
		for _, e := range x.Elements.ElementSet {
			el, ok := plainElement(e)
			if !ok {
				return jsonBlock{}, false
			}
			*b.Elements = append(*b.Elements, el)
		}
		return b, true
	}
	return jsonBlock{}, false
}

func plainElement(e slack.BlockElement) (any, bool) {
	switch x := e.(type) {
	case *slack.ButtonBlockElement:
		if x.Confirm != nil || x.AccessibilityLabel != "" || x.AgentPrompt != "" || x.AgentPromptDisplay != "" || len(x.VisibleToUserIDs) > 0 {
			return nil, false
		}
		return &jsonButton{Type: string(x.Type), Text: plainText(x.Text), ActionID: x.ActionID, URL: x.URL, Value: x.Value, Style: string(x.Style)}, true
	case *slack.SelectBlockElement:
		if len(x.OptionGroups) > 0 || x.InitialUser != "" || x.InitialConversation != "" || x.InitialChannel != "" ||
			x.DefaultToCurrentConversation || x.ResponseURLEnabled || x.Filter != nil || x.Confirm != nil || x.FocusOnLoad {
			return nil, false
		}
		s := &jsonSelect{Type: x.Type, Placeholder: plainText(x.Placeholder), ActionID: x.ActionID, MinQueryLength: x.MinQueryLength}
		for _, o := range x.Options {
			opt, ok := plainOption(o)
			if !ok {
				return nil, false
			}
			s.Options = append(s.Options, opt)
		}
		if x.InitialOption != nil {
			opt, ok := plainOption(x.InitialOption)
			if !ok {
				return nil, false
			}
			s.InitialOption = opt
		}
		return s, true
	}
	return nil, false
}

func plainOption(o *slack.OptionBlockObject) (*jsonOption, bool) {
	if o == nil || o.Description != nil || o.URL != "" {
		return nil, false
	}
	return &jsonOption{Text: plainText(o.Text), Value: o.Value}, true
}

func plainText(t *slack.TextBlockObject) *jsonText {
	if t == nil {
		return nil
	}
	return &jsonText{Type: t.Type, Text: t.Text, Emoji: t.Emoji, Verbatim: t.Verbatim}
}
