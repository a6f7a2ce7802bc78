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
