package tone

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// fold makes half-width katakana full-width and composes their marks
// (ﾊﾟ → パ), makes full-width letters half-width, and lower-cases.
func fold(s string) string { return strings.ToLower(norm.NFC.String(width.Fold.String(s))) }

// Normalize prepares a draft for the patterns: full-width letters, digits,
// spaces and punctuation become half-width (ＬＩＮＥ？ → line?), half-width
// katakana full-width, letters lower case; curly quotes straight; the
// content's replacements applied (🙏 → お願い, u → you); other emoji and
// symbols become spaces; a run of the same character (pleeeease, ーーー,
// !!) and of spaces is shortened.
func (d *Detector) Normalize(draft string) string {
	s := fold(draft)
	s = quotes.Replace(s)
	if d.norm != nil {
		s = d.norm.Replace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune
	run := 0
	for _, r := range s {
		switch {
		case r == '\u200d' || unicode.Is(unicode.Variation_Selector, r) || (r >= 0x1F3FB && r <= 0x1F3FF):
			continue // joiners, variation selectors and skin tones of emoji
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Co, r) ||
			(unicode.IsControl(r) && r != '\n') || unicode.IsSpace(r) && r != '\n':
			r = ' '
		}
		if r == prev {
			run++
		} else {
			run = 1
		}
		prev = r
		// Keep two of a Latin letter (good, pleeeease → pleease), three
		// of anything else (くらいいい), one of a long mark, punctuation or
		// space.
		limit := 3
		if r >= 'a' && r <= 'z' {
			limit = 2
		}
		if r == ' ' || r == 'ー' || r == '〜' || r == '~' || r == '!' || r == '?' || r == '.' || r == '、' || r == '。' || r == '…' || r == 'っ' {
			limit = 1
		}
		if run > limit {
			continue
		}
		b.WriteRune(r)
	}
	s = b.String()
	if len(d.words) > 0 {
		s = replaceWords(s, d.words)
	}
	return s
}

var quotes = strings.NewReplacer("’", "'", "‘", "'", "`", "'", "“", `"`, "”", `"`, "〜", "〜", "～", "〜")

// replaceWords replaces whole Latin words (runs of a-z and ') found in m.
func replaceWords(s string, m map[string]string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := -1
	flush := func(end int) {
		w := s[start:end]
		if r, ok := m[w]; ok {
			w = r
		}
		b.WriteString(w)
		start = -1
	}
	for i, r := range s {
		latin := r >= 'a' && r <= 'z' || r == '\''
		switch {
		case latin && start < 0:
			start = i
		case !latin && start >= 0:
			flush(i)
		}
		if !latin {
			b.WriteRune(r)
		}
	}
	if start >= 0 {
		flush(len(s))
	}
	return b.String()
}

// Sentences splits normalized text after each 。!?… and line break, and
// after a full stop that ends a word (not in 3.5 or e.g.). The marks stay
// with their sentence; empty sentences are dropped.
func Sentences(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	pos := 0 // byte offset of rs[i]
	for i, r := range rs {
		n := len(string(r))
		end := false
		switch r {
		case '。', '!', '?', '…', '\n', '．':
			// A run of marks (?!) ends the sentence once, after the last.
			end = i+1 == len(rs) || !strings.ContainsRune("。!?…．", rs[i+1])
		case '.':
			next := ' '
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			end = next == ' ' || next == '\n' || !unicode.IsLetter(next) && !unicode.IsDigit(next)
		}
		pos += n
		if end {
			if t := strings.TrimSpace(s[start:pos]); t != "" {
				out = append(out, t)
			}
			start = pos
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// foldKana turns katakana into hiragana (ダメ → だめ), leaving the long
// mark and everything else as it is. Both take three bytes in UTF-8, so
// offsets in the result are offsets in s.
func foldKana(s string) string {
	if !strings.ContainsFunc(s, isFoldableKatakana) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isFoldableKatakana(r) {
			return r - 0x60
		}
		return r
	}, s)
}

func isFoldableKatakana(r rune) bool { return r >= 'ァ' && r <= 'ヶ' }
