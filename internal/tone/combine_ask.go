package tone

import (
	"slices"
	"strings"
)

// looksBack collects what points back to an earlier no, outside work
// talk: asking again, or the no itself (declined).
func (c *combiner) looksBack() (again, declined []Hit) {
	d, sents, texts := c.d, c.sents, c.texts
	// What points back to an earlier no, outside work talk: asking again,
	// or the no itself.
	for i, s := range sents {
		if !s.work() {
			again = append(again, s.evidence(CueAgain)...)
			declined = append(declined, s.evidence(CueDeclined)...)
			// Reproaching silence chases an ask that was not answered
			// ("既読スルー", "why haven't you replied?").
			declined = append(declined, s.evidence(CueIgnored)...)
			// Guilt or a comparison that shows the reader's no ("お前
			// だけ教えてくれないの", "you'd hang out with Mark but not
			// me", "you can't even give me your number?") pushes past it.
			// Beside a demand, only a no told of as the hurt (set
			// hurt-no, in the guilt's words) does ("ランチくらい一緒に
			// 行ってよ、私だけ避けられてる"): a no the demand forbids
			// ("断らないでね") is none yet.
			if s.has(CueGuilt, CueCompare) && (!s.has(CueDemand) || s.hitIn(CueGuilt, d.set(SetHurtNo))) {
				declined = append(declined, s.evidence(CueRefusal)...)
			}
			// A no still held, or no longer held, about something private
			// ("まだ交換できない感じ？", "still can't tempt you", "doesn't
			// apply anymore?") looks back to it.
			if s.has(CueStill) && s.personal() {
				again = append(again, s.evidence(CueStill)...)
			}
			// A comparison that sets the others against the reader (set
			// against: "everyone follows me on Insta except you", "you're
			// the only one who hasn't", "Mark said yes, though") shows
			// the reader's no.
			if s.has(CueCompare) && d.set(SetAgainst).in(texts[i]) {
				declined = append(declined, s.evidence(CueCompare)...)
			}
		}
	}
	return again, declined
}

// tradeAfterNo: trading across after a no: a private contact or meeting
// named with a no, in a sentence that asks nothing ("インスタがだめなのは
// わかった", "drinks are out"), then something else offered in the next
// one ("じゃあXは？", "What about Discord?", "Brunch on Sunday, just
// us?"). The no is taken note of in a few words: a longer sentence
// with a "not" in it is about something else ("the work phones may not
// get a signal"). Not the writer's own no ("I can't do dinner. What
// about lunch?").
// (A sentence of feeling between them does not part them: "You
// turned down dinner. Honestly that stung. Friday then?")
//
// It returns declined with the nos traded past appended.
func (c *combiner) tradeAfterNo(declined []Hit) []Hit {
	d, sents, texts := c.d, c.sents, c.texts
	for i := 0; i+1 < len(sents); i++ {
		k := pushAfter(sents, texts, i)
		s, t := sents[i], sents[k]
		if !s.noteOfNo() || c.ownNo(i) || !brief(texts[i]) {
			continue
		}
		// (A short question opened by a "but" offers another thing too:
		// "Fine, no drinks. But lunch?")
		turned := d.set(SetTurn).opens(texts[k]) && t.has(CueAsk) && strings.HasSuffix(texts[k], "?") && brief(texts[k])
		if t.work() || t.why() || !(t.has(CueAlt) || t.personal() && t.has(CueAsk) || turned) {
			continue
		}
		declined = append(declined, s.evidence(CueRefusal)...)
		c.traded, c.tradedFor = i, k
	}
	// (Or both in one sentence: "教えたくないって言われたけど、じゃあ
	// カカオは？".)
	for i, s := range sents {
		if s.personal() && s.has(CueRefusal) && s.has(CueAlt) && !s.work() && !s.why() && !c.ownNo(i) {
			declined = append(declined, s.evidence(CueRefusal)...)
		}
	}
	return declined
}

// comparisonBesideNo: a comparison with others beside a sentence that tells
// of the reader's no about something private ("LINE教えてもらえなかった。
// みんなは教えてくれたのに") shows that no: what the comparison asks
// for is asked again.
//
// It returns declined with the nos shown appended.
func (c *combiner) comparisonBesideNo(declined []Hit) []Hit {
	for _, p := range c.besideComparisons() {
		// (So does a why about the no beside it: "なんで無理なの？他の人は
		// 交換してくれたのに".)
		j := p[1]
		if c.privateNoAt(j) || c.sents[j].why() && !c.sents[j].work() {
			declined = append(declined, c.sents[j].evidence(CueRefusal, CueDeclined)...)
		}
	}
	return declined
}

// besideComparisons lists, for each sentence that compares with others
// outside work talk, the sentences before and after it in the draft, as
// pairs: the comparison, then the sentence beside it. Most drafts
// compare nothing, and the list is then nil.
func (c *combiner) besideComparisons() (pairs [][2]int) {
	for i, s := range c.sents {
		if !s.has(CueCompare) || s.work() {
			continue
		}
		for _, j := range []int{i - 1, i + 1} {
			if c.inDraft(j) {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	return pairs
}

// privateNoAt: sentence j tells of the reader's no about something
// private, outside work talk.
func (c *combiner) privateNoAt(j int) bool {
	return c.sents[j].personal() && !c.sents[j].work() && c.sents[j].toldNo(c.texts[j])
}

// comparisonAgainst: a comparison that sets the others against the reader
// (set against, read from the comparison's words on:
// "山田さんはすぐ教えてくれたのになー", "佐々木さんは来てくれたけどね")
// shows the reader's no: what it asks for is asked again.
//
// It returns declined with the comparisons appended.
func (c *combiner) comparisonAgainst(declined []Hit) []Hit {
	sents := c.sents
	for i, s := range sents {
		if s.work() {
			continue
		}
		if h, ok := c.setAgainst(i); ok {
			declined = append(declined, h)
		}
	}
	return declined
}

// setAgainst returns the first comparison of sentence i that sets the
// others against the reader (set against, read from the comparison's
// words on).
func (c *combiner) setAgainst(i int) (Hit, bool) {
	text := c.texts[i]
	for _, h := range c.sents[i][CueCompare] {
		if at := strings.Index(text, h.Norm); at >= 0 && c.d.set(SetAgainst).in(text[at:]) {
			return h, true
		}
	}
	return Hit{}, false
}

// guiltThenPush: guilt in one sentence and the push in the next
// ("ドライブ、すごく楽しみにしてたのにな…来週なら行ける？"): a sentence of
// guilt told as the hurt of a no (set hurt-no, in the guilt's words) or
// about the reader's no, that asks nothing itself, tells of a no; the ask
// after it pushes past that no. (Guilt with no no in it, "私だけ仲間外れ
// みたいで悲しい…交換しよ？", asks the first time.)
//
// It returns declined with the guilt appended.
func (c *combiner) guiltThenPush(declined []Hit) []Hit {
	d, sents, texts := c.d, c.sents, c.texts
	for i := 0; i+1 < len(sents); i++ {
		s, t := sents[i], sents[i+1]
		hurt := s.hitIn(CueGuilt, d.set(SetHurtNo))
		if !s.guiltAlone() || c.question(i) || !(hurt || s.toldNo(texts[i])) {
			continue
		}
		if !t.pushes() || !(t.personal() || s.personal()) {
			continue
		}
		declined = append(declined, s.evidence(CueGuilt)...)
	}
	return declined
}

// contactAsk: an ask for a private contact or meeting (c.asks, and the
// evidence of contact-ask): both in one sentence, or the ask in a
// sentence next to it ("A hike on Sunday. Want to join?"). Asking why they said no is not an ask for the contact. A
// private contact named next to words of asking again is an ask too
// ("考え直してくれた？番号の件"), and so is one named with a
// comparison with others who gave it ("みんな交換してくれたのに",
// "everyone follows me except you"): the others are held up as the
// reason to give it.
// A comparison in a draft that asks why they said no ("みんな教えて
// くれたのに、なんで私だけダメなの", "Why won't you? Everybody else is
// on LINE") asks too: it holds the others up as the reason to
// reconsider, and the why presses the same way.
func (c *combiner) contactAsk() {
	d, sents, texts := c.d, c.sents, c.texts
	const compares = true
	for i, s := range sents {
		// (A why that is itself an ask again for what it names, "Why
		// not LINE?", asks for it too.)
		// (A comparison that tells what the others gave names the
		// private thing itself: "みんな快くフォローしてくれたのに".)
		givenBy := compares && !s.work() && s.hitIn(CueCompare, d.set(SetGiven))
		// (A why that holds a comparison asking for what the others
		// gave, or a no told of beside a why that holds one, asks as the
		// comparison does: "みんなとは交換してるのに、なんで俺だけダメなん？",
		// "連絡先交換、断られたの私だけらしいね。なんで？".)
		cmpAsks := !s.work() && slices.ContainsFunc(s.asking(d, compares, texts[i]), func(h Hit) bool { return h.Cue == CueCompare })
		whyNear := s.why() || near(sents, i, sentence.why) || bareWhy(sents, i) || i+1 < len(sents) && bareWhy(sents, i+1)
		asksHere := s.personal() || givenBy || cmpAsks && whyNear
		whyAlone := s.why() && !s.whyAsksAgain() && !cmpAsks
		if !asksHere || whyAlone || reproachAlone(sents, texts, i) || c.backsWhy(i) && !cmpAsks {
			continue
		}
		ask := s.asking(d, compares, texts[i])
		// (A line quoted from the reader's reply is answered past a word
		// that takes it in: "> 来週のランチはちょっと難しいです" "了解です！"
		// "じゃあ再来週はどうでしょう？".)
		next := pushAfter(sents, texts, i)
		// (Only a push: something else offered or words of asking again;
		// not 「了解です！でも何かあったらいつでも声かけてくださいね」.)
		if next == i+1 && i+2 < len(sents) && quotedLine(texts[i], 0) && d.set(SetAck).in(texts[i+1]) && sents[i+2].has(CueAlt, CueAgain) {
			next = i + 2
		}
		for _, j := range []int{next, i - 1} {
			if len(ask) == 0 && c.inDraft(j) && !sents[j].work() && !sents[j].personal() && !sents[j].why() && !bareWhy(sents, j) {
				ask = sents[j].asking(d, compares, texts[j])
			}
		}
		// A complaint that an ask about something private was left
		// unanswered chases it: it asks again ("Pls don't leave me on
		// read about the hike", "you never replied about brunch").
		if len(ask) == 0 && s.has(CueIgnored) {
			ask = s[CueIgnored]
		}
		// (Nor one that tells of the no and asks nothing, next to a
		// sentence that asks why: "この前お断りされたお食事の件ですが…
		// なぜダメだったのか教えていただけますか" sets up the why; nor one
		// that only names what was asked, next to the why: "何か嫌われる
		// ようなことしました？連絡先の件".)
		if len(ask) == 0 && (len(c.again) == 0 || (s.has(CueDeclined) || d.set(SetTopic).in(texts[i])) && near(sents, i, sentence.why)) {
			continue
		}
		// (Nor one that voices the hurt of the earlier ask's fate (set
		// hurt-no, in the guilt's words) and asks nothing, no question in
		// it and none next to it: "Honestly, I
		// feel pretty rejected after the coffee thing.", "kinda hurt you
		// never answered my msg about the weekend": it looks back to
		// reproach, not to ask again.)
		if len(ask) == 0 && c.hurtAlone(i) {
			continue
		}
		c.asks = true
		c.add(ContactAsk, s.evidence(personalCues...)...)
		c.add(ContactAsk, ask...)
	}
}

// whyComparesAsk: a why beside a comparison with others who gave the
// contact or came ("Why won't you give me your number? Everyone else on
// the team did.", "Alex texts me all the time, why can't you?") presses the
// reader to reconsider: it asks for what the others gave, as the
// comparison would alone, and asks again when the why is about the
// reader's no (see whyCompares).
//
// It returns back with the nos the whys are about appended.
func (c *combiner) whyComparesAsk(back []Hit) []Hit {
	sents := c.sents
	for i := range sents {
		if w, ok := whyCompares(sents, i); ok {
			c.asks = true
			c.add(ContactAsk, sents[i].evidence(append([]string{CueCompare}, personalCues...)...)...)
			c.add(ContactAsk, sents[w].evidence(personalCues...)...)
			back = append(back, sents[w].evidence(CueWhyNo, CueRefusal, CueDeclined)...)
		}
	}
	return back
}

// comparisonAsks: failing any other ask, a comparison with others who
// came or gave, beside the reader's no about something private taken in
// ("そっかー、飲みダメなんだ。他の新人さんたちは来てくれたのに"), holds
// the others up against the no: it asks again for what was refused.
// (comparisonBesideNo has already counted the no as shown.)
func (c *combiner) comparisonAsks() {
	if c.asks {
		return
	}
	for _, p := range c.besideComparisons() {
		if c.privateNoAt(p[1]) {
			c.asks = true
			c.add(ContactAsk, c.sents[p[0]].evidence(CueCompare)...)
			c.add(ContactAsk, c.sents[p[1]].evidence(personalCues...)...)
		}
	}
}

// silenceAsks: failing any other ask, a complaint of silence in a draft
// that names no work and no group ("既読ついてるのに返事ない…", "勇気出して
// 誘ったのにスルーされて悲しい") chases the ask that was left unanswered, whatever it was: it asks
// again for it, though it names nothing private.
func (c *combiner) silenceAsks() {
	sents := c.sents
	if !c.asks && !c.anyHas(CueWork, CueGroup) {
		for _, s := range sents {
			if s.has(CueIgnored) {
				c.asks = true
				c.add(ContactAsk, s[CueIgnored]...)
			}
		}
	}
}

// tradedAsks: failing any other ask, the trade across after a no (see
// tradeAfterNo) asks: the thing refused and the thing offered.
func (c *combiner) tradedAsks() {
	sents := c.sents
	if c.traded >= 0 && !c.asks {
		c.asks = true
		c.add(ContactAsk, sents[c.traded].evidence(personalCues...)...)
		c.add(ContactAsk, sents[c.tradedFor].evidence(CueAlt, CueAsk)...)
	}
}

// comebackAsk: coming back to a no without naming what was asked
// ("考え直してくれた？", "have you reconsidered?") asks again for it,
// unless the draft is about work or names what the no was about ("changed
// your mind about the design?").
// (A sentence that only points back, "So about the other day…", names
// no other matter, and words of asking again with an ask next to it
// come back to what it points to: "…would you maybe give it another
// shot sometime?")
//
// It returns back with the answer asked for, or the other day offered, in
// a draft that names nothing else appended.
func (c *combiner) comebackAsk(back []Hit) []Hit {
	if c.asks || c.otherMatter() {
		return back
	}
	sents, texts := c.sents, c.texts
	bareAnswer := !c.namesSomething()
	for i, s := range sents {
		chases, again, owed := c.chaseAt(i, bareAnswer)
		if owed {
			back = append(back, again...)
		}
		// (A no told of beside a why backs the why; a chase beside
		// it still chases: "you don't reply my message from last
		// week... Did I make you angry?")
		if !(s.has(CueDeclined) || chases || s.asksIfStillNo() || c.pointedAt(i, bareAnswer)) || s.why() || !chases && c.backsWhy(i) {
			continue
		}
		ask := s.evidence(CueAsk, CueDemand)
		if chases {
			ask = append(ask, s.evidence(CueReply)...)
		}
		no := s.evidence(CueDeclined)
		if len(no) == 0 {
			no = again
		}
		for _, j := range []int{i + 1, i - 1} {
			// (Not the words of a softener that only eases the
			// reader's mind: "断られてショックだった…まあ気にしないで".)
			if len(ask) == 0 && c.inDraft(j) && !sents[j].why() && !bareWhy(sents, j) {
				ask = sents[j].outsideSoften(texts[j], CueAsk, CueDemand)
			}
		}
		if len(ask) > 0 {
			c.asks = true
			c.add(ContactAsk, no...)
			c.add(ContactAsk, ask...)
		}
	}
	return back
}

// topicOnly: sentence i only points back to a matter (set topic), naming
// no other: "So about the other day…".
func (c *combiner) topicOnly(i int) bool {
	return c.inDraft(i) && c.d.set(SetTopic).in(c.texts[i]) && c.sents[i].only(CueObject, CueAgain, CueSoften)
}

// otherMatter: the draft is about work or names a matter, other than one
// a sentence only points back to (topicOnly).
func (c *combiner) otherMatter() bool {
	for i, s := range c.sents {
		if s.has(CueWork) || s.has(CueObject) && !c.topicOnly(i) {
			return true
		}
	}
	return false
}

// chaseAt: sentence i presses for an answer still owed (chases), with the
// words that ask again; owed tells that those words are the answer asked
// for or the day offered in a draft that names nothing else (bareAnswer),
// which point back themselves.
func (c *combiner) chaseAt(i int, bareAnswer bool) (chases bool, again []Hit, owed bool) {
	d, sents, s := c.d, c.sents, c.sents[i]
	// (Asking whether the no still holds, "まだダメなの？", "still a
	// no?", points back to it as well.)
	chases, again = s.chases(), s.evidence(CueAgain)
	// (Or asks for an answer in a draft that names nothing
	// private, no group and no work: "返事、今日中にもらえる？",
	// "もう待てないよ、返事して" can only be about an ask made
	// before.)
	if !chases && bareAnswer && s.hitIn(CueReply, d.set(SetMsgAnswer)) && s.has(CueAsk, CueDemand) {
		return true, s.evidence(CueReply), true
	}
	// (Or offers another day in a few words in such a draft:
	// "じゃあ来週は？いつなら空いてる？" offers it in place of one
	// the reader refused; "じゃあ明日の朝イチで共有お願いできますか？"
	// asks for a task.)
	if !chases && bareAnswer && c.offersDay(s) && s.has(CueAsk, CueDemand) {
		return true, s.evidence(CueAlt), true
	}
	// (Or asks for the answer next to a sentence that asks again:
	// "考えてくれた？今夜までに答え聞かせて".)
	for _, j := range []int{i - 1, i + 1} {
		if !chases && s.asksAnswer() && c.inDraft(j) && sents[j].asksAgainPlain() {
			chases, again = true, sents[j].evidence(CueAgain)
		}
	}
	return chases, again, false
}

// pointedAt: sentence i asks again about a matter it points back to, in
// the sentence next to it (topicOnly) or, in a draft that names nothing
// else (bareAnswer), in its own opening clause.
// (The opening clause: "この前言ってた件、考えてくれた？", "この前言うてた件、
// まだ有効やで？")
func (c *combiner) pointedAt(i int, bareAnswer bool) bool {
	s := c.sents[i]
	if !s.has(CueAgain) || !s.has(CueAsk) {
		return false
	}
	return c.topicOnly(i-1) || c.topicOnly(i+1) || bareAnswer && c.topicFirst(i)
}

// softenedOrWork reads two facts about the whole draft that the later
// steps weigh: any sentence about work (c.anyWork), and a softener that
// eases the ask (c.softened).
func (c *combiner) softenedOrWork() {
	sents := c.sents
	c.anyWork = slices.ContainsFunc(sents, sentence.work)
	// (A softener in a sentence about work eases the work, not a private
	// ask further on in a long message: "見積もりOKです" or "資料も急ぎま
	// せん" before "今度二人で飲みに行きません？"; right after the ask it
	// eases the ask: "your cell for the trip? Totally fine to say no, I can
	// go through the office.")
	for i, s := range sents {
		if s.has(CueSoften) && (!s.work() || i > 0 && sents[i-1].personal()) {
			c.softened = true
		}
	}
}

// planAtHour: a private meeting stated as a plan, not asked ("Friday, 7pm.
// You and me.", "土曜の夜、駅前で7時。ふたりでね"): in a draft that asks
// nothing, softens nothing and voices no feeling about a no, a
// sentence that names the two of them, is no question and tells of
// nothing past is a demand (not in a draft about work: "3pm, room B.
// You and me on the contract").
// (A private meeting set at an hour and a place in a sentence of its
// own is a plan stated even beside an ask elsewhere: "返事くれないと、
// ずっと待っちゃうからね？今日の夜ご飯、19時に駅で".)
func (c *combiner) planAtHour() {
	d, sents, texts := c.d, c.sents, c.texts
	if !c.softened && !c.anyHas(CueWork, CueGroup) {
		for i, s := range sents {
			if s.has(CueMeeting) && !s.has(CueAsk, CueDemand, CueGroup) && d.set(SetClock).in(texts[i]) && !c.question(i) && !c.past(i) {
				c.asks = true
				c.add(ContactAsk, s.evidence(personalCues...)...)
				c.add(Demand, s.evidence(CueMeeting)...)
			}
		}
	}
}

// planTold: a private meeting told as settled is a plan stated.
func (c *combiner) planTold() {
	d, sents, texts := c.d, c.sents, c.texts
	// (A private meeting told as settled, the sentence ending on the
	// plan, is a plan stated whatever else the draft says: "今夜こそ飲み
	// 行くよ！", "断るのはなしね！週末ドライブ行くよ".)
	if !c.softened && !c.anyWork {
		for i, s := range sents {
			if s.personal() && !s.has(CueGroup) && !c.question(i) && d.set(SetPlanTold).in(texts[i]) {
				c.asks = true
				c.add(ContactAsk, s.evidence(personalCues...)...)
				c.add(Demand, s.evidence(CueMeeting, CuePrivate)...)
			}
		}
	}
}

// planPrivate: in a draft that asks, softens, reproaches and compares
// nothing, something private named as no question (or a private
// meeting set at an hour nearby) is a plan stated: a demand.
func (c *combiner) planPrivate() {
	d, sents, texts := c.d, c.sents, c.texts
	if !c.asks && !c.softened && !c.anyHas(CueAsk) && !c.noOrFeeling() {
		for i, s := range sents {
			if s.has(CuePrivate) && !c.anyHas(CueWork) && !s.has(CueGroup) && !c.question(i) && !c.past(i) {
				c.asks = true
				c.add(ContactAsk, s.evidence(personalCues...)...)
				c.add(Demand, s.evidence(CuePrivate)...)
			}
			// (Or a private meeting set at an hour, with no group in the
			// draft: "明日の夜、駅前のバルに7時。待ってるから". The hour
			// may stand in the next or the last line, one that names no
			// other meeting: "Dinner today!\nI'll wait for you in the
			// lobby at 6.")
			if s.has(CueMeeting) && d.clockNear(sents, texts, i) && !c.anyHas(CueWork, CueGroup) {
				c.asks = true
				c.add(ContactAsk, s.evidence(personalCues...)...)
				c.add(Demand, s.evidence(CueMeeting)...)
			}
		}
	}
}

// planInvite: a meeting named with its day, then set at an hour on a
// line nearby, in a draft that asks only by naming meetings, is a plan
// stated too.
func (c *combiner) planInvite() {
	d, sents, texts := c.d, c.sents, c.texts
	// (A private meeting named with its day as an invitation, no
	// question in the draft, "Karaoke tonight!", then set at an hour on
	// the next or the last line, "I'll meet you by the north gate at 9.",
	// is a plan stated too: in a draft that softens nothing, voices no
	// feeling about a no, names no work nor group, and asks nothing but
	// by naming meetings.)
	if c.asks && !c.softened && !c.anyQuestion() && !c.noOrFeeling() && !c.anyHas(CueWork, CueGroup) && namesOnly(sents, texts) {
		for i, s := range sents {
			if s.has(CueMeeting) && s.has(CueAsk) && d.clockNear(sents, texts, i) {
				c.add(ContactAsk, s.evidence(personalCues...)...)
				c.add(Demand, s.evidence(CueMeeting)...)
			}
		}
	}
}

// bareNoChase: a sentence that only asks whether it is a no (set bare-no:
// "no?", "so that's a no?"), next to one that names the private meeting
// or contact it is about ("so… no? 😅 dinner after the offsite I mean,
// just us"), chases the reader's answer: it points back to the no, though
// the meeting is named only in the sentence beside it. (Not beside work
// talk, a group or the writer's own no.)
func (c *combiner) bareNoChase(back []Hit) []Hit {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i, s := range sents {
		text := strings.TrimSpace(texts[i])
		if !s.only(CueAsk, CueRefusal) || !d.set(SetBareNo).fills(text) {
			continue
		}
		for _, j := range []int{i - 1, i + 1} {
			if c.inDraft(j) && sents[j].personal() && !sents[j].work() && !sents[j].has(CueGroup) && !c.ownNo(j) {
				return append(back, quote(CueDeclined, i, 0, len(text)))
			}
		}
	}
	return back
}

// othersYesAsks: failing any other ask, a comparison that sets the others
// against the reader (set against: "You're the only one holding out"),
// next to a sentence that tells of others' yes to a private meeting (set
// others-yes: "Ken, Aya and Rina all said yes to the weekend trip."),
// holds the others up against the reader's no across the two sentences:
// it asks again for the meeting. (Not a group's event nor work talk.)
func (c *combiner) othersYesAsks() {
	if c.asks {
		return
	}
	d, sents, texts := c.d, c.sents, c.texts
	for _, p := range c.besideComparisons() {
		i, j := p[0], p[1]
		if sents[i].has(CueGroup) || sents[j].has(CueGroup) || !sents[j].personal() || sents[j].work() || !d.set(SetOthersYes).in(texts[j]) {
			continue
		}
		if _, ok := c.setAgainst(i); ok {
			c.asks = true
			c.add(ContactAsk, sents[i].evidence(CueCompare)...)
			c.add(ContactAsk, sents[j].evidence(personalCues...)...)
		}
	}
}

// betterAfterNo: failing any other ask, a question whether another time
// or form would do better (set works-better: "Does that work better?"),
// after a sentence that tells of the reader's no about something private
// ("So about that dinner you said no to… Friday's open now. Does that
// work better?"), makes a new offer past that no: it asks again, though
// the question names nothing private. (Not in work talk, a group's
// event or the writer's own no.)
//
// It returns back with the no appended.
func (c *combiner) betterAfterNo(back []Hit) []Hit {
	if c.asks {
		return back
	}
	d, sents, texts := c.d, c.sents, c.texts
	for i, s := range sents {
		if !s.has(CueAsk) || s.work() || s.has(CueGroup) || !d.set(SetBetter).in(texts[i]) {
			continue
		}
		for j := range i {
			if c.privateNoAt(j) && !sents[j].has(CueGroup) && !c.ownNo(j) {
				c.asks = true
				c.add(ContactAsk, sents[j].evidence(personalCues...)...)
				c.add(ContactAsk, s.evidence(CueAsk)...)
				return append(back, sents[j].evidence(CueRefusal, CueDeclined)...)
			}
		}
	}
	return back
}

// bareWhyCompares: a draft that opens on a bare why (「え、なんで？」),
// answering a no, with a comparison with others who came or went out
// right after it (「ほかの子はみんな来るって言ってたよ」, 「山田さんとは飲み
// に行ってたじゃん」), asks why the no and, holding the others up against
// it, asks again for what was refused.
//
// It returns back with the why appended.
func (c *combiner) bareWhyCompares(back []Hit) []Hit {
	sents := c.sents
	if len(sents) < 2 || !sents[0].has(CueReason) || !sents[0].only(CueReason, CueAsk) || !c.question(0) {
		return back
	}
	s := sents[1]
	if !s.has(CueCompare) || s.work() || s.has(CueGroup) || c.anyHas(CueWork) {
		return back
	}
	c.asks = true
	c.add(ContactAsk, s.evidence(append([]string{CueCompare}, personalCues...)...)...)
	c.add(ReasonAsk, sents[0].evidence(CueReason)...)
	return append(back, sents[0].evidence(CueReason)...)
}

// whyThenOffer: failing any other ask, a why about the reader's no (cue
// why-no: "Why not though?", "why the no on lunch though?") followed,
// within the next two sentences, by the same meeting made small or moved
// (set instead: "It's literally just one evening", "I could do today
// instead") pushes past the no the why is about: it asks again, though
// neither sentence names the private thing in the cues' words. (Not about
// work or a group's event, not the writer's own no, not softened or
// taken back.)
//
// It returns back with the why's no appended.
func (c *combiner) whyThenOffer(back []Hit) []Hit {
	if c.asks {
		return back
	}
	d, sents, texts := c.d, c.sents, c.texts
	for i, s := range sents {
		if !s.has(CueWhyNo) || s.has(CueWork, CueGroup) || c.ownNo(i) || c.aboutWork(i) {
			continue
		}
		for j := i + 1; j <= i+2 && j < len(sents); j++ {
			t := sents[j]
			if t.has(CueWork, CueGroup, CueSoften, CueWithdraw) {
				break
			}
			if !d.set(SetInstead).in(texts[j]) {
				continue
			}
			c.asks = true
			c.add(ContactAsk, s.evidence(append([]string{CueWhyNo}, personalCues...)...)...)
			c.add(ContactAsk, t.evidence(append([]string{CueAgain, CueAsk}, personalCues...)...)...)
			return append(back, s.evidence(CueWhyNo, CueRefusal, CueDeclined)...)
		}
	}
	return back
}

// countedNoAsks: failing any other ask, in a draft that names no work and
// no group, a sentence that counts the reader's nos (set count: "so that's
// no number two") followed, in it or the next sentence, by a question put
// in words of asking again ("third time lucky?") asks once more for what
// the nos refused, whatever it was, though the draft names nothing
// private; the nos counted back are the guilt countedNosAt reads where
// the thing is named. (Not the writer's own asks or no counted, nor beside
// a softener or a withdrawal.)
//
// It returns back with the counted nos appended.
func (c *combiner) countedNoAsks(back []Hit) []Hit {
	if c.asks || c.anyHas(CueWork, CueGroup, CueSoften, CueWithdraw) {
		return back
	}
	d, sents, texts := c.d, c.sents, c.texts
	for i, s := range sents {
		if !s.has(CueRefusal, CueDeclined) || c.ownNo(i) || !d.set(SetCount).in(texts[i]) || d.set(SetOwnAsks).in(texts[i]) {
			continue
		}
		for _, j := range []int{i, i + 1} {
			if !c.inDraft(j) || !sents[j].has(CueAgain) || !sents[j].has(CueAsk) || !c.question(j) {
				continue
			}
			c.asks = true
			c.add(ContactAsk, sents[j].evidence(CueAgain, CueAsk)...)
			c.add(Guilt, s.evidence(CueRefusal, CueDeclined)...)
			return append(back, s.evidence(CueRefusal, CueDeclined)...)
		}
	}
	return back
}

// toldNoOffer: the reader's no told back in one sentence ("You said you
// didn't want a one-on-one thing", "I know you weren't keen before"),
// and a private contact or meeting named in another that asks nothing
// by its own words ("so I made Saturday a group outing… it's just you and
// me so far", "I should probably have your personal number"): what is
// named past the told-back no is offered again, whatever its words. (Not
// a thing named as past, at work, beside a why, or in a sentence that
// tells a no, a feeling, a softener or a withdrawal; nor when a no is the
// writer's own.)
func (c *combiner) toldNoOffer() {
	if c.asks || c.anyOwnNo() || c.anyHas(CueWhyNo, CueReason, CueSoften, CueWithdraw) {
		return
	}
	told := -1
	for j, s := range c.sents {
		if s.has(CueDeclined) && !s.work() {
			told = j
			break
		}
	}
	if told < 0 {
		return
	}
	for i, s := range c.sents {
		if i == told || !s.personal() || s.work() || s.has(CueRefusal, CueDeclined, CueStill, CueGuilt, CueCompare) || c.past(i) || c.hurtAlone(i) {
			continue
		}
		// (A meeting alone, neither private nor asked about, may be
		// someone else's: "You said you'd rather not travel in December.
		// I've asked Ken to take the Osaka trip.")
		if !s.has(CuePrivate, CueContact) && !c.question(i) {
			continue
		}
		// (Nor a meeting with work words in it, the two of them at
		// work: "Just the two of us then for the 1:1 on Monday, in the
		// small meeting room.")
		if s.has(CueWork) && !s.has(CueContact) {
			continue
		}
		c.asks = true
		c.add(ContactAsk, s.evidence(personalCues...)...)
	}
}

// reachPastNo: the reader's keeping of a private contact told back ("I
// get that you keep your number private, totally.") and, in the next
// sentence, a question about reaching the reader (set reach: "But what if
// something happens on a night shift and I need to reach you?"): the
// reason given, even one of work, is the pretext of asking for the
// contact again.
func (c *combiner) reachPastNo() {
	if c.asks {
		return
	}
	for i := 0; i+1 < len(c.sents); i++ {
		s, t := c.sents[i], c.sents[i+1]
		if !s.has(CueDeclined) || !s.has(CueContact) || s.work() || s.has(CueSoften, CueWithdraw) || !c.question(i+1) || !t.has(CueAsk, CueDemand) {
			continue
		}
		if !c.d.set(SetReach).in(c.texts[i+1]) {
			continue
		}
		c.asks = true
		c.add(ContactAsk, s.evidence(CueContact)...)
		c.add(ContactAsk, t.evidence(CueAsk, CueDemand)...)
	}
}

// ackOfNo: a softener that only takes the earlier no in (its words an
// answer taken in, set ack: "totally get it", "fair enough"), in the
// sentence that tells that no back, eases the no, not the ask made after
// it: "You said your evenings are for your kids, totally get it. What
// about a lunch walk on Wednesday, just us?" leaves no way out. (Any
// other softener in the draft still eases the ask.)
func (c *combiner) ackOfNo() {
	if !c.softened || !c.asks {
		return
	}
	ack := c.d.set(SetAck)
	last := -1
	for i, s := range c.sents {
		if !s.has(CueSoften) {
			continue
		}
		if !s.has(CueDeclined) || slices.ContainsFunc(s[CueSoften], func(h Hit) bool { return !ack.in(h.Norm) }) {
			return
		}
		last = i
	}
	for j := last + 1; j < len(c.sents); j++ {
		if c.sents[j].asksPrivate() || c.sents[j].has(CueAlt) && !c.sents[j].work() {
			c.softened = false
			return
		}
	}
}

// whyBesideOthers: a why that names no no ("what's different with
// you?", "why is that?") beside a comparison of others who come or give
// (see whyCompares) asks why the reader is not like them: it asks the
// reason of the reader's no (reason-ask), and that no is shown, so what
// the comparison asks for is asked again.
//
// It returns back with the whys appended.
func (c *combiner) whyBesideOthers(back []Hit) []Hit {
	for i := range c.sents {
		w, ok := whyCompares(c.sents, i)
		if !ok || w == i || c.sents[w].has(CueWhyNo, CueRefusal, CueDeclined) || !c.sents[w].has(CueReason) {
			continue
		}
		c.add(ReasonAsk, c.sents[w].evidence(CueReason)...)
		back = append(back, c.sents[w].evidence(CueReason)...)
	}
	return back
}
