package tone

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// The rules that turn cues into flags. A cue counts in its own sentence:
// "もう一度資料を送ります。よかったらLINE交換しませんか" asks for LINE the
// first time, because the "again" is about the documents. A sentence about
// a work matter (資料, the client, a deadline) and no private contact or
// meeting lends none of its cues to a personal ask.

type sentence map[string][]Hit

func (s sentence) has(ids ...string) bool {
	for _, id := range ids {
		if len(s[id]) > 0 {
			return true
		}
	}
	return false
}

// personal: the sentence names a private contact, a meeting that is
// private whatever else is said (the two of us, a date), or a meeting not
// with a group and not about work.
func (s sentence) personal() bool {
	return s.has(CueContact, CuePrivate) || s.has(CueMeeting) && !s.has(CueGroup, CueWork)
}

// personalCues are the cues that make a sentence personal.
var personalCues = []string{CueContact, CuePrivate, CueMeeting}

// why: the sentence asks why they said no.
func (s sentence) why() bool {
	return s.has(CueWhyNo) || s.has(CueReason) && s.has(CueRefusal, CueDeclined)
}

// work: the sentence is about a work matter and nothing private.
func (s sentence) work() bool { return s.has(CueWork) && !s.personal() }

// asking returns what in s asks: a request or a question, a demand, or a
// comparison with others that names a contact or shows the reader's no
// (a comparison about an evening that is over asks for nothing).
//
// A comparison about a meeting asks for it too when it does not tell of
// one that is over (text is the sentence): "you'd hang out with the
// interns but not me", 「他の人とはご飯行ってるよね」 hold the others up as
// the reason to come; "everyone else came to my birthday dinner" does not.
func (s sentence) asking(d *Detector, compares bool, text string) []Hit {
	ask := s.evidence(CueAsk, CueDemand, CueAlt)
	// (Or the writer's home: "everyone has been over to my place",
	// 「みんなうちに遊びに来てる」.)
	meets := s.has(CueMeeting, CuePrivate) && !s.has(CueGroup) && !s.work() && !d.set(SetOver).in(text)
	// (Or the comparison's own words tell what the others gave, or name
	// the reader next in line (set given): 「みんな快くフォローしてくれた
	// のに」, 「ほかの子とはLINE交換したから、あとは森さんの番！」.)
	given := s.hitIn(CueCompare, d.set(SetGiven))
	if compares && s.has(CueCompare) && (s.has(CueContact, CueRefusal) || meets || given || s.hitIn(CuePrivate, d.set(SetHome))) {
		ask = append(ask, s[CueCompare]...)
	}
	return ask
}

// chases: the sentence presses for an answer still owed ("返事まだ？",
// "still waiting for an answer", "昨日の話、今日中に返事ちょうだい").
func (s sentence) chases() bool {
	return s.has(CueReply) && s.has(CueAgain) && !s.has(CueGroup)
}

// asksIfStillNo: words of asking again that hold the no itself ("まだ
// ダメなの？", "still a no?").
func (s sentence) asksIfStillNo() bool {
	for _, a := range s[CueAgain] {
		for _, r := range s[CueRefusal] {
			if strings.Contains(a.Norm, r.Norm) {
				return true
			}
		}
	}
	return false
}

// reproaches: the sentence voices a feeling or a reproach about the
// reader's no and asks nothing ("連絡先も教えてもらえないんだ…", "断られて
// 傷つきました"): guilt, no question mark, no demand, no comparison (in
// it or next to it), no other offer, and whatever reads as an ask is the
// no itself (もらえない in 教えてもらえない). Such a sentence presses
// without asking.
func (s sentence) reproaches(text string) bool {
	return s.has(CueGuilt, CueFavour) && s.toldNo(text)
}

// toldNo: the sentence tells of the reader's no and asks nothing but the
// no itself (reproaches without the feeling: "LINE教えてくれないんだ").
func (s sentence) toldNo(text string) bool {
	if !s.has(CueRefusal, CueDeclined, CueStill) || s.has(CueDemand, CueAlt, CueCompare, CueSoften) || strings.Contains(text, "?") {
		return false
	}
	// (Words of asking again count as an ask unless they name the no
	// told of: "the offer stands", 「LINEもダメなんて」, or are the no
	// still held: "sad that we're still not LINE friends".)
	if s.has(CueAgain) && !s.has(CueDeclined) && !s.againStill() {
		return false
	}
	// (Nor does the "かな" of the writer wondering aloud in guilt:
	// 「ご飯も行ってくれないなんて、嫌われてるのかな」.)
	nos := s.evidence(CueRefusal, CueDeclined, CueStill, CueGuilt)
	for _, a := range s[CueAsk] {
		if !slices.ContainsFunc(nos, func(r Hit) bool { return strings.Contains(a.Norm, r.Norm) || strings.Contains(r.Norm, a.Norm) }) {
			return false
		}
	}
	return true
}

// againStill: every word of asking again in s is part of a no still
// held (a hit of the still cue).
func (s sentence) againStill() bool {
	for _, a := range s[CueAgain] {
		if !slices.ContainsFunc(s[CueStill], func(h Hit) bool { return strings.Contains(h.Norm, a.Norm) }) {
			return false
		}
	}
	return true
}

// groups returns the groups named in s that are not the others of a norm
// or of something already done ("the rest of the team always does", "I've
// told the others you'll be there"), nor the work tie said to be over
// ("we won't be colleagues anymore": a no no longer held that holds the
// group).
func (s sentence) groups() []Hit {
	var out []Hit
	for _, g := range s[CueGroup] {
		if !slices.ContainsFunc(s.evidence(CueNorm, CueSunk, CueStill), func(n Hit) bool { return strings.Contains(n.Norm, g.Norm) }) {
			out = append(out, g)
		}
	}
	return out
}

// hitIn: some hit of cue id in s holds words of the set w.
func (s sentence) hitIn(id string, w *wordSet) bool {
	return slices.ContainsFunc(s[id], func(h Hit) bool { return w.in(h.Norm) })
}

// asksPrivate: s names something private and asks or demands.
func (s sentence) asksPrivate() bool { return s.personal() && s.has(CueAsk, CueDemand) }

// noteOfNo: s names something private with a no and asks nothing (no
// ask, demand, softener or withdrawal), not at work and not as a why:
// "drinks are out", 「インスタがだめなのはわかった」.
func (s sentence) noteOfNo() bool {
	return s.personal() && s.has(CueRefusal) && !s.has(CueAsk, CueDemand, CueSoften, CueWithdraw) && !s.work() && !s.why()
}

// guiltAlone: s voices guilt and asks nothing (no ask, demand, other
// offer, softener or withdrawal), not at work.
func (s sentence) guiltAlone() bool {
	return s.has(CueGuilt) && !s.has(CueAsk, CueDemand, CueAlt, CueSoften, CueWithdraw) && !s.work()
}

// pushes: s asks, demands or offers something else, with no softener or
// withdrawal, not at work and not as a why.
func (s sentence) pushes() bool {
	return !s.work() && !s.why() && !s.has(CueSoften, CueWithdraw) && s.has(CueAsk, CueDemand, CueAlt)
}

// asksAnswer: s asks or demands an answer, not of a group.
func (s sentence) asksAnswer() bool {
	return s.has(CueReply) && s.has(CueAsk, CueDemand) && !s.has(CueGroup)
}

// asksAgainPlain: s asks again, not of a group and not as a why.
func (s sentence) asksAgainPlain() bool {
	return s.has(CueAgain) && s.has(CueAsk) && !s.has(CueGroup) && !s.why()
}

// asksPastNo: s tells of the reader's no and asks, not as a why and not
// at work ("I know you said no, but drinks Friday?").
func (s sentence) asksPastNo() bool {
	return s.has(CueDeclined) && s.has(CueAsk) && !s.why() && !s.work()
}

// pointsToNo: s asks again or tells of the no, about something private,
// or only names the no ("The no, I mean.").
func (s sentence) pointsToNo() bool {
	return s.has(CueAgain, CueDeclined) && (s.personal() || s.has(CueDeclined) && s.only(CueDeclined, CueRefusal))
}

// hardNo: s tells of a no, held or still held, that no softener in it
// allows.
func (s sentence) hardNo() bool { return s.has(CueRefusal, CueDeclined, CueStill) && !s.has(CueSoften) }

// noAlone: s tells of the reader's no and holds nothing else but what the
// no was about (a quoted answer: "> Sorry, I'd rather not share my
// number").
func (s sentence) noAlone() bool {
	return s.has(CueDeclined) && s.only(CueDeclined, CueRefusal, CueContact, CuePrivate, CueMeeting)
}

// only reports whether s holds no cue but the given ones.
func (s sentence) only(ids ...string) bool {
	for id, hits := range s {
		if len(hits) > 0 && !slices.Contains(ids, id) {
			return false
		}
	}
	return true
}

// outsideSoften collects the hits of the given cues in s (text is the
// sentence) that are not words of a softener or its ending ("しない" in
// "気にしないで", "ください" in "気にしないでください").
func (s sentence) outsideSoften(text string, ids ...string) []Hit {
	return slices.DeleteFunc(s.evidence(ids...), func(a Hit) bool {
		return slices.ContainsFunc(s[CueSoften], func(h Hit) bool {
			return strings.Contains(h.Norm, a.Norm) || strings.Contains(text, h.Norm+a.Norm)
		})
	})
}

// lend adds every hit of cue from in s as a hit of cue to as well: the
// same words, read as the other part too.
func (s sentence) lend(from, to string) {
	for _, h := range s[from] {
		h.Cue = to
		s[to] = append(s[to], h)
	}
}

// readAs reads every hit of cue from in s as a hit of cue to instead.
func (s sentence) readAs(from, to string) {
	s.lend(from, to)
	delete(s, from)
}

// evidence collects the hits of the given cues in s.
func (s sentence) evidence(ids ...string) []Hit {
	var out []Hit
	for _, id := range ids {
		out = append(out, s[id]...)
	}
	return out
}

// combine reads the cues found in each sentence (texts are the sentences
// as normalized) into flags; quote makes a hit of words a rule found in a
// sentence; sad holds the draft's sad face, if it has one.
//
// It runs in three stages, each a list of named steps run in order (a
// later step reads what an earlier one wrote):
//   - read (combine_read.go): the steps rewrite the sentences' cues where
//     the draft around a sentence tells what its words are about;
//   - ask (combine_ask.go): what points back to a no, and whether the
//     draft asks for something private, again or as a plan stated;
//   - pressure (combine_pressure.go): the flags that press, sentence by
//     sentence and then over the whole draft.
func (d *Detector) combine(found []map[string][]Hit, texts []string, quote func(id string, i, lo, hi int) Hit, sad []Hit) []Flag {
	found, texts, quote = d.joinQuotes(found, texts, quote)
	found, texts, quote = d.dropSmallTalk(found, texts, quote)
	found, texts, quote = joinFragments(found, texts, quote)
	sents := make([]sentence, len(found))
	for i, f := range found {
		sents[i] = sentence(f)
	}
	c := &combiner{d: d, sents: sents, texts: texts, quote: quote, sad: sad, ev: map[string][]Hit{}, madeLight: map[int]bool{}, traded: -1, tradedFor: -1}
	c.read()
	c.ask()
	c.pressure()
	var flags []Flag
	for _, id := range Flags {
		if hits, ok := c.ev[id]; ok {
			flags = append(flags, Flag{ID: id, Evidence: hits})
		}
	}
	return flags
}

// combiner carries what the steps of combine share: the draft's sentences
// and their texts, and what the steps have found so far.
type combiner struct {
	d     *Detector
	sents []sentence
	texts []string
	quote func(id string, i, lo, hi int) Hit
	sad   []Hit

	// ev holds each flag's evidence (see add).
	ev map[string][]Hit

	// madeLight marks the sentences whose private contact or meeting is
	// made small (makeLight).
	madeLight map[int]bool
	// again: words of asking again or a no still held, outside work talk
	// (looksBack); back: what points back to an earlier no, again and the
	// nos shown (ask).
	again, back []Hit
	// traded and tradedFor are the sentence of a no and the one that
	// offers something else after it (tradeAfterNo), -1 without.
	traded, tradedFor int
	// asks: the draft asks for something private.
	asks bool
	// anyWork: a sentence is about work; softened: a softener eases the
	// ask (softenedOrWork).
	anyWork, softened bool
}

// add raises flag id with the hits as evidence, each hit once. The flag
// is raised even with no hits.
func (c *combiner) add(id string, hits ...Hit) {
	if _, ok := c.ev[id]; !ok {
		c.ev[id] = []Hit{}
	}
	for _, h := range hits {
		if !containsHit(c.ev[id], h) {
			c.ev[id] = append(c.ev[id], h)
		}
	}
}

// read rewrites the sentences' cues by what the draft around them tells:
// words of asking again that do not point back, an apology or a
// withdrawal that is followed by an ask, things that name a private
// meeting in context, and groups lent or not.
func (c *combiner) read() {
	c.answerAfterInvite()
	c.apologyThenBut()
	c.withdrawThenBut()
	c.withdrawThenWayBack()
	c.letDownBesideNo()
	c.sunkAsPlan()
	c.workBeforeAsk()
	c.softenerAsks()
	c.withdrawAsksAgain()
	c.threatNotWithdrawal()
	c.dropWithdrawn()
	c.othersCompared()
	c.othersLeftOut()
	c.silenceAsPrivate()
	c.inviteAsMeeting()
	c.rankedInvite()
	c.plainMealAsMeeting()
	c.dayAsMeeting()
	c.pointerAsked()
	c.pointerAlone()
	c.normOthers()
	c.groupOfTwo()
	c.lendGroups()
	c.makeLight()
	c.toldAskOnly()
	c.todayBefore()
	c.todayAfter()
	c.ownNoOnly()
	c.altAfterWhy()
	c.apologyThenTry()
	c.othersByWork()
	c.givenAmongWork()
	c.othersDidWork()
	c.workLineForNo()
	c.thankedThing()
}

// ask reads what points back to a no, then whether and how the draft
// asks for something private: contact-ask, and the demand of a plan
// stated.
//
// The steps that collect what points back return it rather than append
// to the combiner's fields: an append through c would send c's slices and
// maps to the heap (four more allocations a check).
func (c *combiner) ask() {
	again, declined := c.looksBack()
	declined = c.tradeAfterNo(declined)
	declined = c.comparisonBesideNo(declined)
	declined = c.comparisonAgainst(declined)
	declined = c.guiltThenPush(declined)
	back := append(slices.Clip(again), declined...)
	c.again = again

	c.contactAsk()
	back = c.whyComparesAsk(back)
	back = c.bareWhyCompares(back)
	back = c.whyBesideOthers(back)
	c.comparisonAsks()
	c.othersYesAsks()
	c.silenceAsks()
	c.tradedAsks()
	back = c.comebackAsk(back)
	back = c.bareNoChase(back)
	back = c.betterAfterNo(back)
	back = c.whyThenOffer(back)
	back = c.countedNoAsks(back)
	c.toldNoOffer()
	c.reachPastNo()
	c.back = back
	c.softenedOrWork()
	c.ackOfNo()
	c.planAtHour()
	c.planTold()
	c.planPrivate()
	c.planInvite()
}

// pressure reads the flags that press, sentence by sentence and then
// over the whole draft, in the order their evidence is listed.
func (c *combiner) pressure() {
	// Asking again: the ask together with what points back to a no,
	// or a "you said no, but..." with an ask of its own.
	if c.asks && len(c.back) > 0 {
		c.add(RepeatAsk, c.back...)
		c.add(RepeatAsk, c.ev[ContactAsk]...)
	}
	for i := range c.sents {
		c.repeatAskAt(i)
		c.reasonAt(i)
		c.demandAt(i)
		c.rushAt(i)
		c.countedNosAt(i)
		c.guiltAt(i)
		c.compareGuiltAt(i)
		c.sunkGuiltAt(i)
		c.hintAt(i)
	}
	c.grantedDemand()
	c.brooding()
	c.departure()
	c.waited()
	c.saidSo()
	c.onlyWhy()
	c.wasItMeWhy()
	c.wasItMeGuilt()
	c.sadFace()
	c.sadAck()
	c.sulkBesideNo()
	c.sulkyWithdrawal()
	c.wasItMeGuiltAgain()
	c.whenAfterNo()
	c.noWayOut()
}

// asksElsewhere: a sentence other than sents[i] asks for something
// personal or asks again (a plain meal included), and takes nothing back.
// (Words of asking again in a sentence about work do not ask again: 「この
// 前は急に番号を聞いちゃってごめんなさい。…あれから考えたんですけど、まずは
// 仕事のことで色々相談させてもらえたら嬉しいです。」)
func (c *combiner) asksElsewhere(i int) bool {
	for j, s := range c.sents {
		if j != i && !s.has(CueWithdraw) && s.has(CueAsk, CueDemand) && (s.personal() || s.has(CueAgain) && !s.work() || c.d.set(SetPlainMeal).in(c.texts[j]) && !s.has(CueWork, CueGroup)) {
			return true
		}
	}
	return false
}

// backsWhy: a sentence that tells of the meeting or the ask as past, with
// no question, next to a why (or a bare "what changed?") backs the why
// and asks nothing: "What changed? Last week you were up for the hike."
// (Not one that makes the meeting small: "Why not? It was just coffee."
// pushes.)
func (c *combiner) backsWhy(i int) bool {
	if c.madeLight[i] {
		return false
	}
	// (Or tells of the no itself: "連絡先交換、断られたの私だけらしいね。
	// なんで？".)
	s, texts := c.sents[i], c.texts
	return near(c.sents, i, func(s sentence) bool { return s.has(CueWhyNo, CueReason) && !s.work() }) && !strings.Contains(texts[i], "?") && (c.d.set(SetOver).in(texts[i]) || s.has(CueDeclined) && !s.has(CueDemand, CueAlt, CueAgain))
}

// aboutWork: sents[i] is about work, or, naming no no and nothing
// personal, stands next to work talk (a bare "why not?" there is about
// the work).
func (c *combiner) aboutWork(i int) bool {
	s := c.sents[i]
	return s.work() || !s.has(CueDeclined) && !s.personal() && nearWork(c.sents, i)
}

// clockNear: an hour is set for the meeting of sents[i], in its own
// sentence or in one next to it that names no meeting of its own; neither
// is a question or tells of something past.
func (d *Detector) clockNear(sents []sentence, texts []string, i int) bool {
	if strings.Contains(texts[i], "?") || d.set(SetPast).in(texts[i]) {
		return false
	}
	for _, j := range []int{i, i - 1, i + 1} {
		if j < 0 || j >= len(sents) || j != i && (sents[j].has(CueMeeting) || strings.Contains(texts[j], "?") || d.set(SetPast).in(texts[j])) {
			continue
		}
		if d.set(SetClock).in(texts[j]) {
			return true
		}
	}
	return false
}

// namesOnly reports whether every ask in the draft is a whole sentence
// that names a meeting with its day as an invitation ("Karaoke tonight!",
// "Brunch on Sunday"), no form of asking ("Let's get dinner").
func namesOnly(sents []sentence, texts []string) bool {
	for i, s := range sents {
		for _, h := range s[CueAsk] {
			if !s.has(CueMeeting) || strings.TrimRight(h.Norm, "!.~ ") != strings.TrimRight(texts[i], "!.~ ") {
				return false
			}
		}
	}
	return true
}

// fragment: a sentence of one or two Latin words that asks nothing by a
// question mark ("DINNER.", "Tonight!", "Saturday, 8pm.").
func fragment(text string) bool {
	if strings.Contains(text, "?") || strings.Count(strings.TrimSpace(text), " ") > 1 {
		return false
	}
	latin := false
	for _, r := range text {
		switch {
		case r >= 'a' && r <= 'z':
			latin = true
		case r >= utf8.RuneSelf:
			return false
		}
	}
	return latin
}

// joinFragments reads a run of two fragments or more as one sentence
// with the one that follows them, as a telegraphic message means it
// ("DINNER. TONIGHT. NO EXCUSES"); a fragment alone ("Figures.") stays
// a sentence. quote is given the sentences' indexes and
// offsets as they were.
func joinFragments(found []map[string][]Hit, texts []string, quote func(id string, i, lo, hi int) Hit) ([]map[string][]Hit, []string, func(id string, i, lo, hi int) Hit) {
	type part struct{ i, at int }
	var f2 []map[string][]Hit
	var t2 []string
	var parts [][]part
	for i := range found {
		k := len(t2) - 1
		if k >= 0 && fragment(texts[parts[k][len(parts[k])-1].i]) && (len(parts[k]) > 1 || fragment(texts[i])) {
			merged := map[string][]Hit{}
			for _, m := range []map[string][]Hit{f2[k], found[i]} {
				for id, hits := range m {
					merged[id] = append(merged[id], hits...)
				}
			}
			f2[k] = merged
			parts[k] = append(parts[k], part{i, len(t2[k]) + 1})
			t2[k] += " " + texts[i]
			continue
		}
		f2 = append(f2, found[i])
		t2 = append(t2, texts[i])
		parts = append(parts, []part{{i, 0}})
	}
	if len(t2) == len(texts) {
		return found, texts, quote
	}
	return f2, t2, func(id string, k, lo, hi int) Hit {
		p := parts[k][0]
		for _, q := range parts[k] {
			if q.at <= lo {
				p = q
			}
		}
		hi = min(hi-p.at, len(texts[p.i]))
		return quote(id, p.i, lo-p.at, hi)
	}
}

// smallTalkCues are the cues a line of small talk may hold and still be
// left out: a question, a softener, a thing or work named, a group ("Hope
// the client call went ok!", "hope the team offsite wasn't too rough").
var smallTalkCues = []string{CueAsk, CueSoften, CueWork, CueObject, CueGroup}

// dropSmallTalk leaves out the sentences that greet or make small talk
// (they open with the words of the set SetSmallTalk: "Hi hi!", "Hope your
// week's going ok", "P.S.") and hold no cue but those of smallTalkCues,
// so that the sentences on either side of one read as neighbours and its
// words lend nothing to the rest: the "ok" of a wish softens no ask, the
// client of a wish makes no work talk. quote is given the sentences'
// indexes as they were.
func (d *Detector) dropSmallTalk(found []map[string][]Hit, texts []string, quote func(id string, i, lo, hi int) Hit) ([]map[string][]Hit, []string, func(id string, i, lo, hi int) Hit) {
	var keep []int
	for i, f := range found {
		if d.set(SetSmallTalk).opens(texts[i]) && sentence(f).only(smallTalkCues...) {
			continue
		}
		keep = append(keep, i)
	}
	if len(keep) == len(found) {
		return found, texts, quote
	}
	f2, t2 := make([]map[string][]Hit, len(keep)), make([]string, len(keep))
	for k, i := range keep {
		f2[k], t2[k] = found[i], texts[i]
	}
	return f2, t2, func(id string, i, lo, hi int) Hit { return quote(id, keep[i], lo, hi) }
}

// personalTail: the sentence's last clause (after the last words of the
// set SetClause) names a private meeting or contact, asks (a question or
// an ask cue within it), and names no work.
func (d *Detector) personalTail(s sentence, text string) bool {
	at := d.set(SetClause).lastEnd(text)
	if at < 0 {
		return false
	}
	tail := text[at:]
	in := func(ids ...string) bool {
		for _, id := range ids {
			for _, h := range s[id] {
				if strings.Contains(tail, h.Norm) {
					return true
				}
			}
		}
		return false
	}
	return in(CueMeeting, CuePrivate, CueContact) && !in(CueWork, CueGroup) && (strings.Contains(tail, "?") || in(CueAsk, CueDemand))
}

// brief: a sentence of a few words (at most 8, or 25 characters
// without spaces).
func brief(text string) bool {
	if strings.Count(strings.TrimSpace(text), " ") < 8 && strings.Contains(text, " ") {
		return true
	}
	return !strings.Contains(text, " ") && utf8.RuneCountInString(text) <= 25
}

// reproachAlone reports whether sents[i] reproaches a no and asks nothing
// (see reproaches), with no comparison with others next to it either.
//
// The feeling may sit in a sentence of its own next to the no told of
// ("ご飯、行ってくれないんですね。寂しいです", "You won't even get a drink
// with me. That hurts."): a sentence of guilt that asks nothing, names
// nothing private and holds no question.
func reproachAlone(sents []sentence, texts []string, i int) bool {
	if near(sents, i, func(s sentence) bool { return s.has(CueCompare) }) {
		return false
	}
	// (Nor one that a sentence asking again or offering another thing
	// follows: "you've knocked me back for a pint twice now. Third time
	// lucky?", "You keep blowing me off for lunch. Thursday then?" push
	// past the nos they count.)
	if i+1 < len(sents) && (sents[i+1].has(CueAgain) && sents[i+1].has(CueAsk, CueDemand) || sents[i+1].has(CueAlt)) && !sents[i+1].work() {
		return false
	}
	if sents[i].reproaches(texts[i]) {
		return true
	}
	// (Nor with a comparison anywhere in the draft: "飲み、来てくれないんだ。
	// 残念。他の人とは行ってるのにね" holds the others up.)
	if !sents[i].toldNo(texts[i]) || slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueCompare) }) {
		return false
	}
	for _, j := range []int{i - 1, i + 1} {
		if j < 0 || j >= len(sents) {
			continue
		}
		// (Unless a push follows the feeling: "You said no to drinks.
		// That hurt. Come on, one beer?")
		if feeling(sents[j], texts[j]) && !(j == i+1 && pushAfter(sents, texts, i) != j) {
			return true
		}
	}
	return false
}

// bareWhy reports whether sents[i] is a bare "why?" in any words after a
// sentence that tells of a no ("…but told me no. What gives?"): it asks
// why, not for what the no was about.
func bareWhy(sents []sentence, i int) bool {
	s := sents[i]
	return i > 0 && s.has(CueReason) && s.only(CueReason, CueAsk) && sents[i-1].has(CueRefusal, CueDeclined) && !sents[i-1].work()
}

// whyCompares reports whether sents[i] compares the reader with others
// in the sentence of a why or next to one (returned) that is about
// something private or a no and not about work.
func whyCompares(sents []sentence, i int) (int, bool) {
	s := sents[i]
	if !s.has(CueCompare) {
		return 0, false
	}
	for _, j := range []int{i, i - 1, i + 1} {
		if j < 0 || j >= len(sents) {
			continue
		}
		w := sents[j]
		// (A comparison that names an office or a team is not work talk
		// beside a why about a contact: "Why won't you add me on Insta?
		// Half the office follows me already.")
		if !(w.why() || w.has(CueReason)) || w.work() || s.work() && !w.personal() || nearWork(sents, j) && !w.personal() && !s.personal() {
			continue
		}
		if s.personal() || w.personal() || w.has(CueWhyNo, CueRefusal, CueDeclined) || s.has(CueRefusal) {
			return j, true
		}
	}
	return 0, false
}

// feeling: a sentence of guilt alone, that asks nothing, names nothing
// private and holds no question ("That hurt.", "Honestly that stung.").
func feeling(s sentence, text string) bool {
	return s.has(CueGuilt, CueFavour) && !s.has(CueAsk, CueDemand, CueAlt, CueSoften, CueAgain, CueReason, CueWhyNo) && !s.personal() && !strings.Contains(text, "?")
}

// pushAfter returns the sentence that follows sents[i], past one
// sentence of feeling when a push comes after it (an ask, a demand or
// another thing offered): what a no told of is read with.
func pushAfter(sents []sentence, texts []string, i int) int {
	if i+2 < len(sents) && feeling(sents[i+1], texts[i+1]) && sents[i+2].has(CueAsk, CueDemand, CueAlt) && !sents[i+2].personal() {
		return i + 2
	}
	return i + 1
}

// near reports whether a sentence next to sents[i] is one that is.
func near(sents []sentence, i int, is func(sentence) bool) bool {
	return i > 0 && is(sents[i-1]) || i+1 < len(sents) && is(sents[i+1])
}

// whyAsksAgain reports whether a why in s is itself read as asking
// again, the whole question ("Why not LINE?" names what it asks for
// once more; "what's the big deal" inside a why asks nothing itself).
func (s sentence) whyAsksAgain() bool {
	for _, a := range s[CueAgain] {
		if !strings.HasSuffix(a.Norm, "?") {
			continue
		}
		for _, w := range s[CueWhyNo] {
			if strings.Contains(a.Norm, w.Norm) || strings.Contains(w.Norm, a.Norm) {
				return true
			}
		}
	}
	return false
}

// groupEvent reports whether s tells of a group's own meeting with
// nothing private in it ("Hi everyone, team nomikai on the 24th").
func (s sentence) groupEvent() bool {
	return len(s.groups()) > 0 && !s.has(CueContact, CuePrivate, CueCompare, CueRefusal, CueGuilt, CueFavour)
}

// nearGroupEvent reports whether a sentence next to sents[i] tells of a
// group's own meeting.
func nearGroupEvent(sents []sentence, i int) bool {
	return near(sents, i, sentence.groupEvent)
}

// nearWork reports whether a sentence next to sents[i] is about work.
func nearWork(sents []sentence, i int) bool {
	return near(sents, i, sentence.work)
}

func containsHit(hits []Hit, h Hit) bool {
	for _, o := range hits {
		if o == h {
			return true
		}
	}
	return false
}

// ownNo: the sentence holds the writer's own no (set own-no). A no in a
// line quoted from the reader's reply is theirs, not the writer's:
// "> 来週のランチはちょっと難しいです", "> 飲みは遠慮しときます".
func (d *Detector) ownNo(text string) bool {
	return d.set(SetOwnNo).in(text) && !quotedLine(text, 0)
}

// The draft as a whole, as the steps of combine read it.

// anyHas: some sentence holds one of the cues.
func (c *combiner) anyHas(ids ...string) bool {
	return slices.ContainsFunc(c.sents, func(s sentence) bool { return s.has(ids...) })
}

// anyPersonal: some sentence is personal.
func (c *combiner) anyPersonal() bool {
	return slices.ContainsFunc(c.sents, sentence.personal)
}

// privateWorkOrGroup: some sentence is personal or names work or a group.
func (c *combiner) privateWorkOrGroup() bool {
	return slices.ContainsFunc(c.sents, func(s sentence) bool { return s.personal() || s.has(CueWork, CueGroup) })
}

// namesSomething: some sentence is personal or names work, a group or
// another matter (an object); a draft without names nothing the words of
// its ask could be about.
func (c *combiner) namesSomething() bool {
	return slices.ContainsFunc(c.sents, func(s sentence) bool { return s.personal() || s.has(CueWork, CueGroup, CueObject) })
}

// anyQuestion: some sentence holds a question mark.
func (c *combiner) anyQuestion() bool {
	return slices.ContainsFunc(c.texts, func(t string) bool { return strings.Contains(t, "?") })
}

// anyOwnNo: some sentence holds the writer's own no.
func (c *combiner) anyOwnNo() bool {
	return slices.ContainsFunc(c.texts, c.d.ownNo)
}

// anyOwnNoOrPast: some sentence holds the writer's own no or tells of
// something past.
func (c *combiner) anyOwnNoOrPast() bool {
	return slices.ContainsFunc(c.texts, func(t string) bool { return c.d.ownNo(t) || c.d.set(SetPast).in(t) })
}

// onlyWhys: every sentence holds nothing but a why and an ask.
func (c *combiner) onlyWhys() bool {
	return !slices.ContainsFunc(c.sents, func(s sentence) bool { return !s.only(CueReason, CueAsk) })
}

// question: sentence i holds a question mark.
func (c *combiner) question(i int) bool { return strings.Contains(c.texts[i], "?") }

// past: sentence i tells of something past (set past).
func (c *combiner) past(i int) bool { return c.d.set(SetPast).in(c.texts[i]) }

// inDraft: j is the index of a sentence of the draft.
func (c *combiner) inDraft(j int) bool { return j >= 0 && j < len(c.sents) }

// noOrFeeling: some sentence asks why, takes an ask back, voices guilt,
// holds a favour or a comparison up, tells of a no or hints.
func (c *combiner) noOrFeeling() bool {
	return c.anyHas(CueReason, CueWhyNo, CueWithdraw, CueGuilt, CueFavour, CueCompare, CueRefusal, CueDeclined, CueHint)
}

// hurtAlone: sentence i voices the hurt of the earlier ask's fate (set
// hurt-no, in the guilt's words) and asks nothing: no comparison, nothing
// done or owed, no silence reproached, no question in it and no ask next
// to it.
func (c *combiner) hurtAlone(i int) bool {
	s := c.sents[i]
	return s.hitIn(CueGuilt, c.d.set(SetHurtNo)) && !s.has(CueCompare, CueSunk, CueNorm, CueIgnored) && !c.question(i) &&
		!near(c.sents, i, func(t sentence) bool { return t.has(CueAsk, CueDemand, CueAlt, CueCompare) })
}

// offersDay: sentence s offers another day in a few words (set day, in
// an other-offer's words of at most 14 runes).
func (c *combiner) offersDay(s sentence) bool {
	return slices.ContainsFunc(s[CueAlt], func(h Hit) bool { return c.d.set(SetDay).in(h.Norm) && utf8.RuneCountInString(h.Norm) <= 14 })
}

// topicFirst: sentence i names the matter (set topic) in its opening
// clause.
func (c *combiner) topicFirst(i int) bool {
	at := strings.Index(c.texts[i], "、")
	return at > 0 && c.d.set(SetTopic).in(c.texts[i][:at])
}

// closesClause: the words of text that end at end close the sentence or
// a clause (a mark of punctuation ends them or follows).
func closesClause(text string, end int) bool {
	rest := text[end:]
	return rest == "" || strings.ContainsAny(text[end-1:end], ",.?!") || strings.HasPrefix(rest, ",") || strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "…")
}

// ownNo: sentence i holds the writer's own no.
func (c *combiner) ownNo(i int) bool { return c.d.ownNo(c.texts[i]) }

// joinQuotes reads a quote in 「」 or 『』 that the split cut at a mark
// inside it (「今はちょっと…」って言ってたけど, 「LINEはちょっと…。」って言われた)
// as one sentence with the words around it: the sentence that leaves the
// bracket open is joined with those that follow it up to the one that
// closes it, and the cues are found again in the whole, so that a
// pattern reads the quote with what is said of it. Only sentences that
// follow each other with nothing between are joined, and never a line
// quoted with ">". quote is given the sentences' indexes as they were.
func (d *Detector) joinQuotes(found []map[string][]Hit, texts []string, quote func(id string, i, lo, hi int) Hit) ([]map[string][]Hit, []string, func(id string, i, lo, hi int) Hit) {
	open := func(t string) bool {
		return strings.Count(t, "「") > strings.Count(t, "」") || strings.Count(t, "『") > strings.Count(t, "』")
	}
	// joins: texts[j+1] goes on with text (texts[i] to texts[j]): it closes
	// a quote text opened, neither being a quoted line, or it goes on with
	// a quote the split cut at texts[j]'s trailing mark.
	joins := func(text string, j int) bool {
		next := texts[j+1]
		closes := open(text) && !strings.HasPrefix(text, ">") && !strings.HasPrefix(next, ">") && strings.ContainsAny(next, "」』")
		return closes || d.quoteGoesOn(texts[j], next)
	}
	var f2 []map[string][]Hit
	var t2 []string
	var first []int
	for i := 0; i < len(texts); i++ {
		text, j := texts[i], i
		for j+1 < len(texts) && joins(text, j) {
			// (Nothing between: the next sentence starts where this one ends.)
			if quote(CueAsk, i, len(text), len(text)+len(texts[j+1])).Norm != texts[j+1] {
				break
			}
			j++
			text += texts[j]
		}
		if j == i {
			f2, t2, first = append(f2, found[i]), append(t2, text), append(first, i)
			continue
		}
		m := map[string][]Hit{}
		// (A full stop inside the quote is read as the trailing mark it
		// stands beside, which takes as many bytes, so that a pattern reads
		// past it: 「ちょっと…。」って.)
		s := foldKana(inQuoteStops(text))
		seen := d.lits.find(s)
		for _, id := range Cues {
			if c := d.cues[id]; c != nil {
				for _, h := range c.find(s, seen) {
					if lo, hi := trimSpan(text, h[0], h[1], isSpaceByte); lo < hi {
						m[id] = append(m[id], quote(id, i, lo, hi))
					}
				}
			}
		}
		// (An ask read from a sentence as a whole, a contact alone with a
		// question mark, is kept.)
		for k := i; k <= j; k++ {
			for _, h := range found[k][CueAsk] {
				if !slices.ContainsFunc(m[CueAsk], func(g Hit) bool { return strings.Contains(g.Norm, h.Norm) || strings.Contains(h.Norm, g.Norm) }) {
					m[CueAsk] = append(m[CueAsk], h)
				}
			}
		}
		f2, t2, first = append(f2, m), append(t2, text), append(first, i)
		i = j
	}
	if len(t2) == len(texts) {
		return found, texts, quote
	}
	return f2, t2, func(id string, k, lo, hi int) Hit { return quote(id, first[k], lo, hi) }
}

// inQuoteStops returns text with each 。 inside a 「」 or 『』 written as …
// (the same number of bytes).
func inQuoteStops(text string) string {
	var b strings.Builder
	depth := 0
	for _, r := range text {
		switch r {
		case '「', '『':
			depth++
		case '」', '』':
			depth = max(depth-1, 0)
		case '。':
			if depth > 0 {
				r = '…'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// quoteGoesOn: next goes on with a quote that the split cut at the
// trailing mark ending prev, with no bracket to show it (set quote-on,
// at next's start: 「LINEはちょっと…」 written without 「」, then って
// 言ってたけど). joinQuotes reads the two as one sentence, so that the
// words told back are read with what is said of them.
func (d *Detector) quoteGoesOn(prev, next string) bool {
	return !strings.HasPrefix(prev, ">") && strings.HasSuffix(prev, "…") && d.set(SetQuoteOn).opens(next)
}
