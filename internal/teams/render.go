package teams

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Teams limits. Where Microsoft documents none, the value is a
// conservative choice of this package, marked so.
const (
	// MaxMessageBytes bounds one message: the payload as UTF-16, as Teams
	// counts it. The bot-message note of msteams-docs "Format your bot
	// messages" gave 40 KB (now 100 KB, 80 KB recommended), and Teams'
	// limits page ~28 KB for a chat or channel message; the lowest holds.
	// A longer reply is split over several messages (Render) or cut (an
	// update in place, Replacement). A 413 MessageSizeTooBig is the
	// answer past it.
	MaxMessageBytes = 28 * 1024
	// MaxActionsPerSet is how many buttons go in one row (ActionSet). The
	// Adaptive Cards host config's maxActions defaults to 5 and Teams
	// shows no more in a row; further buttons start a new row.
	MaxActionsPerSet = 5
	// MaxButtonTitle bounds a button's title, in characters. Not
	// documented: clients cut long titles, narrow phones first; chosen.
	MaxButtonTitle = 60
	// MaxChoices bounds the options of a menu. Not documented; chosen as
	// Slack's limit, which the coach already keeps to.
	MaxChoices = 100
	// MaxDataValue bounds a button's value, in characters. Not documented
	// for Action.Submit data; chosen as Slack's button value limit, which
	// the coach keeps to.
	MaxDataValue = 2000
	// MaxSummary bounds the notification text (activity summary, card
	// fallbackText), in characters. Not documented; a notification shows
	// a line or two, so this is generous.
	MaxSummary = 1000
	// MaxLine bounds one line of text, in characters: a longer one is
	// shown as several, so that no single element comes near
	// MaxMessageBytes and every reply can be split between messages.
	// Chosen; the coach's texts keep far below it.
	MaxLine = 2000
	// FewChoices: a menu with at most this many options is shown as one
	// button per option, easier on a phone than a drop-down.
	FewChoices = 3
)

// Options tune the rendering for the request at hand.
type Options struct {
	// Forms are the control IDs whose press opens a form: their buttons
	// open a dialog (task/fetch) instead of sending a message.
	Forms []string
	// Names gives the display name of a user or channel ID for mentions,
	// when known; else the ID is shown.
	Names map[string]string
}

// Payload is one message activity as trustbot sends it: a card with its
// notification text. It is the body of a post or, with an ID, of an
// update in place.
type Payload struct {
	Type        string           `json:"type"` // "message"
	Summary     string           `json:"summary,omitempty"`
	Attachments []CardAttachment `json:"attachments"`
}

// CardAttachment carries an Adaptive Card in an activity or a dialog.
type CardAttachment struct {
	ContentType string `json:"contentType"`
	Content     *Card  `json:"content"`
}

// Card returns the payload's card.
func (p Payload) Card() *Card { return p.Attachments[0].Content }

// Activity returns the payload as an activity: to post, or to put in place
// of an earlier message once given that message's ID.
func (p Payload) Activity() *Activity {
	a := &Activity{Type: p.Type, Summary: p.Summary}
	for _, at := range p.Attachments {
		a.Attachments = append(a.Attachments, Attachment{ContentType: at.ContentType, Content: at.Content})
	}
	return a
}

// Render turns a reply into message payloads, each within Teams' limits:
// one, unless the reply is too long for one message, when its body is
// split between several, the buttons staying with the text they follow.
// Its Modal and File are for the handler (Launcher, dialogs, a file).
func Render(r trustbot.Reply, o Options) []Payload {
	body, mentions := renderBody(blocksOf(r), o)
	room := MaxMessageBytes - envelope(r, mentions, o)
	sizes := elementSizes(body)
	var out []Payload
	for len(body) > 0 || len(out) == 0 {
		n, used := 0, 0
		for n < len(body) && (n == 0 || used+sizes[n]+2 <= room) {
			// At least one element per message: one too large on its own
			// is sent and refused by Teams rather than looping here.
			used += sizes[n] + 2 // the element and its comma
			n++
		}
		out = append(out, payload(r, body[:n], mentions, o))
		body, sizes = body[n:], sizes[n:]
	}
	return out
}

// Replacement renders a reply as one payload, for an update in place of
// an earlier message: a reply too long for one message loses text from
// its end, never its buttons, and says so with "…".
func Replacement(r trustbot.Reply, o Options) Payload {
	body, mentions := renderBody(blocksOf(r), o)
	room := MaxMessageBytes - envelope(r, mentions, o)
	sizes := elementSizes(body)
	total := 0
	for _, n := range sizes {
		total += n + 2
	}
	if total <= room {
		return payload(r, body, mentions, o)
	}
	more := richLine([]Element{{Type: typeTextRun, Text: "…"}})
	room -= elementSizes([]Element{more})[0] + 2
	var kept []Element
	used := 0
	for i, e := range body { // every row of buttons first, then text from the top
		if e.Type == typeActionSet || e.Type == typeChoiceSet {
			used += sizes[i] + 2
		}
	}
	cutAt := -1
	for i, e := range body {
		if e.Type == typeActionSet || e.Type == typeChoiceSet {
			kept = append(kept, e)
			continue
		}
		if cutAt >= 0 || used+sizes[i]+2 > room {
			if cutAt < 0 {
				cutAt = len(kept)
			}
			continue
		}
		used += sizes[i] + 2
		kept = append(kept, e)
	}
	if cutAt >= 0 {
		kept = slices.Insert(kept, cutAt, more)
	}
	return payload(r, kept, mentions, o)
}

// blocksOf returns a reply's blocks, or its text as one when it has none:
// an empty card says nothing.
func blocksOf(r trustbot.Reply) []trustbot.Block {
	if len(r.Blocks) == 0 && strings.TrimSpace(r.Text) != "" {
		return []trustbot.Block{{Kind: trustbot.Section, Text: r.Text}}
	}
	return r.Blocks
}

// Target is an earlier message a reply replaces in place.
type Target struct {
	Conversation string
	ActivityID   string
}

// ReplaceTarget says which message a reply replaces, if any: the one it
// names (Update: a check-in DM, by the conversation and activity stored
// when it was sent), else, when it replaces the card whose button was
// pressed (ReplaceOriginal), that card: the activity the press answers
// (the message's replyToId) in the press's conversation. ok is false for
// a reply to post as a new message, as when Teams did not say which card
// was pressed. The handler puts Replacement(reply) there.
func ReplaceTarget(r trustbot.Reply, conversation, replyToID string) (Target, bool) {
	switch {
	case r.Update != nil && r.Update.Channel != "" && r.Update.TS != "":
		return Target{Conversation: r.Update.Channel, ActivityID: r.Update.TS}, true
	case r.ReplaceOriginal && conversation != "" && replyToID != "":
		return Target{Conversation: conversation, ActivityID: replyToID}, true
	}
	return Target{}, false
}

// envelope is the size of a reply's payload without its body elements,
// all its mentions counted: what every message of it costs.
func envelope(r trustbot.Reply, mentions []Mention, o Options) int {
	n := size(payload(r, nil, nil, o)) + 2*len(`,"entities":[]`)
	for _, m := range mentions {
		b, _ := marshal(m)
		n += utf16Bytes(b) + 2
	}
	return n
}

// elementSizes returns each element's size in a payload.
func elementSizes(body []Element) []int {
	out := make([]int, len(body))
	for i, e := range body {
		b, _ := marshal(e)
		out[i] = utf16Bytes(b)
	}
	return out
}

// size is a payload's length in bytes as UTF-16, as Teams measures it.
func size(p Payload) int {
	b, err := marshal(p)
	if err != nil {
		return 0
	}
	return utf16Bytes(b)
}

// utf16Bytes is the length of UTF-8 text once encoded as UTF-16: two
// bytes per character, four for one outside the Basic Multilingual Plane.
func utf16Bytes(b []byte) int {
	n := 0
	for _, c := range b {
		switch {
		case c&0xC0 == 0x80: // continuation byte
		case c >= 0xF0: // a 4-byte sequence: a surrogate pair
			n += 4
		default:
			n += 2
		}
	}
	return n
}

// marshal encodes v as Teams receives it: HTML characters as they are.
func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

func payload(r trustbot.Reply, body []Element, mentions []Mention, o Options) Payload {
	if body == nil {
		body = []Element{}
	}
	summary := cut(plain(r.Text, o), MaxSummary)
	c := &Card{Type: typeCard, Version: MessageCardVersion, FallbackText: summary, Body: body, MSTeams: &CardTeams{Width: "Full"}}
	for _, m := range mentions {
		if usesMention(body, m.Text) {
			c.MSTeams.Entities = append(c.MSTeams.Entities, m)
		}
	}
	return Payload{Type: "message", Summary: summary, Attachments: []CardAttachment{{ContentType: ContentTypeAdaptiveCard, Content: c}}}
}

func usesMention(body []Element, text string) bool {
	for _, e := range body {
		if strings.Contains(e.Text, text) || usesMention(e.Items, text) {
			return true
		}
	}
	return false
}

// kind is how a block's text is shown.
type kind struct {
	size     string
	weight   string
	subtle   bool
	italic   bool
	fontType string
}

var (
	headerText  = kind{size: "Large", weight: "Bolder"}
	titleText   = kind{weight: "Bolder"}
	quoteTitle  = kind{italic: true, subtle: true}
	contextText = kind{size: "Small", subtle: true}
)

// renderBody turns blocks into card elements, with the mentions their
// text makes.
func renderBody(blocks []trustbot.Block, o Options) ([]Element, []Mention) {
	var (
		body      []Element
		mentions  []Mention
		separator bool
		menus     int
	)
	add := func(es ...Element) {
		if len(es) == 0 {
			return
		}
		if separator {
			es[0].Separator, es[0].Spacing = true, "medium"
			separator = false
		}
		body = append(body, es...)
	}
	text := func(s string, k kind) []Element {
		es, ms := paragraph(s, k, o)
		mentions = append(mentions, ms...)
		return es
	}
	for _, b := range blocks {
		switch b.Kind {
		case trustbot.Header:
			add(text(b.Text, headerText)...)
		case trustbot.Section:
			var es []Element
			if b.Title != "" {
				es = text(b.Title, titleText)
			}
			if t := text(b.Text, kind{}); len(t) > 0 {
				if len(es) > 0 {
					t[0].Spacing = "small"
				}
				es = append(es, t...)
			}
			add(es...)
		case trustbot.Quote:
			var items []Element
			if b.Title != "" {
				items = text(b.Title, quoteTitle)
			}
			items = append(items, text(b.Text, kind{})...)
			if len(items) > 0 {
				add(Element{Type: typeContainer, Style: styleEmphasis, Items: items})
			}
		case trustbot.Context:
			add(text(b.Text, contextText)...)
		case trustbot.Divider:
			separator = true
		case trustbot.Actions:
			add(controls(b.Controls, o, &menus)...)
		}
	}
	return body, dedupe(mentions)
}

func dedupe(ms []Mention) []Mention {
	var out []Mention
	for _, m := range ms {
		if !slices.ContainsFunc(out, func(x Mention) bool { return x.Text == m.Text }) {
			out = append(out, m)
		}
	}
	return out
}

// paragraph renders a text line by line: each line its own element, so
// that no client has to guess what a line break means. A line is a
// RichTextBlock of TextRuns, which Adaptive Cards never read as markdown:
// whatever a user typed shows as typed. Only a line with a mention is a
// TextBlock (Teams resolves mentions there), its markdown escaped.
func paragraph(s string, k kind, o Options) ([]Element, []Mention) {
	var (
		out      []Element
		mentions []Mention
		gap      bool
	)
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		line = strings.TrimRight(line, " \t\r")
		for !hasMention(line) && utf8.RuneCountInString(line) > MaxLine {
			r := []rune(line)
			lines = append(lines, string(r[:MaxLine]))
			line = string(r[MaxLine:])
		}
		lines = append(lines, line)
	}
	// What a user typed is marked on each line (a cut line included), so
	// that each line is read on its own.
	lines = strings.Split(trustbot.TypedPerLine(strings.Join(lines, "\n")), "\n")
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			gap = len(out) > 0
			continue
		}
		var e Element
		if hasMention(line) {
			var ms []Mention
			e, ms = mentionLine(line, k, o)
			mentions = append(mentions, ms...)
		} else {
			e = richLine(runs(line, k))
		}
		switch {
		case len(out) == 0:
		case gap:
			e.Spacing = "medium"
		default:
			e.Spacing = "none"
		}
		gap = false
		out = append(out, e)
	}
	return out, mentions
}

func richLine(inlines []Element) Element {
	return Element{Type: typeRichText, Inlines: inlines}
}

func textRun(s string, k kind) Element {
	return Element{Type: typeTextRun, Text: unformat(s), Size: k.size, Weight: k.weight, IsSubtle: k.subtle, Italic: k.italic, FontType: k.fontType}
}

// The coach's own emphasis, the only markup its texts carry: a bold
// command, "*`/trust tip [topic]`*" (several code spans may share the
// asterisks), and a code span opening a line ("`▇▄·`  question"), as in
// Slack's mrkdwn. Anywhere else, asterisks and backquotes are text, and
// what a user typed (trustbot.Typed) is text wherever it stands.
var (
	boldCode = regexp.MustCompile("\\*(`[^`\n]+`(?:[^*`\n]*`[^`\n]+`)*)\\*")
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
)

// isTrend: a code span opening a line is the coach's only when it holds
// a trend, symbols outside ASCII ("`▇▄·`"); a user's "`code`" or "` `"
// stays text.
func isTrend(s string) bool {
	return strings.TrimSpace(s) != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r != ' ' && (r < 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r))
	})
}

// runs splits a line into TextRuns: the coach's emphasis bold and
// monospace, the rest as it is; what a user typed (trustbot.Typed) is
// never read as emphasis. Neighbouring runs of the same look are one.
func runs(line string, k kind) []Element {
	if !strings.Contains(line, "`") {
		// No emphasis to read: the line as shown, without typed marks.
		return []Element{textRun(trustbot.Unmarked(line), k)}
	}
	var out []Element
	start := true
	trustbot.TypedPieces(line, func(text string, typed bool) {
		var rs []Element
		if typed {
			rs = []Element{textRun(text, k)}
		} else {
			rs = markupRuns(text, k, start)
		}
		start = false
		for _, r := range rs {
			if n := len(out); n > 0 && sameLook(out[n-1], r) {
				out[n-1].Text += r.Text
				continue
			}
			out = append(out, r)
		}
	})
	return out
}

func sameLook(a, b Element) bool {
	return a.Type == typeTextRun && b.Type == typeTextRun && a.Size == b.Size && a.Weight == b.Weight &&
		a.FontType == b.FontType && a.IsSubtle == b.IsSubtle && a.Italic == b.Italic
}

// markupRuns reads the coach's emphasis in a piece of a line it wrote;
// atStart: the piece opens the line.
func markupRuns(line string, k kind, atStart bool) []Element {
	var out []Element
	plainRun := func(s string) {
		if s != "" {
			out = append(out, textRun(s, k))
		}
	}
	code := func(s string, bold bool) {
		ck := k
		if bold {
			ck.weight = "Bolder"
		}
		last := 0
		for _, m := range codeSpan.FindAllStringSubmatchIndex(s, -1) {
			if m[0] > last {
				out = append(out, textRun(s[last:m[0]], ck))
			}
			mk := ck
			mk.fontType = "Monospace"
			out = append(out, textRun(s[m[2]:m[3]], mk))
			last = m[1]
		}
		if last < len(s) {
			out = append(out, textRun(s[last:], ck))
		}
	}
	if m := codeSpan.FindStringIndex(line); atStart && m != nil && m[0] == 0 && isTrend(line[1:m[1]-1]) {
		code(line[:m[1]], false)
		line = line[m[1]:]
	}
	last := 0
	for _, m := range boldCode.FindAllStringSubmatchIndex(line, -1) {
		plainRun(line[last:m[0]])
		code(line[m[2]:m[3]], true)
		last = m[1]
	}
	plainRun(line[last:])
	return out
}

// unformat keeps a text from being read as anything but text where a
// card would still read it: Adaptive Cards' date functions ("{{DATE(…)}}")
// and a Teams mention tag ("<at>"). A word joiner inside each stops it and
// does not show.
func unformat(s string) string {
	if !strings.Contains(s, "{{") && (!strings.Contains(s, "<") || !atTag.MatchString(s)) {
		return s
	}
	s = strings.ReplaceAll(s, "{{", "{\u2060{")
	return atTag.ReplaceAllString(s, "<$1\u2060$2")
}

var atTag = regexp.MustCompile(`(?i)<(/?)(at)`)

func hasMention(s string) bool {
	found := false
	trustbot.Mentions(s, func(_ string, mention bool, _ byte, _ string) { found = found || mention })
	return found
}

// mentionLine renders a line holding a marked mention as a markdown
// TextBlock: the text escaped, each user mention "<at>name</at>" with its
// entity, each channel its name (Teams has no channel mention in cards).
func mentionLine(line string, k kind, o Options) (Element, []Mention) {
	var (
		b        strings.Builder
		mentions []Mention
	)
	trustbot.Mentions(line, func(text string, mention bool, sigil byte, id string) {
		switch {
		case !mention:
			b.WriteString(escapeMarkdown(unformat(text)))
		case sigil == '@':
			name := nameOf(id, o)
			tag := "<at>" + escapeMarkdown(name) + "</at>"
			b.WriteString(tag)
			mentions = append(mentions, Mention{Type: "mention", Text: tag, Mentioned: Account{ID: id, Name: name}})
		default:
			b.WriteString(escapeMarkdown(nameOf(id, o)))
		}
	})
	e := Element{Type: typeTextBlock, Text: b.String(), Wrap: true, Size: k.size, Weight: k.weight, IsSubtle: k.subtle}
	return e, mentions
}

func nameOf(id string, o Options) string {
	if n := o.Names[id]; n != "" {
		return n
	}
	return id
}

// markdownEscaper escapes what a TextBlock's markdown reads anywhere in a
// line: emphasis, links, HTML-like tags (<at>), code and strike-through.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`, "`", "\\`", `~`, `\~`,
)

// listStart matches what markdown reads at the start of a line: lists,
// headings, quotes.
var listStart = regexp.MustCompile(`^(\s*)([-+#]|\d+\.)`)

// escapeMarkdown makes s read as typed in a markdown TextBlock.
func escapeMarkdown(s string) string {
	s = markdownEscaper.Replace(s)
	return listStart.ReplaceAllString(s, `$1\$2`)
}

// plain renders a text where nothing is read as markup (a summary, a
// button title, a choice): mentions become names.
func plain(s string, o Options) string {
	var b strings.Builder
	trustbot.Mentions(s, func(text string, mention bool, _ byte, id string) {
		if mention {
			b.WriteString(nameOf(id, o))
			return
		}
		b.WriteString(text)
	})
	return b.String()
}

// cut shortens s to at most n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// controls renders a row of controls: buttons in ActionSets of at most
// MaxActionsPerSet, a menu as a drop-down with its own button, or as
// buttons when it has few options.
func controls(cs []trustbot.Control, o Options, menus *int) []Element {
	var (
		out  []Element
		row  []Action
		flus = func() {
			for len(row) > 0 {
				n := min(len(row), MaxActionsPerSet)
				out = append(out, Element{Type: typeActionSet, Actions: row[:n:n]})
				row = row[n:]
			}
		}
	)
	for _, c := range cs {
		switch c.Kind {
		case trustbot.Button:
			row = append(row, button(c, o))
		case trustbot.Select:
			opts := c.Options[:min(len(c.Options), MaxChoices)]
			if len(opts) == 0 {
				continue
			}
			if len(opts) <= FewChoices {
				for _, opt := range opts {
					row = append(row, button(trustbot.Control{Kind: trustbot.Button, ID: c.ID, Label: opt.Label, Value: opt.Value}, o))
				}
				continue
			}
			flus()
			id := "menu" + strconv.Itoa(*menus)
			*menus++
			set := Element{Type: typeChoiceSet, ID: id, Style: styleCompact, Placeholder: plain(c.Label, o)}
			for _, opt := range opts {
				set.Choices = append(set.Choices, Choice{Title: plain(opt.Label, o), Value: opt.Value})
				if opt.Value == c.Initial {
					set.Value = c.Initial
				}
			}
			out = append(out, set)
			row = append(row, Action{Type: typeSubmit, Title: cut(plain(c.Label, o), MaxButtonTitle),
				Data: submitData{Trustbot: actionData{A: c.ID, I: id}}})
			flus()
		}
	}
	flus()
	return out
}

func button(c trustbot.Control, o Options) Action {
	a := Action{Type: typeSubmit, Title: cut(plain(c.Label, o), MaxButtonTitle),
		Data: submitData{Trustbot: actionData{A: c.ID, V: cut(c.Value, MaxDataValue)}}}
	switch c.Style {
	case trustbot.Primary:
		a.Style = stylePositive
	case trustbot.Danger:
		a.Style = styleDestructive
	}
	if slices.Contains(o.Forms, c.ID) {
		a.Data = submitData{Teams: &teamsData{Type: taskFetch}, Trustbot: actionData{A: c.ID, V: cut(c.Value, MaxDataValue)}}
	}
	if c.URL != "" {
		// A link (a download): the button opens it, sending nothing.
		a.Type, a.Data, a.URL = typeOpenURL, nil, c.URL
	}
	return a
}
