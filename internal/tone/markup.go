package tone

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Chat markup is read as what it stands for, so that it neither hides an
// ask nor makes one, in two steps of normalizing:
//   - markup, before escaped marks are unescaped: an emoji shortcode
//     (:coffee:, :pray:, :+1:) is an emoji, so "It's just a coffee, come
//     on :coffee:" reads as "…come on 🙂" does and ":coffee:" names no
//     coffee;
//   - unmark, after: a mention or channel link (<@U04ABCD12>,
//     <#C01|general>, <!here>, escaped as &lt;@U…&gt; or not) and a link
//     are a space, so that their letters are no words ("u" is not "you");
//     the marks of emphasis (*bold*, _italic_) are dropped, so that
//     "_やっぱり_LINE" reads as "やっぱりLINE".

// shortcodeMark is what a shortcode is read as: a pictograph, which
// squeeze then reads as any emoji (a sentence's end when set apart by
// spaces, a space inside the words).
const shortcodeMark = "\U0001F642"

// markup replaces the emoji shortcodes in m (folded, lower case).
func markup(m mapped) mapped {
	s := m.s
	if !strings.Contains(s, ":") {
		return m
	}
	out := newBuilder(len(s))
	for i := 0; i < len(s); {
		if n := shortcodeAt(s, i); n > 0 {
			lo, hi := m.span(i, i+n)
			out.write(shortcodeMark, int32(lo), int32(hi))
			i += n
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		out.keep(m, i, i+n)
		i += n
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

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// chatMarkup is what unmark reads: a mention written as an ID, a link,
// the marks of emphasis.
var chatMarkup = regexp.MustCompile(`<[@#!][^<>\s]*>|(?:https?://|www\.)[^\s<>"]+|[*_]+`)

// unmark makes each mention and link in m one space, and drops the marks
// of emphasis.
func unmark(m mapped) mapped {
	locs := chatMarkup.FindAllStringIndex(m.s, -1)
	if len(locs) == 0 {
		return m
	}
	out := newBuilder(len(m.s))
	at := 0
	for _, l := range locs {
		out.keep(m, at, l[0])
		if strings.Trim(m.s[l[0]:l[1]], "*_") != "" {
			lo, hi := m.span(l[0], l[1])
			out.write(" ", int32(lo), int32(hi))
		}
		at = l[1]
	}
	out.keep(m, at, len(m.s))
	return out.done()
}
