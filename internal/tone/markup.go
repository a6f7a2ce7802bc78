package tone

import (
	"strings"
	"unicode/utf8"
)

// Chat markup is read as what it stands for, so that it neither hides an
// ask nor makes one: an emoji shortcode (:coffee:, :pray:, :+1:) is an
// emoji, so "It's just a coffee, come on :coffee:" reads as "…come on 🙂"
// does and ":coffee:" names no coffee; a Slack mention or channel link
// (<@U04ABCD12>, <#C01|general>, <!here>) is a name, read as a space, so
// that its letters are no words ("u" is not "you").

// shortcodeMark is what a shortcode is read as: a pictograph, which
// squeeze then reads as any emoji (a sentence's end when set apart by
// spaces, a space inside the words).
const shortcodeMark = "\U0001F642"

// markup replaces the shortcodes and mentions in m (folded, lower case).
func markup(m mapped) mapped {
	s := m.s
	if !strings.ContainsAny(s, ":<") {
		return m
	}
	out := newBuilder(len(s))
	copyRune := func(i int) int {
		_, n := utf8.DecodeRuneInString(s[i:])
		for j := i; j < i+n; j++ {
			out.b.WriteByte(s[j])
			out.start = append(out.start, m.start[j])
			out.end = append(out.end, m.end[j])
		}
		return i + n
	}
	for i := 0; i < len(s); {
		if n := shortcodeAt(s, i); n > 0 {
			lo, hi := m.span(i, i+n)
			out.write(shortcodeMark, int32(lo), int32(hi))
			i += n
			continue
		}
		if n := mentionAt(s, i); n > 0 {
			lo, hi := m.span(i, i+n)
			out.write(" ", int32(lo), int32(hi))
			i += n
			continue
		}
		i = copyRune(i)
	}
	return out.done()
}

// shortcodeAt returns the length of an emoji shortcode at s[i:] (":pray:",
// ":slightly_smiling_face:", ":+1:"), or 0: a colon not after a letter or
// digit (not "re:re:", not a URL's "x:y:"), then letters, digits, _, + or
// -, at least one a letter or the whole "+1"/"-1", and a closing colon.
// Hours ("10:30:00") have no letter.
func shortcodeAt(s string, i int) int {
	if s[i] != ':' || i > 0 && isWordByte(s[i-1]) {
		return 0
	}
	letter := false
	j := i + 1
	for ; j < len(s) && j-i <= 40; j++ {
		c := s[j]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9' || c == '_' || c == '+' || c == '-':
		case c == ':':
			name := s[i+1 : j]
			if name == "" || !letter && name != "+1" && name != "-1" {
				return 0
			}
			return j + 1 - i
		default:
			return 0
		}
	}
	return 0
}

// mentionAt returns the length of a Slack mention or link at s[i:]
// ("<@u04abcd12>", "<@u04abcd12|sato>", "<#c0123|general>", "<!here>"),
// or 0.
func mentionAt(s string, i int) int {
	if s[i] != '<' || i+2 >= len(s) || s[i+1] != '@' && s[i+1] != '#' && s[i+1] != '!' {
		return 0
	}
	for j := i + 2; j < len(s) && j-i <= 80; j++ {
		switch c := s[j]; {
		case c == '>':
			if j == i+2 {
				return 0
			}
			return j + 1 - i
		case c == ' ' || c == '\n' || c == '<':
			return 0
		}
	}
	return 0
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// markQuoted marks a sentence on a line quoted from an earlier reply
// ("> I'd rather not, sorry"): a mark the check puts in the sentence's
// cues, not a cue of the content.
const markQuoted = "quoted"

// quotedLine reports whether the sentence at s[start:] stands on a line
// quoted from an earlier reply: the line opens with ">".
func quotedLine(s string, start int) bool {
	i := start
	for i > 0 && s[i-1] != '\n' {
		i--
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i < len(s) && s[i] == '>'
}

// unquote reads the sentences on quoted lines as another's words, most
// often the reader's earlier answer: they ask nothing of the reader (no
// ask, plan, urgency or feeling of the writer's is in them), and a no in
// them is the reader's no told of ("> I keep LINE for family only,
// sorry\nInstagram then?" asks again; "> Sure, dinner Friday works!\n
// Great, see you at 7" asks nothing). What they name (a private contact
// or meeting, work, a group) stays, as the matter of the answer. A no
// about work ("> We won't renew the contract") is no no to an ask.
func (d *Detector) unquote(found []map[string][]Hit, texts []string, quote func(id string, i, lo, hi int) Hit) {
	for i, f := range found {
		if len(f[markQuoted]) == 0 {
			continue
		}
		s := sentence(f)
		kept := map[string][]Hit{}
		for _, id := range []string{CueWork, CueGroup} {
			if len(f[id]) > 0 {
				kept[id] = f[id]
			}
		}
		// (A quoted ask, "> are you free for karaoke tonight?", is the
		// writer's own earlier ask: what it names stays only beside a
		// no in the same line.)
		var nos []Hit
		if !s.work() {
			for _, h := range s.evidence(CueRefusal, CueDeclined) {
				h.Cue = CueDeclined
				nos = append(nos, h)
			}
			if loc := d.set(SetReplyNo).first(texts[i]); loc != nil {
				nos = append(nos, quote(CueDeclined, i, loc[0], loc[1]))
			}
		}
		if len(nos) > 0 && !s.has(CueAsk, CueDemand) {
			kept[CueDeclined] = nos
			for _, id := range personalCues {
				if len(f[id]) > 0 {
					kept[id] = f[id]
				}
			}
		}
		found[i] = kept
	}
}
