package tone

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// fold makes half-width katakana full-width and composes their marks
// (ﾊﾟ → パ), makes full-width letters half-width, and lower-cases. Bytes
// that are not UTF-8 become U+FFFD first, as each does in foldMapped, so
// that a mark after one composes the same way in both.
func fold(s string) string {
	return strings.ToLower(norm.NFC.String(width.Fold.String(validUTF8(s))))
}

// validUTF8 replaces each byte that is not part of UTF-8 with U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // an invalid byte ranges as one utf8.RuneError
	}
	return b.String()
}

// mapped is text made from a draft, with, for each of its bytes, the
// span of the draft it was made from: the words a cue finds in the
// normalized text are shown to the user as they typed them.
type mapped struct {
	s          string
	start, end []int32 // per byte of s: the draft's bytes [start, end) it comes from
}

// builder writes mapped text.
type builder struct {
	b          strings.Builder
	start, end []int32
}

func newBuilder(n int) *builder {
	b := &builder{start: make([]int32, 0, n), end: make([]int32, 0, n)}
	b.b.Grow(n)
	return b
}

// write appends s, made from the draft's bytes [lo, hi).
func (b *builder) write(s string, lo, hi int32) {
	b.b.WriteString(s)
	for range len(s) {
		b.start = append(b.start, lo)
		b.end = append(b.end, hi)
	}
}

// keep copies m.s[i:j] with the draft's bytes each came from.
func (b *builder) keep(m mapped, i, j int) {
	b.b.WriteString(m.s[i:j])
	b.start = append(b.start, m.start[i:j]...)
	b.end = append(b.end, m.end[i:j]...)
}

func (b *builder) done() mapped { return mapped{s: b.b.String(), start: b.start, end: b.end} }

// span returns the draft's bytes that m.s[i:j] (j > i) was made from.
func (m mapped) span(i, j int) (int, int) { return int(m.start[i]), int(m.end[j-1]) }

// Normalize prepares a draft for the patterns: full-width letters, digits,
// spaces and punctuation become half-width (ＬＩＮＥ？ → line?), half-width
// katakana full-width, letters lower case; curly quotes straight; the
// content's replacements applied (🙏 → お願い, u → you); other emoji and
// symbols become spaces; a run of the same character (pleeeease, ーーー,
// !!) and of spaces is shortened.
func (d *Detector) Normalize(draft string) string { return d.normalize(draft).s }

func (d *Detector) normalize(draft string) mapped {
	m := foldMapped(draft)
	m = markup(m)
	m = replaceMapped(m, quotePairs)
	m = unmark(m)
	if len(d.pairs) > 0 {
		m = replaceMapped(m, d.pairs)
	}
	m = squeeze(m)
	if len(d.words) > 0 {
		m = replaceWords(m, d.words)
	}
	return unspace(m)
}

// minSpacedOut is how many single letters in a row, one space apart, make
// a word spelled out (L I N E 交 換): fewer are read as they are, so that
// "a b" or "u r" stay words of their own.
const minSpacedOut = 4

// unspace joins a word spelled out letter by letter (l i n e → line): the
// spaces between a run of at least minSpacedOut single letters or digits
// are dropped.
func unspace(m mapped) mapped {
	if !strings.Contains(m.s, " ") {
		return m
	}
	// single reports whether s[i:] starts with one letter followed by a
	// space or the end, and how long the letter is.
	single := func(i int) (int, bool) {
		r, n := utf8.DecodeRuneInString(m.s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return 0, false
		}
		if i > 0 && m.s[i-1] != ' ' && m.s[i-1] != '\n' {
			return 0, false
		}
		return n, i+n == len(m.s) || m.s[i+n] == ' ' || m.s[i+n] == '\n'
	}
	drop := make([]bool, len(m.s))
	any := false
	for i := 0; i < len(m.s); {
		// Count the run of single letters one space apart from i.
		j, count, last := i, 0, i
		for j < len(m.s) {
			n, ok := single(j)
			if !ok {
				break
			}
			count++
			last = j + n
			if last < len(m.s) && m.s[last] == ' ' {
				j = last + 1
				continue
			}
			break
		}
		if count >= minSpacedOut {
			for k := i; k < last; k++ {
				if m.s[k] == ' ' {
					drop[k] = true
					any = true
				}
			}
			i = last
			continue
		}
		_, n := utf8.DecodeRuneInString(m.s[i:])
		i += n
	}
	if !any {
		return m
	}
	out := newBuilder(len(m.s))
	for i := 0; i < len(m.s); i++ {
		if drop[i] {
			continue
		}
		out.b.WriteByte(m.s[i])
		out.start = append(out.start, m.start[i])
		out.end = append(out.end, m.end[i])
	}
	return out.done()
}

// foldMapped is fold, keeping where each part comes from: width rune by
// rune, composition (ﾊﾟ → パ) and case segment by segment.
func foldMapped(draft string) mapped {
	w := newBuilder(len(draft))
	var buf [utf8.UTFMax]byte
	for i, r := range draft {
		n := utf8.RuneLen(r)
		switch {
		case r == utf8.RuneError:
			_, n = utf8.DecodeRuneInString(draft[i:])
			w.write("\uFFFD", int32(i), int32(i+n))
			continue
		case r < utf8.RuneSelf:
			w.b.WriteByte(byte(r))
			w.start = append(w.start, int32(i))
			w.end = append(w.end, int32(i+1))
			continue
		}
		if f := width.LookupRune(r).Folded(); f != 0 {
			r = f
		}
		k := utf8.EncodeRune(buf[:], r)
		w.write(string(buf[:k]), int32(i), int32(i+n))
	}
	wm := w.done()
	if norm.NFC.IsNormalString(wm.s) {
		return lowerMapped(wm)
	}
	out := newBuilder(len(wm.s))
	var it norm.Iter
	it.InitString(norm.NFC, wm.s)
	for !it.Done() {
		p := it.Pos()
		seg := it.Next()
		q := it.Pos()
		if q <= p {
			break
		}
		lo, hi := wm.span(p, q)
		out.write(string(seg), int32(lo), int32(hi))
	}
	res := out.done()
	if whole := norm.NFC.String(wm.s); res.s != whole {
		// The iterator's segments do not add up to the whole text's form
		// (a composition exclusion, such as Tibetan's ྜྷ): the text keeps
		// that form, each byte coming from the whole draft.
		lo, hi := wm.span(0, len(wm.s))
		fb := newBuilder(len(whole))
		fb.write(whole, int32(lo), int32(hi))
		res = fb.done()
	}
	return lowerMapped(res)
}

// lowerMapped lower-cases m rune by rune, as strings.ToLower does.
func lowerMapped(m mapped) mapped {
	if !strings.ContainsFunc(m.s, func(r rune) bool { return unicode.ToLower(r) != r }) {
		return m
	}
	out := newBuilder(len(m.s))
	var buf [utf8.UTFMax]byte
	for i, r := range m.s {
		n := utf8.RuneLen(r)
		k := utf8.EncodeRune(buf[:], unicode.ToLower(r))
		lo, hi := m.span(i, i+n)
		out.write(string(buf[:k]), int32(lo), int32(hi))
	}
	return out.done()
}

// quotePairs straighten quotes and unify wave dashes, and unescape the
// marks chat text escapes (&gt; opens a quoted line).
var quotePairs = []string{"’", "'", "‘", "'", "`", "'", "“", `"`, "”", `"`, "～", "〜", "&gt;", ">", "&lt;", "<", "&amp;", "&"}

// replaceMapped replaces as strings.NewReplacer(pairs...) does: in the
// order found in the text, without overlaps, the first of the pairs that
// matches at a place winning.
func replaceMapped(m mapped, pairs []string) mapped {
	if m.s == "" {
		return m
	}
	out := newBuilder(len(m.s))
	s := m.s
	for i := 0; i < len(s); {
		matched := false
		for k := 0; k+1 < len(pairs); k += 2 {
			if old := pairs[k]; old != "" && strings.HasPrefix(s[i:], old) {
				lo, hi := m.span(i, i+len(old))
				out.write(pairs[k+1], int32(lo), int32(hi))
				i += len(old)
				matched = true
				break
			}
		}
		if !matched {
			_, n := utf8.DecodeRuneInString(s[i:])
			out.keep(m, i, i+n)
			i += n
		}
	}
	return out.done()
}

// isPictograph: an emoji of the pictograph planes (😕, 🙏, 🍻).
func isPictograph(r rune) bool { return r >= 0x1F000 && unicode.Is(unicode.So, r) }

// spacedPictograph reports whether the pictograph s[i:i+n] has a space
// before it and, past any emoji, joiners or marks that follow it, a space
// or a line break after it.
func spacedPictograph(s string, i, n int) bool {
	if i == 0 || s[i-1] != ' ' {
		return false
	}
	for j := i + n; j < len(s); {
		r, k := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == ' ' || r == '\n':
			return true
		case isPictograph(r) || r == '\u200d' || unicode.Is(unicode.Variation_Selector, r) || r >= 0x1F3FB && r <= 0x1F3FF:
			j += k
		default:
			return false
		}
	}
	return false
}

// squeeze drops the joiners of emoji, makes other symbols and spaces a
// space, and shortens runs of one character.
func squeeze(m mapped) mapped {
	out := newBuilder(len(m.s))
	var prev rune
	run := 0
	for i, r := range m.s {
		n := utf8.RuneLen(r)
		if r == utf8.RuneError {
			_, n = utf8.DecodeRuneInString(m.s[i:])
		}
		switch {
		case r == '\u200d' || unicode.Is(unicode.Variation_Selector, r) || (r >= 0x1F3FB && r <= 0x1F3FF):
			continue // joiners, variation selectors and skin tones of emoji
		case isPictograph(r) && spacedPictograph(m.s, i, n):
			// A pictograph set apart by spaces, as texting puts one
			// between two thoughts ("after everything I did for your
			// project 😕 one dinner wouldn't kill you"), ends a sentence;
			// one inside the words (LINE😊教えて) is a space.
			r = '\n'
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
		lo, hi := m.span(i, i+n)
		out.write(string(r), int32(lo), int32(hi))
	}
	return out.done()
}

// replaceWords replaces whole Latin words (runs of a-z and ') found in m.
func replaceWords(m mapped, words map[string]string) mapped {
	s := m.s
	out := newBuilder(len(s))
	start := -1
	flush := func(end int) {
		w := s[start:end]
		if r, ok := words[w]; ok {
			lo, hi := m.span(start, end)
			out.write(r, int32(lo), int32(hi))
		} else {
			out.b.WriteString(w)
			out.start = append(out.start, m.start[start:end]...)
			out.end = append(out.end, m.end[start:end]...)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		latin := c >= 'a' && c <= 'z' || c == '\''
		switch {
		case latin && start < 0:
			start = i
		case !latin && start >= 0:
			flush(i)
		}
		if !latin {
			out.b.WriteByte(c)
			out.start = append(out.start, m.start[i])
			out.end = append(out.end, m.end[i])
		}
	}
	if start >= 0 {
		flush(len(s))
	}
	return out.done()
}

// Sentences splits normalized text after each 。!?… and line break, and
// after a full stop that ends a word (not in 3.5 or e.g.). The marks stay
// with their sentence; empty sentences are dropped.
func Sentences(s string) []string {
	var out []string
	for _, sp := range sentenceSpans(s) {
		out = append(out, s[sp[0]:sp[1]])
	}
	return out
}

// sentenceSpans returns where each sentence of Sentences is in s.
func sentenceSpans(s string) [][2]int {
	var out [][2]int
	add := func(i, j int) {
		for i < j && isSpaceByte(s[i]) {
			i++
		}
		for j > i && isSpaceByte(s[j-1]) {
			j--
		}
		if i < j {
			out = append(out, [2]int{i, j})
		}
	}
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
			add(start, pos)
			start = pos
		}
	}
	add(start, len(s))
	return out
}

// isSpaceByte: the only spaces left in normalized text are ' ' and '\n'
// (and, for text that was not normalized, the other ASCII spaces).
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// foldKana turns katakana into hiragana (ダメ → だめ), leaving the long
// mark and everything else as it is. Both take three bytes in UTF-8, so
// offsets in the result are offsets in s.
func foldKana(s string) string {
	if !strings.ContainsFunc(s, isFoldableKatakana) {
		return s
	}
	// Byte for byte outside the katakana, so that an index into the
	// result is one into s: strings.Map would write a byte that is not
	// UTF-8 as U+FFFD, three bytes.
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isFoldableKatakana(r) {
			b = utf8.AppendRune(b, r-0x60) // three bytes, as the katakana
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

func isFoldableKatakana(r rune) bool { return r >= 'ァ' && r <= 'ヶ' }
