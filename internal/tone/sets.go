package tone

import (
	"regexp"
	"strings"
)

// Word sets: words the combining rules read by name, beside the cues. A
// cue is found in every sentence and counts as a part of it; a set is
// only looked for where a rule asks: in a sentence, at its start, in its
// last clause, or in a cue's words. Their patterns come from the content,
// like the cues'.
const (
	SetOver      = "over"         // a meeting told of as over: came, went, 来てくれた
	SetHome      = "home"         // the writer's home, in the words of a private cue: my place, うち
	SetApology   = "apology"      // an apology in any words: ごめん, sorry
	SetClause    = "clause-break" // where a clause starts: ", so", から、, けど、
	SetPast      = "past"         // something done or thanked for, not a plan: thanks, 楽しかった
	SetTurn      = "turn"         // a "but" that opens a sentence: でも, but
	SetOwnNo     = "own-no"       // the writer's own no: I can't, I won't
	SetBareFills = "bare-filler"  // words that may stand beside a contact named alone: your, って
	SetTopic     = "topic"        // a sentence that only names what was asked: 連絡先の件, LINEくらいで
	SetClock     = "clock"        // an hour set for a meeting: 7時に, 19時
	SetHurtNo    = "hurt-no"      // a no told of as what hurts, in guilt's words: 避けられてる
	SetGiven     = "given"        // what the others gave, in a comparison's words: フォローしてくれた, 次は…の番
	SetLetDown   = "let-down"     // a sentence that is only a let-down: 残念です, 残念…
	SetSmallTalk = "small-talk"   // a greeting or a line of small talk, at a sentence's start: hi, hope your week's going ok
	SetLookBack  = "look-back"    // words of asking again that, beside a why, only point to the ask it is about: this time, the dinner invite, since I asked
	SetReplyNo   = "reply-no"     // a no as one answers an ask, in a quoted reply: i'll pass, maybe another time, 遠慮しておきます
	SetSadFace   = "sad-face"     // a sad face, read in the draft as written (emoji are gone once normalized): 😢, 🥺, (；ω；)
	SetPlainMeal = "plain-meal"   // a meal named as an outing but not as a private one: lunch Thursday?, grab lunch
	SetMakeLight = "make-light"   // words that make what follows small, ending where it starts: it was just, not asking for much, just
	SetCount     = "count"        // the reader's nos counted: every time, twice, three times
	SetOwnAsks   = "own-asks"     // the writer's own asks counted: I asked you out twice
	SetToldAsk   = "told-ask"     // the writer's earlier ask told of as done: I know I asked about LINE a while back
	SetMsgAnswer = "msg-answer"   // the answer to a message sent, in the reply cue's words: 返事, 返信, reply
	SetDay       = "day"          // a day offered, in the words of the alt cue: 来週, 土曜, next week
	SetPlanTold  = "plan-told"    // a sentence that ends on a plan told as settled: 飲み行くよ！
	SetBrooding  = "brooding"     // the writer brooding, sleep lost: 眠れなかった, ずっと考えてる
	SetWaited    = "waited"       // a wait told as long: もう1週間だよ, ずっと待ってるんだけど
	SetAck       = "ack"          // a sentence that only takes an answer in: そっか…, そうなんですね
	SetSaidSo    = "said-so"      // the writer's own word held up: 送るって言ったのに, 空けといてって言ったよね
	SetWasItMe   = "was-it-me"    // asking whether the no was the writer's fault or the reader's dislike: 俺なんかした？, 私のこと嫌い？, is it me?
	SetGranted   = "granted"      // a sentence that ends taking the yes for granted: 来てくれるよね？, 行けるでしょ？, you're coming, right?
	SetAgainst   = "against"      // others set against the reader, read from a comparison's words on: 教えてくれたのになー, 来てくれたけどね, except you
	SetDeparture = "departure"    // a departure on a near day: I'm leaving Friday, since you leave tomorrow
	SetInvite    = "invite"       // the writer's invitation named as such, no outing named: 誘ってるのに, 誘われたら
	SetPointer   = "pointer"      // an earlier ask pointed back to without naming what it was: the thing, my question, what I suggested
	SetSulk      = "sulk"         // a sentence that is only a sulky word: Cool cool., Wow., Nice.
	SetTwoOnly   = "two-only"     // a group told to be only the two of them or the writer's own: team = us two, it's me and my roommate
	SetBareNo    = "bare-no"      // a sentence that only asks whether it is a no: no?, so that's a no?
	SetToday     = "today"        // today named in a sentence of its own, before the meeting: 今日は荷物多いでしょ？
	SetOwnNoTold = "own-no-told"  // the writer's own no told of as done: お誘いをお断りしてしまった
	SetOthersYes = "others-yes"   // others told as having said yes to the meeting: Ken and Aya all said yes to the trip
	SetBetter    = "works-better" // whether another time or form does better: Does that work better?
	SetInstead   = "instead"      // the refused meeting made small or moved: I could do today instead, it's just one evening
	SetNuisance  = "nuisance"     // a sentence that only presumes the writer was a nuisance: ご迷惑でしたよね
	SetWhenOnly  = "when-only"    // a sentence that asks only which day: thurs or fri?, let me know which date works
	SetReach     = "reach"        // reaching the reader outside the channels at hand: reach you, get hold of you
	SetRoster    = "roster"       // a work list or sheet where contacts are listed: the team sheet, 名簿, 連絡網
	SetKeepOff   = "keep-off"     // a contact kept off such a list, in the words of the no: rather not share, 載せたくない
	SetWorkLine  = "work-line"    // a work channel: the office line, a desk extension, 代表番号, 内線
	SetLeftOut   = "left-out"     // the writer left out alone, at the start of a no's words: 私にだけ, 俺だけ
	SetThanked   = "thanked"      // thanks for how something was taken or told: thanks for understanding, お気遣いありがとうございます
	SetQuoteOn   = "quote-on"     // words that go on with a quote the split cut at a trailing mark, at a sentence's start: って言ってた
	SetTodayFree = "today-free"   // today told as a day the reader is free or done early: 今日は休みでしょ, 今日は早上がりやろ
)

// Sets lists every set ID; the content must give patterns for each.
var Sets = []string{SetOver, SetHome, SetApology, SetClause, SetPast, SetTurn, SetOwnNo, SetBareFills, SetTopic, SetClock, SetHurtNo, SetGiven, SetLetDown, SetSmallTalk, SetReplyNo, SetLookBack, SetSadFace, SetPlainMeal, SetMakeLight, SetCount, SetOwnAsks, SetToldAsk, SetMsgAnswer, SetDay, SetPlanTold, SetBrooding, SetWaited, SetAck, SetSaidSo, SetWasItMe, SetGranted, SetAgainst, SetDeparture, SetInvite, SetPointer, SetSulk, SetTwoOnly, SetBareNo, SetToday, SetOwnNoTold, SetOthersYes, SetBetter, SetNuisance, SetInstead, SetWhenOnly, SetReach, SetRoster, SetKeepOff, SetWorkLine, SetLeftOut, SetThanked, SetQuoteOn, SetTodayFree}

// wordSet is a set compiled as one expression of all its patterns, read
// with katakana as hiragana like the cues. A set the content does not
// give finds nothing.
type wordSet struct {
	re *regexp.Regexp
}

// compileSet compiles the patterns of a set, each first on its own so that
// every one that does not compile is reported; the set is built from the
// rest.
func compileSet(cs CueSpec) (*wordSet, []error) {
	var errs []error
	var parts []string
	for _, p := range cs.Match {
		fp := foldKana(p)
		if _, err := regexp.Compile(fp); err != nil {
			errs = append(errs, PatternError{Cue: cs.ID, Pattern: p, Err: err, Set: true})
			continue
		}
		parts = append(parts, "(?:"+fp+")")
	}
	if len(parts) == 0 {
		return &wordSet{}, errs
	}
	return &wordSet{re: regexp.MustCompile(strings.Join(parts, "|"))}, errs
}

func (d *Detector) set(id string) *wordSet {
	if w := d.sets[id]; w != nil {
		return w
	}
	return &wordSet{}
}

// in reports whether the set's words are in s.
func (w *wordSet) in(s string) bool {
	return w.re != nil && w.re.MatchString(foldKana(s))
}

// first returns where the set's words first are in s.
func (w *wordSet) first(s string) []int {
	if w.re == nil {
		return nil
	}
	return w.re.FindStringIndex(foldKana(s))
}

// opens reports whether s starts with the set's words.
func (w *wordSet) opens(s string) bool {
	loc := w.first(s)
	return loc != nil && loc[0] == 0
}

// lastEnd returns where the set's last words in s end, or -1.
func (w *wordSet) lastEnd(s string) int {
	if w.re == nil {
		return -1
	}
	locs := w.re.FindAllStringIndex(foldKana(s), -1)
	if len(locs) == 0 {
		return -1
	}
	return locs[len(locs)-1][1]
}

// fills reports whether s is made of the set's words alone, one after the
// other (an empty s is).
func (w *wordSet) fills(s string) bool {
	if s == "" {
		return true
	}
	if w.re == nil {
		return false
	}
	at := 0
	for _, loc := range w.re.FindAllStringIndex(foldKana(s), -1) {
		if loc[0] != at {
			return false
		}
		at = loc[1]
	}
	return at == len(s)
}

// strip returns s (folded) with the set's words taken out.
func (w *wordSet) strip(s string) string {
	if w.re == nil {
		return foldKana(s)
	}
	return w.re.ReplaceAllString(foldKana(s), " ")
}
