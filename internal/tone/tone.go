// Package tone reads a draft message to a colleague and finds what in it may
// pressure the reader: an ask for a private contact or a private meeting,
// asked again after a no, as a demand, in a rush, with a "why", with guilt,
// or with no easy way to decline. It looks for small cues one by one
// (patterns given as data, in both languages) and combines them by the
// rules written once in this package, so that wording never seen before
// still lands and every flag can say what it saw. The rules hold no words
// of a language: those they read are the content's word sets. A learned
// part (learned.go), trained on the labelled corpus, may add a flag the
// rules did not raise, naming the words that weighed most; it never takes
// one away.
package tone

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cue IDs: the parts of a draft looked for separately. The patterns of
// each come from the content; the rules that combine them are combine's
// named steps (combine.go: read, ask, pressure).
const (
	CueContact  = "contact"  // a private contact: LINE, a personal number, a private account
	CueMeeting  = "meeting"  // a private meeting: a meal, a drink, the weekend
	CuePrivate  = "private"  // private whatever else is said: the two of us, a date, my place
	CueAsk      = "ask"      // a request or a question form
	CueAgain    = "again"    // asking again: もう一度, やっぱり, reconsider
	CueDeclined = "declined" // an earlier no from the reader: 断られた, you said no
	CueDemand   = "demand"   // a demand or an imperative: 教えろ, 送れ, give me
	CueGroup    = "group"    // a group: みんなで, the whole team (an outing with them is not private)
	CueRush     = "rush"     // urgency: 今すぐ, 今日中, asap
	CueReply    = "reply"    // pressing for an answer: 返事して, answer me
	CueIgnored  = "ignored"  // reproaching silence: 既読無視, left me on read
	CueReason   = "reason"   // asking why: なんで, why, how come
	CueRefusal  = "refusal"  // a word of refusal: だめ, 無理, say no
	CueWhyNo    = "why-no"   // the reason of a no asked in one phrase: was it me?
	CueGuilt    = "guilt"    // guilt-tripping: after all I did, 貸し
	CueFavour   = "favour"   // a favour held against the reader: the least you could do, 手伝ってあげたのに
	CueCompare  = "compare"  // comparing with others: みんな教えてくれた
	CueSoften   = "soften"   // a softener that makes "no" easy: よかったら, no worries if not
	CueWork     = "work"     // a work matter: 資料, the client, a deadline
	CueHint     = "hint"     // hinting without naming: 誰かさん, you know who you are
	CueObject   = "object"   // a thing named as what the no was about: the design, 資料の件
	CueWithdraw = "withdraw" // taking an ask back: もう聞きません, "I won't bring it up again"
	CueStill    = "still"    // a no still held or no longer held: まだ…ない, still not, not … anymore
	CueAlt      = "alt"      // another thing offered in its place: じゃあ…は？, what about, instead
	CueSunk     = "sunk"     // something already done or paid for the plan: もう予約した, already booked
	CueNorm     = "norm"     // what everyone is supposed to do: 普通は, 当然, normal people, it's tradition
)

// Cues lists every cue ID; the content must give patterns for each.
var Cues = []string{
	CueContact, CueMeeting, CuePrivate, CueAsk, CueAgain, CueDeclined, CueDemand, CueGroup,
	CueRush, CueReply, CueIgnored, CueReason, CueRefusal, CueWhyNo, CueGuilt,
	CueFavour, CueCompare, CueSoften, CueWork, CueHint, CueObject, CueWithdraw,
	CueStill, CueAlt, CueSunk, CueNorm,
}

// Flag IDs: what the check reports, in the order it reports them.
const (
	RepeatAsk  = "repeat-ask" // asks again after a no, or says it is asking again
	ReasonAsk  = "reason-ask" // asks why they said no
	Demand     = "demand"     // a personal ask as a demand
	Rush       = "rush"       // urgency about a personal ask or its answer
	Guilt      = "guilt"      // guilt-tripping or comparing with others
	NoWayOut   = "no-way-out" // a personal ask with nothing that makes "no" easy
	Hinting    = "hinting"    // a hint aimed at someone without naming them
	ContactAsk = "contact-ask"
)

// Flags lists every flag ID, the pressure flags first. ContactAsk is
// information (the draft asks for a private contact or meeting), not a
// flag of pressure by itself.
var Flags = []string{RepeatAsk, ReasonAsk, Demand, Rush, Guilt, NoWayOut, Hinting, ContactAsk}

// Pressure reports whether flag id is one of pressure (every flag but
// ContactAsk).
func Pressure(id string) bool { return id != ContactAsk && slices.Contains(Flags, id) }

// CueSpec is the data of one cue: the patterns that find it and the
// patterns of look-alikes that do not count ("line manager" for LINE).
// Patterns are RE2, written for normalized text (see Normalize): lower
// case, half-width letters and digits.
type CueSpec struct {
	ID     string
	Match  []string
	Except []string // a match that overlaps a match of one of these is dropped
}

// Spec is everything the detector is built from.
type Spec struct {
	Cues []CueSpec
	// Sets are the word sets the combining rules read by name (see
	// Sets); only their Match patterns are read.
	Sets []CueSpec
	// Replace maps a substring to what it stands for, after folding
	// (🙏 → お願い); Words maps a whole Latin word (u → you).
	Replace map[string]string
	Words   map[string]string
}

// PatternError is a pattern that does not compile.
type PatternError struct {
	Cue, Pattern string
	Err          error
	Set          bool // a pattern of the word set Cue, not of a cue
}

func (e PatternError) Error() string {
	kind := "cue"
	if e.Set {
		kind = "set"
	}
	return fmt.Sprintf("%s %q: pattern %q: %v", kind, e.Cue, e.Pattern, e.Err)
}

// Detector finds cues in drafts and combines them into flags. It is safe
// for concurrent use.
type Detector struct {
	cues  map[string]*cue
	sets  map[string]*wordSet
	lits  *literalIndex
	pairs []string // the content's replacements, old and new in turn, sorted
	words map[string]string

	models map[string]*Model // the learned part by language (learned.go)
}

type cue struct {
	match, except []pattern
}

// New builds a detector. It returns every pattern that does not compile;
// the detector is usable with the rest.
func New(spec Spec) (*Detector, []error) {
	d := &Detector{cues: map[string]*cue{}, sets: map[string]*wordSet{}, words: spec.Words}
	var errs []error
	for _, cs := range spec.Sets {
		w, werrs := compileSet(cs)
		d.sets[cs.ID] = w
		errs = append(errs, werrs...)
	}
	for _, cs := range spec.Cues {
		c := d.cues[cs.ID]
		if c == nil {
			c = &cue{}
			d.cues[cs.ID] = c
		}
		for _, set := range []struct {
			src []string
			dst *[]pattern
		}{{cs.Match, &c.match}, {cs.Except, &c.except}} {
			for _, p := range set.src {
				pts, err := compilePattern(foldKana(p))
				if err != nil {
					errs = append(errs, PatternError{Cue: cs.ID, Pattern: p, Err: err})
					continue
				}
				*set.dst = append(*set.dst, pts...)
			}
		}
	}
	d.indexLiterals()
	for _, k := range slices.Sorted(mapKeys(spec.Replace)) {
		d.pairs = append(d.pairs, fold(k), spec.Replace[k])
	}
	return d, errs
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Hit is one cue found in a draft: the words as the user wrote them
// (whole words: a match that starts or ends inside a run of kanji, of
// katakana or of Latin letters is widened to the whole run), and as the
// check read them.
type Hit struct {
	Cue      string
	Text     string // as written: 「LINE」, 「返事ください」
	Norm     string // as read: 「line」, 「事ください」
	Sentence int
}

// Flag is one finding, with the cues that raised it.
type Flag struct {
	ID       string
	Evidence []Hit
}

// Result is what the check found in a draft.
type Result struct {
	Flags []Flag // in the order of Flags
	Hits  []Hit  // every cue found, in reading order
}

// Has reports whether the flag id was raised.
func (r Result) Has(id string) bool {
	return slices.ContainsFunc(r.Flags, func(f Flag) bool { return f.ID == id })
}

// Flag returns the flag id, if raised.
func (r Result) Flag(id string) (Flag, bool) {
	for _, f := range r.Flags {
		if f.ID == id {
			return f, true
		}
	}
	return Flag{}, false
}

// IDs returns the IDs of the raised flags, sorted.
func (r Result) IDs() []string {
	ids := make([]string, 0, len(r.Flags))
	for _, f := range r.Flags {
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	return ids
}

// Pressured reports whether any flag of pressure was raised.
func (r Result) Pressured() bool {
	return slices.ContainsFunc(r.Flags, func(f Flag) bool { return Pressure(f.ID) })
}

// AfterNo reports whether the draft reads as written after a "no": it asks
// again, or asks why. Such a draft is never answered with a way to ask.
func (r Result) AfterNo() bool { return r.Has(RepeatAsk) || r.Has(ReasonAsk) }

// Check reads a draft.
func (d *Detector) Check(draft string) Result {
	m := d.normalize(draft)
	spans := sentenceSpans(m.s)
	var r Result
	found := make([]map[string][]Hit, len(spans))
	for i, sp := range spans {
		found[i] = map[string][]Hit{}
		// Patterns read katakana as hiragana (ダメ, だめ, ﾀﾞﾒ alike). Both
		// take three bytes, so offsets in one are offsets in the other.
		s := foldKana(m.s[sp[0]:sp[1]])
		seen := d.lits.find(s)
		for _, id := range Cues {
			c := d.cues[id]
			if c == nil {
				continue
			}
			for _, h := range c.find(s, seen) {
				lo, hi := trimSpan(m.s, sp[0]+h[0], sp[0]+h[1], isSpaceByte)
				if lo == hi {
					continue
				}
				hit := Hit{Cue: id, Norm: m.s[lo:hi], Text: written(draft, m, lo, hi), Sentence: i}
				found[i][id] = append(found[i][id], hit)
				r.Hits = append(r.Hits, hit)
			}
		}
	}
	for i, sp := range spans {
		if h, ok := d.bareAsk(m.s[sp[0]:sp[1]], found, i); ok {
			found[i][CueAsk] = append(found[i][CueAsk], h)
			r.Hits = append(r.Hits, h)
		}
	}
	texts := make([]string, len(spans))
	for i, sp := range spans {
		texts[i] = m.s[sp[0]:sp[1]]
	}
	// A line quoted from an earlier reply ("> LINEは家族とだけで…") holds
	// the reader's words, not the writer's: it asks for nothing and presses
	// nothing. It keeps what it is about (something private, a group, work);
	// when that is private or it holds a no, it is the reader's answer, a
	// no told of that what the writer adds may push past.
	for i, sp := range spans {
		if !quotedLine(m.s, sp[0]) {
			continue
		}
		f := sentence(found[i])
		kept := map[string][]Hit{}
		for _, id := range []string{CueContact, CuePrivate, CueMeeting, CueGroup, CueWork} {
			if len(f[id]) > 0 {
				kept[id] = f[id]
			}
		}
		// (A quoted ask is someone's ask, not the reader's answer: 「> LINE
		// 交換しませんか？」 then 「断っていいですよね？」; chased for its
		// answer, it is the writer's earlier ask: 「↑これの返事、まだもらえて
		// ないです」.)
		if f.personal() && f.has(CueAsk, CueDemand) && i+1 < len(spans) && !quotedLine(m.s, spans[i+1][0]) && sentence(found[i+1]).has(CueReply, CueIgnored) {
			for _, h := range f.evidence(CueContact, CuePrivate, CueMeeting) {
				h.Cue = CueAgain
				kept[CueAgain] = append(kept[CueAgain], h)
			}
		}
		// (A no about work is no no to an ask: "> We decided not to renew
		// the contract".)
		if !f.work() && (f.personal() && !f.has(CueAsk, CueDemand) || f.has(CueRefusal, CueDeclined)) {
			for _, h := range f.evidence(CueRefusal, CueDeclined, CueContact, CuePrivate, CueMeeting) {
				h.Cue = CueDeclined
				kept[CueDeclined] = append(kept[CueDeclined], h)
			}
		}
		// (A no in the words one answers an ask with, set reply-no: "> I'll
		// pass", "> maybe next time!".)
		if !f.work() && len(kept[CueDeclined]) == 0 {
			if loc := d.set(SetReplyNo).first(texts[i]); loc != nil {
				lo, hi := sp[0]+loc[0], sp[0]+loc[1]
				kept[CueDeclined] = []Hit{{Cue: CueDeclined, Norm: m.s[lo:hi], Text: written(draft, m, lo, hi), Sentence: i}}
			}
		}
		// (A quoted answer that names nothing, followed by the writer's
		// "then what about…" or words of asking again, is the no they
		// push past: 「> 週末は予定入ってます」「じゃあ平日の夜ならいける？」.
		// The push may come after a word of acknowledgement: 「そっか…」
		// 「でも1日くらいダメ？」; the no is then told of in the push.)
		if k := d.quotePush(m.s, spans, found, i); k > 0 {
			no := kept[CueDeclined]
			if len(no) == 0 {
				lo, hi := trimSpan(m.s, sp[0]+strings.Index(m.s[sp[0]:sp[1]], ">")+1, sp[1], isSpaceByte)
				if lo < hi {
					no = []Hit{{Cue: CueDeclined, Norm: m.s[lo:hi], Text: written(draft, m, lo, hi), Sentence: i}}
				}
			}
			if k == i+1 {
				kept[CueDeclined] = no
			} else {
				found[k][CueDeclined] = append(found[k][CueDeclined], no...)
			}
		}
		found[i] = kept
	}
	// quote makes a hit of the words texts[i][lo:hi] that a rule found,
	// shown as the user wrote them.
	quote := func(id string, i, lo, hi int) Hit {
		lo, hi = lo+spans[i][0], hi+spans[i][0]
		return Hit{Cue: id, Norm: m.s[lo:hi], Text: written(draft, m, lo, hi), Sentence: i}
	}
	// A sad face is read in the draft as written: normalizing makes emoji
	// spaces. It counts in the sentence it ends or stands in.
	var sad []Hit
	if loc := d.set(SetSadFace).first(draft); loc != nil {
		i := 0
		for j, sp := range spans {
			if lo, _ := m.span(sp[0], sp[1]); lo <= loc[0] {
				i = j
			}
		}
		sad = append(sad, Hit{Cue: CueGuilt, Norm: draft[loc[0]:loc[1]], Text: draft[loc[0]:loc[1]], Sentence: i})
	}
	r.Flags = d.learn(draft, m, d.combine(found, texts, quote, sad))
	return r
}

// quotePush returns the first of the (at most two) sentences the writer
// adds after the quoted sentence i that pushes past it: offers something
// else, asks again, or opens with a "but" and asks; 0 when none does.
func (d *Detector) quotePush(s string, spans [][2]int, found []map[string][]Hit, i int) int {
	for k := i + 1; k < len(spans) && k <= i+2; k++ {
		if quotedLine(s, spans[k][0]) {
			return 0
		}
		t := sentence(found[k])
		if t.work() {
			return 0
		}
		text := s[spans[k][0]:spans[k][1]]
		// (A "but" pushes back when it asks or holds the no: 「でも1日くらい
		// ダメ？」; not one that eases: 「でも何かあったらいつでも声かけて
		// くださいね」.)
		if t.has(CueAlt, CueAgain) || d.set(SetTurn).opens(text) && !t.has(CueSoften, CueWithdraw) && (strings.Contains(text, "?") || t.has(CueRefusal)) {
			return k
		}
	}
	return 0
}

// quotedLine reports whether the line of s holding offset i is quoted: it
// starts with ">".
func quotedLine(s string, i int) bool {
	line := s[strings.LastIndexByte(s[:i], '\n')+1:]
	return strings.HasPrefix(strings.TrimLeft(line, " "), ">")
}

// bareAsk: a sentence that names a private contact and nothing else, and
// ends with ? or ! (「ライン！」, "WhatsApp?"), asks for it (words of the
// set SetBareFills may stand beside it: "Your insta?", 「番号は？」); not next to
// a sentence about work ("Which channel for the campaign? Instagram?").
// The ask is the contact's own words.
func (d *Detector) bareAsk(sent string, found []map[string][]Hit, i int) (Hit, bool) {
	f := found[i]
	if len(f[CueContact]) == 0 || len(f[CueAsk]) > 0 || len(f[CueDemand]) > 0 {
		return Hit{}, false
	}
	if !strings.HasSuffix(sent, "?") && !strings.HasSuffix(sent, "!") {
		return Hit{}, false
	}
	for _, j := range []int{i - 1, i + 1} {
		if j >= 0 && j < len(found) && len(found[j][CueWork]) > 0 {
			return Hit{}, false
		}
	}
	rest := sent
	for _, h := range f[CueContact] {
		rest = strings.Replace(rest, h.Norm, "", 1)
	}
	rest = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r) {
			return -1
		}
		return r
	}, rest)
	if !d.set(SetBareFills).fills(rest) {
		return Hit{}, false
	}
	h := f[CueContact][len(f[CueContact])-1]
	h.Cue = CueAsk
	return h, true
}

// indexLiterals gives every literal of every pattern an ID in one index.
func (d *Detector) indexLiterals() {
	ids := map[string]int32{}
	var lits []string
	for _, c := range d.cues {
		for _, set := range [][]pattern{c.match, c.except} {
			for i := range set {
				set[i].ids = nil
				for _, l := range set[i].lits {
					id, ok := ids[l]
					if !ok {
						id = int32(len(lits))
						ids[l] = id
						lits = append(lits, l)
					}
					set[i].ids = append(set[i].ids, id)
				}
			}
		}
	}
	d.lits = newLiteralIndex(lits)
}

// find returns the spans of s where the cue is found, without look-alikes;
// seen tells which literals s holds.
func (c *cue) find(s string, seen []bool) [][2]int {
	var out [][2]int
	var except [][]int
	for _, p := range c.except {
		if p.may(seen) {
			except = append(except, p.re.FindAllStringIndex(s, -1)...)
		}
	}
	for _, p := range c.match {
		if !p.may(seen) {
			continue
		}
		for _, m := range p.re.FindAllStringIndex(s, -1) {
			if m[0] == m[1] {
				continue
			}
			if slices.ContainsFunc(except, func(e []int) bool { return e[0] < m[1] && m[0] < e[1] }) {
				continue
			}
			if slices.ContainsFunc(out, func(o [2]int) bool { return o[0] < m[1] && m[0] < o[1] }) {
				continue // the same words found by another pattern
			}
			out = append(out, [2]int{m[0], m[1]})
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	return out
}

// trimSpan narrows s[i:j] by the bytes that trim at both ends.
func trimSpan(s string, i, j int, trim func(byte) bool) (int, int) {
	for i < j && trim(s[i]) {
		i++
	}
	for j > i && trim(s[j-1]) {
		j--
	}
	return i, j
}

// maxWiden bounds how many characters a hit is widened by at each end.
const maxWiden = 12

// written returns the words of the draft that the normalized m.s[i:j] was
// read from, widened to whole words and without spaces or punctuation at
// either end.
func written(draft string, m mapped, i, j int) string {
	lo, hi := m.span(i, j)
	lo, hi = widen(draft, lo, hi)
	for lo < hi {
		r, n := utf8.DecodeRuneInString(draft[lo:])
		if !edgeMark(r) {
			break
		}
		lo += n
	}
	for hi > lo {
		r, n := utf8.DecodeLastRuneInString(draft[lo:hi])
		if !edgeMark(r) {
			break
		}
		hi -= n
	}
	if lo == hi {
		return m.s[i:j]
	}
	return strings.ToValidUTF8(draft[lo:hi], "\uFFFD")
}

// edgeMark: what is not shown at the edge of the words a cue saw.
func edgeMark(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) && r != '?' && r != '？' || r == utf8.RuneError
}

// wordClass is the kind of run a character belongs to for widening: 1
// kanji, 2 katakana, 3 Latin letters and digits; 0 anything else (kana
// particles and endings, punctuation), which a hit is never widened over.
func wordClass(r rune) int {
	switch {
	case unicode.Is(unicode.Han, r) || r == '々':
		return 1
	case unicode.Is(unicode.Katakana, r) || r == 'ー' || r == 'ｰ':
		return 2
	case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ' || r >= '０' && r <= '９' || r == '\'' || r == '’':
		return 3
	}
	return 0
}

// widen extends draft[lo:hi] over the rest of a word it starts or ends
// inside of.
func widen(draft string, lo, hi int) (int, int) {
	if lo >= hi {
		return lo, hi
	}
	// Kanji are widened to the left only: a compound noun ends where the
	// verb or ending after it starts (返事ください, not 映画行こう).
	first, _ := utf8.DecodeRuneInString(draft[lo:])
	if c := wordClass(first); c != 0 {
		for k := 0; k < maxWiden && lo > 0; k++ {
			r, n := utf8.DecodeLastRuneInString(draft[:lo])
			if wordClass(r) != c {
				break
			}
			lo -= n
		}
	}
	last, _ := utf8.DecodeLastRuneInString(draft[:hi])
	if c := wordClass(last); c > 1 {
		for k := 0; k < maxWiden && hi < len(draft); k++ {
			r, n := utf8.DecodeRuneInString(draft[hi:])
			if wordClass(r) != c {
				break
			}
			hi += n
		}
	}
	return lo, hi
}
