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
	given := slices.ContainsFunc(s[CueCompare], func(h Hit) bool { return d.set(SetGiven).in(h.Norm) })
	if compares && s.has(CueCompare) && (s.has(CueContact, CueRefusal) || meets || given || slices.ContainsFunc(s[CuePrivate], func(h Hit) bool { return d.set(SetHome).in(h.Norm) })) {
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
func (d *Detector) combine(found []map[string][]Hit, texts []string, quote func(id string, i, lo, hi int) Hit, sad []Hit) []Flag {
	found, texts, quote = d.dropSmallTalk(found, texts, quote)
	found, texts, quote = joinFragments(found, texts, quote)
	sents := make([]sentence, len(found))
	for i, f := range found {
		sents[i] = sentence(f)
	}
	// Words of asking again that are the answer asked for ("Need an answer
	// on the Kyoto trip", "get back to me about dinner") point back to an
	// earlier ask, unless a sentence before makes the invitation itself:
	// "Dinner Friday? Reply about the time when you can." asks the first
	// time. (Not a question about the answer, which looks back to it:
	// "Drinks? Did the answer change since last week?"; nor silence told
	// of: "karaoke thursday?? haven't heard from you yet".)
	for i := range sents {
		if !sents[i].has(CueReply) || !sents[i].has(CueAgain) || !sents[i].has(CueAsk, CueDemand) || strings.Contains(texts[i], "?") {
			continue
		}
		for _, t := range sents[:i] {
			if t.personal() && t.has(CueAsk, CueAlt) && !t.has(CueReply, CueAgain) && !t.work() {
				sents[i][CueAgain] = slices.DeleteFunc(sents[i][CueAgain], func(a Hit) bool {
					return slices.ContainsFunc(sents[i][CueReply], func(r Hit) bool { return strings.Contains(a.Norm, r.Norm) })
				})
				break
			}
		}
	}
	// An apology for an earlier ask followed by a "but" ("この間は急に
	// 誘っちゃってごめんね。でも…", "Sorry I sprang that on you. But…")
	// does not take the ask back: it points back to it, and what follows
	// asks again.
	// (An apology in other words counts too, when what follows the
	// "but" asks for something private: "この前はごめん、強引だったよね。
	// でも週末のドライブ、誘ってもいい？".)
	for i := range sents {
		if i+1 >= len(texts) || !d.set(SetTurn).opens(texts[i+1]) {
			continue
		}
		if sents[i].has(CueWithdraw) {
			for _, h := range sents[i][CueWithdraw] {
				h.Cue = CueAgain
				sents[i][CueAgain] = append(sents[i][CueAgain], h)
			}
			delete(sents[i], CueWithdraw)
		} else if loc := d.set(SetApology).first(texts[i]); loc != nil && !sents[i].work() && sents[i+1].personal() && sents[i+1].has(CueAsk, CueDemand) {
			sents[i][CueAgain] = append(sents[i][CueAgain], quote(CueAgain, i, loc[0], loc[1]))
		}
	}
	// (The same "but" inside the sentence, after the words that took the
	// ask back, and something asked after it: "前回断られたのでもう誘わない
	// つもりだったんですけど、やっぱり一度だけ…ランチいかがですか".)
	for i := range sents {
		for _, h := range sents[i][CueWithdraw] {
			at := strings.Index(texts[i], h.Norm)
			if at < 0 || !d.set(SetTurn).in(texts[i][at+len(h.Norm):]) {
				continue
			}
			if !sents[i].has(CueAgain) && !(sents[i].personal() && sents[i].has(CueAsk, CueDemand)) && !(i+1 < len(sents) && sents[i+1].has(CueAsk, CueDemand)) {
				continue
			}
			h.Cue = CueAgain
			sents[i][CueAgain] = append(sents[i][CueAgain], h)
			delete(sents[i], CueWithdraw)
			break
		}
	}
	// A sentence that is only a let-down ("残念です") beside one that tells
	// of the reader's no about something private ("ドライブ、来てくれない
	// んですね。残念です") voices the feeling about that no: guilt, and the
	// no told of asks nothing (see reproachAlone). (Not beside a no told
	// of at work: "お客様から…ナシでと連絡がありました。残念…".)
	for i := range sents {
		loc := d.set(SetLetDown).first(texts[i])
		if loc == nil || sents[i].has(CueGuilt) {
			continue
		}
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(sents) && sents[j].personal() && !sents[j].work() && sents[j].toldNo(texts[j]) {
				sents[i][CueGuilt] = append(sents[i][CueGuilt], quote(CueGuilt, i, loc[0], loc[1]))
				break
			}
		}
	}
	// Something booked or paid for, in a draft that names no work, no
	// group and no other plan, and that asks or tells of a no ("予約もう
	// 入れちゃったから…来てくれるよね？", "チケット代もう払っちゃったから、
	// キャンセルは無理なんだよね"), is the plan itself: a private meeting
	// named. (Not a favour told of alone: "I made extra copies for you".)
	if !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork, CueGroup) || s.personal() }) && slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueAsk, CueDemand, CueRefusal, CueDeclined) }) {
		for i := range sents {
			if sents[i].has(CueSunk) && !sents[i].has(CueMeeting) {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], sents[i][CueSunk]...)
			}
		}
	}
	// A sentence whose last clause asks for a private meeting or contact
	// and names no work ("You owe me one for the handover, so dinner
	// Friday?", 「資料手伝ったんだし、土曜は飲み行こうよ」) is personal,
	// whatever work its first clause names.
	for i := range sents {
		if sents[i].has(CueWork) && d.personalTail(sents[i], texts[i]) {
			delete(sents[i], CueWork)
		}
	}
	// Words of asking inside a softener are the softener's ("気にしないで"
	// holds しない): in a sentence that tells of a no they ask nothing
	// ("飲みの誘い断られたのはショックだったけど、まあ気にしないで" asks
	// nothing again). (Where no no is told, a softener alone may be the
	// ask: "インスタ繋がってるし、もしよかったら〜", "If you'd like to as
	// well that'd be nice".)
	for i := range sents {
		if !sents[i].has(CueDeclined) {
			continue
		}
		sents[i][CueAsk] = sents[i].outsideSoften(texts[i], CueAsk)
	}
	// A sentence that takes an ask back ("もう聞きません", "sorry I kept
	// asking, I won't bring it up again") neither asks nor points back to
	// a no, whatever words of the ask it repeats, unless another sentence
	// asks for something personal ("Sorry for bugging you again! Your
	// insta though?"), a plain meal included ("Sorry for asking again! If
	// you ever want to grab lunch, just say the word").
	// (Nor does an apology for asking again that the same sentence goes on
	// past to ask for something private: 「また誘っちゃってごめんね、週末の
	// ドライブ、もし気が変わったら声かけて」 asks again.)
	for i := range sents {
		if !sents[i].personal() || !sents[i].has(CueAsk, CueDemand) {
			continue
		}
		for _, h := range sents[i][CueWithdraw] {
			at := strings.Index(texts[i], h.Norm)
			if at < 0 {
				continue
			}
			rest := texts[i][at+len(h.Norm):]
			in := func(x Hit) bool { return strings.Contains(rest, x.Norm) }
			if slices.ContainsFunc(sents[i].evidence(CueAsk, CueDemand), in) && slices.ContainsFunc(sents[i].evidence(personalCues...), in) && sents[i].has(CueAgain) {
				h.Cue = CueAgain
				sents[i][CueAgain] = append(sents[i][CueAgain], h)
				sents[i][CueWithdraw] = slices.DeleteFunc(sents[i][CueWithdraw], func(w Hit) bool { return w == h || w.Norm == h.Norm })
				break
			}
		}
	}
	asksElsewhere := func(i int) bool {
		for j, s := range sents {
			if j != i && !s.has(CueWithdraw) && s.has(CueAsk, CueDemand) && (s.personal() || s.has(CueAgain) || d.set(SetPlainMeal).in(texts[j]) && !s.has(CueWork, CueGroup)) {
				return true
			}
		}
		return false
	}
	// (Nor does a threat that only sounds like one: "今週中に教えてくれ
	// なかったら、もう誘わないからね" holds the withdrawal over the reader
	// as the cost of a no, inside the demand's words.)
	for i := range sents {
		sents[i][CueWithdraw] = slices.DeleteFunc(sents[i][CueWithdraw], func(w Hit) bool {
			return slices.ContainsFunc(sents[i][CueDemand], func(h Hit) bool { return strings.Contains(h.Norm, w.Norm) })
		})
	}
	var withdrawn []int
	for i, s := range sents {
		if s.has(CueWithdraw) && !asksElsewhere(i) {
			withdrawn = append(withdrawn, i)
		}
	}
	for _, i := range withdrawn {
		sents[i] = sentence{CueWithdraw: sents[i][CueWithdraw], CueSoften: sents[i][CueSoften]}
	}
	// Others named by a work word and held up in a comparison beside a
	// meeting ("The whole team said yes to my barbecue. You're the only
	// one who said no?", "the whole team goes out with me except you")
	// are the ones compared with, not the meeting's company nor work
	// talk: the meeting stays the writer's own.
	for i := range sents {
		if !sents[i].has(CueMeeting) || !sents[i].has(CueGroup) || !sents[i].has(CueCompare) && !near(sents, i, func(t sentence) bool { return t.has(CueCompare) }) {
			continue
		}
		others := func(h Hit) bool {
			return slices.ContainsFunc(sents[i][CueGroup], func(g Hit) bool { return strings.Contains(h.Norm, g.Norm) || strings.Contains(g.Norm, h.Norm) })
		}
		work := slices.DeleteFunc(slices.Clone(sents[i][CueWork]), others)
		if len(work) == len(sents[i][CueWork]) {
			continue
		}
		sents[i][CueWork] = work
		delete(sents[i], CueGroup)
	}
	// A complaint that an ask was left unanswered, in a draft that names
	// no work and no group ("so you just left my invite on read huh",
	// 「既読ついとるのに返事ない…」), chases a private ask: the ask it is
	// about is the private thing, though it names none. (Not one that
	// voices a hurt, whose readings differ: 「既読スルーはさすがにへこむ」.)
	if !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork, CueGroup) }) {
		for i := range sents {
			if !sents[i].has(CueIgnored) || sents[i].personal() || sents[i].has(CueGuilt) {
				continue
			}
			for _, h := range sents[i][CueIgnored] {
				h.Cue = CuePrivate
				sents[i][CuePrivate] = append(sents[i][CuePrivate], h)
			}
		}
	}
	// The writer's invitation named as such (set invite: 「こんなに誘って
	// るのに、一回くらい来てくれてもいいんじゃない？」, 「誘われたら一回
	// くらい来るでしょ。金曜ね」), in a draft that names no work, no group
	// and nothing private, is the private meeting itself where its
	// sentence pushes past a no.
	// (Not in the reader's own answer to one: 「先日はお誘いありがとう
	// ございました。ただ…今回は遠慮させてください」.)
	if !slices.ContainsFunc(sents, func(s sentence) bool { return s.personal() || s.has(CueWork, CueGroup, CueObject) }) && !slices.ContainsFunc(texts, func(t string) bool { return d.ownNo(t) || d.set(SetPast).in(t) }) {
		for i, s := range sents {
			// (Beside words that push past a no: a reproach alone, 「せっかく
			// 誘ったのに断るとか」, the writer's own no or an apology asks
			// nothing.)
			if !s.has(CueAgain) || s.has(CueWithdraw) || d.ownNo(texts[i]) || d.set(SetApology).in(texts[i]) {
				continue
			}
			if loc := d.set(SetInvite).first(texts[i]); loc != nil {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, loc[0], loc[1]))
			}
		}
	}
	// A meal named as an outing but not as a private one (set plain-meal:
	// "Lunch Thursday?", "grab lunch") is the office's everyday meal on
	// its own; in a draft that points back to the reader's no about
	// something personal, or asks again, it is the private meeting pushed
	// past that no ("You've said no twice now. Third time lucky? Lunch
	// Thursday?", "I'd ask you to reconsider the lunch"). Not with a group
	// or at work, nor in the writer's own no.
	// (A no of the reader's told with the hurt of it points back too: "It
	// stings every time you turn me down. Lunch tomorrow?")
	ownNo := func(i int) bool { return d.ownNo(texts[i]) }
	pointsBack := false
	for i, s := range sents {
		if !s.work() && !ownNo(i) && (s.has(CueAgain, CueDeclined, CueStill) || s.has(CueRefusal) && (s.personal() || s.has(CueGuilt) || d.set(SetPlainMeal).in(texts[i]))) {
			pointsBack = true
		}
	}
	if pointsBack {
		// A short question made of a day alone (set day, filling the
		// sentence: "Friday?", "Tomorrow night then?") in such a draft
		// offers that day for the meeting pushed past the no: it names
		// the meeting.
		for i, s := range sents {
			if !s.only(CueAsk, CueRush) || !s.has(CueAsk) || !strings.Contains(texts[i], "?") || !brief(texts[i]) || slices.ContainsFunc(sents, func(t sentence) bool { return t.has(CueWork, CueGroup) }) {
				continue
			}
			if d.set(SetDay).fills(texts[i]) {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, 0, len(texts[i])))
			}
		}
		for i, s := range sents {
			// (The meal must be what is asked for or refused: "I'll just
			// grab lunch by myself again" asks nothing.)
			// (Or is named in a line quoted from the reader's reply: "> 来週の
			// ランチはちょっと難しいです".)
			if s.has(CueMeeting, CueGroup, CueWork) || !s.has(CueAsk, CueDemand, CueAlt, CueCompare, CueRefusal, CueDeclined) && !quotedLine(texts[i], 0) || ownNo(i) {
				continue
			}
			if loc := d.set(SetPlainMeal).first(texts[i]); loc != nil {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, loc[0], loc[1]))
			}
		}
	}
	// A day asked about in a question (set day: 「昨日の誘い、返して
	// くれなかったけど土曜いける？」, 「返事もらってないけど、土曜日はOKって
	// ことでいい？」), in a draft that points back to an earlier ask or no
	// and names nothing else (nothing private, no work, no group, no other
	// matter), is the day of the private meeting asked for again.
	bareDraft := !slices.ContainsFunc(sents, func(s sentence) bool { return s.personal() || s.has(CueWork, CueGroup, CueObject) })
	// (The earlier ask's fate told: a no, silence, an answer still owed;
	// not a bare "again", which reschedules as often: 「やっぱり月曜の朝会、
	// オンラインにしません？」.)
	looksBack := slices.ContainsFunc(sents, func(s sentence) bool {
		return s.has(CueDeclined, CueIgnored) || s.has(CueAgain) && slices.ContainsFunc(s[CueAgain], func(h Hit) bool { return d.set(SetMsgAnswer).in(h.Norm) })
	})
	if bareDraft && looksBack && !slices.ContainsFunc(texts, func(t string) bool { return d.ownNo(t) }) {
		for i, s := range sents {
			// (A question, or a brief ask: 「来週とかどうでしょう」.)
			if !s.has(CueAsk) || !strings.Contains(texts[i], "?") && !brief(texts[i]) {
				continue
			}
			if loc := d.set(SetDay).first(texts[i]); loc != nil {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, loc[0], loc[1]))
			}
		}
	}
	// An earlier ask pointed back to without naming what it was (set
	// pointer: "my question from the other night still stands", "so, the
	// just-us thing. yes? no?", "You know what I'm gonna ask. same
	// question as at the party"), in a draft that names nothing private,
	// no work and no group, and that looks back to an ask, a no or a
	// silence, is the private thing asked again: what else would be left
	// unnamed. (A question alone about the thing asks nothing again:
	// "What's the thing you mentioned? I forgot". Not beside the writer's
	// own no, nor in a draft about something done: "re: what we talked
	// about at the party, I looked into the course and signed up".)
	if !slices.ContainsFunc(sents, func(s sentence) bool { return s.personal() || s.has(CueWork, CueGroup) }) && !slices.ContainsFunc(texts, func(t string) bool { return d.ownNo(t) || d.set(SetPast).in(t) }) {
		// (Words of asking again or of a no that are the pointer itself
		// do not look back: "The thing from Thursday is fixed btw"; nor
		// does a subject line's "re:".)
		back := false
		for i, s := range sents {
			ptr := ""
			if loc := d.set(SetPointer).first(texts[i]); loc != nil {
				ptr = texts[i][loc[0]:loc[1]]
			}
			if s.has(CueIgnored, CueReply) || slices.ContainsFunc(s.evidence(CueAgain, CueDeclined), func(h Hit) bool {
				return h.Norm != "re:" && h.Norm != "re" && (ptr == "" || !strings.Contains(h.Norm, ptr) && !strings.Contains(ptr, h.Norm))
			}) {
				back = true
			}
		}
		for i := range sents {
			loc := d.set(SetPointer).first(texts[i])
			if loc == nil || !back {
				continue
			}
			sents[i][CuePrivate] = append(sents[i][CuePrivate], quote(CuePrivate, i, loc[0], loc[1]))
			if !sents[i].has(CueAgain) {
				sents[i][CueAgain] = append(sents[i][CueAgain], quote(CueAgain, i, loc[0], loc[1]))
			}
		}
	}
	// (The thing named alone at a sentence's start, beside words of a
	// private meeting, in a draft that asks and names no work and no
	// group: "so, the just-us thing. yes? no? maybe?", "the thing,
	// tonight, just you and me, yes/no?" point back to it as well.)
	if slices.ContainsFunc(sents, func(s sentence) bool { return s.personal() }) && !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork, CueGroup) }) && slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, "?") }) && !slices.ContainsFunc(texts, func(t string) bool { return d.ownNo(t) }) {
		for i := range sents {
			loc := d.set(SetPointer).first(texts[i])
			if loc == nil || loc[0] != 0 || !sents[i].personal() || sents[i].has(CueAgain) {
				continue
			}
			// (Named alone: the words end the sentence or a clause.)
			if rest := texts[i][loc[1]:]; rest != "" && !strings.ContainsAny(texts[i][loc[1]-1:loc[1]], ",.?!") && !strings.HasPrefix(rest, ",") && !strings.HasPrefix(rest, ".") && !strings.HasPrefix(rest, "…") {
				continue
			}
			sents[i][CueAgain] = append(sents[i][CueAgain], quote(CueAgain, i, loc[0], loc[1]))
		}
	}
	// The others told of in a norm or in what was already done are not
	// the meeting's group ("Karaoke on Saturday, I've already told the
	// others you're coming" is still private).
	for i := range sents {
		if g := sents[i].groups(); len(g) < len(sents[i][CueGroup]) {
			sents[i][CueGroup] = g
		}
	}
	// A group named in the sentence next to a meeting makes it a group
	// meeting ("Lunch? Let's all go"): only the neighbours' own groups
	// count, so a group does not spread along the draft.
	// (Not the others told of in a norm or in what was already said to
	// them: "I've told the others you'll be there" names who is pressed
	// on, not who comes.)
	// (Nor the others told of in a sentence about something done that
	// asks nothing: 「店舗のみんなも褒めてたよ」 before 「一度くらい付き合って
	// くれてもいいだろう」.)
	lends := func(j int) bool {
		return j >= 0 && j < len(sents) && len(sents[j].groups()) > 0 && (sents[j].has(CueAsk, CueDemand, CueMeeting, CuePrivate) || !d.set(SetPast).in(texts[j]))
	}
	var lent []int
	for i := range sents {
		if !sents[i].has(CueGroup) && sents[i].has(CueMeeting) && (lends(i-1) || lends(i+1)) {
			lent = append(lent, i)
		}
	}
	for _, i := range lent {
		for _, j := range []int{i - 1, i + 1} {
			if lends(j) && !slices.Contains(lent, j) {
				sents[i][CueGroup] = append(sents[i][CueGroup], sents[j].groups()...)
			}
		}
	}
	// A private contact or meeting made small (set make-light, read up to
	// where the cue's words start: "It was just coffee", "its literally
	// just an insta follow", "I'm not asking for your kidney, just your
	// email") answers a reluctance: it pushes past a no, whatever the
	// thing made small is called. Not with a softener, nor at work or
	// with a group ("it's just lunch with the team").
	madeLight := map[int]bool{}
	for i, s := range sents {
		if !s.personal() || s.work() || s.has(CueSoften) {
			continue
		}
		// (What is made small is a meeting or a contact named, not the
		// two of them: "Dinner tonight? Just you and me" makes it private.)
		for _, h := range s.evidence(CueMeeting, CueContact) {
			at := strings.Index(texts[i], h.Norm)
			if at <= 0 || slices.ContainsFunc(s[CuePrivate], func(p Hit) bool { return p.Norm == h.Norm }) {
				continue
			}
			// (The cue's words may start with the set's last word: "only
			// your email" holds the contact "your email".)
			loc := d.set(SetMakeLight).first(texts[i][:at])
			if sp := strings.IndexByte(h.Norm, ' '); loc == nil && sp > 0 {
				loc = d.set(SetMakeLight).first(texts[i][:at+sp+1])
			}
			if loc != nil {
				sents[i][CueAgain] = append(sents[i][CueAgain], quote(CueAgain, i, loc[0], at+len(h.Norm)))
				madeLight[i] = true
				break
			}
		}
	}
	// The writer's earlier ask told of as done (set told-ask: "I know I
	// asked about LINE a while back"), in a draft that asks nothing (no
	// ask, demand, other offer or question) and eases ("No need to reply
	// to this at all"), looks back without asking again: a goodbye or an
	// apology that names the old ask. (Not when other words ask again:
	// "if you ever change your mind".)
	toldOnly, eases, asksAny := false, false, false
	for i, s := range sents {
		eases = eases || s.has(CueSoften, CueWithdraw)
		asksAny = asksAny || s.has(CueAsk, CueDemand, CueAlt, CueCompare) || strings.Contains(texts[i], "?") || madeLight[i]
		for _, a := range s[CueAgain] {
			if s.work() {
				continue // ("the same project again")
			}
			if !d.set(SetToldAsk).in(a.Norm) {
				asksAny = true
			}
			toldOnly = true
		}
	}
	if toldOnly && eases && !asksAny {
		for i := range sents {
			delete(sents[i], CueAgain)
		}
	}
	ev := map[string][]Hit{}
	add := func(id string, hits ...Hit) {
		if _, ok := ev[id]; !ok {
			ev[id] = []Hit{}
		}
		for _, h := range hits {
			if !containsHit(ev[id], h) {
				ev[id] = append(ev[id], h)
			}
		}
	}

	// What points back to an earlier no, outside work talk: asking again,
	// or the no itself.
	var again, declined []Hit
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
			if s.has(CueGuilt, CueCompare) && (!s.has(CueDemand) || slices.ContainsFunc(s[CueGuilt], func(g Hit) bool { return d.set(SetHurtNo).in(g.Norm) })) {
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
	// Trading across after a no: a private contact or meeting named with
	// a no, in a sentence that asks nothing ("インスタがだめなのはわかった",
	// "drinks are out"), then something else offered in the next one
	// ("じゃあXは？", "What about Discord?", "Brunch on Sunday, just
	// us?"). The no is taken note of in a few words: a longer sentence
	// with a "not" in it is about something else ("the work phones may not
	// get a signal"). Not the writer's own no ("I can't do dinner. What
	// about lunch?").
	// (A sentence of feeling between them does not part them: "You
	// turned down dinner. Honestly that stung. Friday then?")
	traded, tradedFor := -1, -1
	for i := 0; i+1 < len(sents); i++ {
		k := pushAfter(sents, texts, i)
		s, t := sents[i], sents[k]
		if !s.personal() || !s.has(CueRefusal) || s.has(CueAsk, CueDemand, CueSoften, CueWithdraw) || s.work() || s.why() || d.ownNo(texts[i]) || !brief(texts[i]) {
			continue
		}
		// (A short question opened by a "but" offers another thing too:
		// "Fine, no drinks. But lunch?")
		turned := d.set(SetTurn).opens(texts[k]) && t.has(CueAsk) && strings.HasSuffix(texts[k], "?") && brief(texts[k])
		if t.work() || t.why() || !(t.has(CueAlt) || t.personal() && t.has(CueAsk) || turned) {
			continue
		}
		declined = append(declined, s.evidence(CueRefusal)...)
		traded, tradedFor = i, k
	}
	// (Or both in one sentence: "教えたくないって言われたけど、じゃあ
	// カカオは？".)
	for i, s := range sents {
		if s.personal() && s.has(CueRefusal) && s.has(CueAlt) && !s.work() && !s.why() && !d.ownNo(texts[i]) {
			declined = append(declined, s.evidence(CueRefusal)...)
		}
	}
	// A comparison with others beside a sentence that tells of the
	// reader's no about something private ("LINE教えてもらえなかった。
	// みんなは教えてくれたのに") shows that no: what the comparison asks
	// for is asked again.
	for i, s := range sents {
		if !s.has(CueCompare) || s.work() {
			continue
		}
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(sents) && sents[j].personal() && !sents[j].work() && sents[j].toldNo(texts[j]) {
				declined = append(declined, sents[j].evidence(CueRefusal, CueDeclined)...)
			}
			// (So does a why about the no beside it: "なんで無理なの？他の人は
			// 交換してくれたのに".)
			if j >= 0 && j < len(sents) && sents[j].why() && !sents[j].work() {
				declined = append(declined, sents[j].evidence(CueRefusal, CueDeclined)...)
			}
		}
	}
	// A comparison that sets the others against the reader (set against,
	// read from the comparison's words on: "山田さんはすぐ教えてくれたのに
	// なー", "佐々木さんは来てくれたけどね") shows the reader's no: what it
	// asks for is asked again.
	for i, s := range sents {
		if s.work() {
			continue
		}
		for _, h := range s[CueCompare] {
			if at := strings.Index(texts[i], h.Norm); at >= 0 && d.set(SetAgainst).in(texts[i][at:]) {
				declined = append(declined, h)
				break
			}
		}
	}
	// Guilt in one sentence and the push in the next ("ドライブ、すごく
	// 楽しみにしてたのにな…来週なら行ける？"): a sentence of guilt told as
	// the hurt of a no (set hurt-no, in the guilt's words) or about the
	// reader's no, that asks nothing itself, tells of a no; the ask after
	// it pushes past that no. (Guilt with no no in it, "私だけ仲間外れ
	// みたいで悲しい…交換しよ？", asks the first time.)
	for i := 0; i+1 < len(sents); i++ {
		s, t := sents[i], sents[i+1]
		hurt := slices.ContainsFunc(s[CueGuilt], func(g Hit) bool { return d.set(SetHurtNo).in(g.Norm) })
		if !s.has(CueGuilt) || s.has(CueAsk, CueDemand, CueAlt, CueSoften, CueWithdraw) || s.work() || strings.Contains(texts[i], "?") || !(hurt || s.toldNo(texts[i])) {
			continue
		}
		if t.work() || t.why() || t.has(CueSoften, CueWithdraw) || !t.has(CueAsk, CueDemand, CueAlt) || !(t.personal() || s.personal()) {
			continue
		}
		declined = append(declined, s.evidence(CueGuilt)...)
	}
	back := append(slices.Clip(again), declined...)

	// An ask for a private contact or meeting: both in one sentence, or
	// the ask in a sentence next to it ("A hike on Sunday. Want to
	// join?"). Asking why they said no is not an ask for the contact. A
	// private contact named next to words of asking again is an ask too
	// ("考え直してくれた？番号の件"), and so is one named with a
	// comparison with others who gave it ("みんな交換してくれたのに",
	// "everyone follows me except you"): the others are held up as the
	// reason to give it.
	// A comparison in a draft that asks why they said no ("みんな教えて
	// くれたのに、なんで私だけダメなの", "Why won't you? Everybody else is
	// on LINE") asks too: it holds the others up as the reason to
	// reconsider, and the why presses the same way.
	const compares = true
	// A sentence that tells of the meeting or the ask as past, with no
	// question, next to a why (or a bare "what changed?") backs the
	// why and asks nothing: "What changed? Last week you were up for
	// the hike." (Not one that makes the meeting small: "Why not? It was
	// just coffee." pushes.)
	backsWhy := func(i int) bool {
		if madeLight[i] {
			return false
		}
		// (Or tells of the no itself: "連絡先交換、断られたの私だけらしいね。
		// なんで？".)
		s := sents[i]
		return near(sents, i, func(s sentence) bool { return s.has(CueWhyNo, CueReason) && !s.work() }) && !strings.Contains(texts[i], "?") && (d.set(SetOver).in(texts[i]) || s.has(CueDeclined) && !s.has(CueDemand, CueAlt, CueAgain))
	}
	asks := false
	for i, s := range sents {
		// (A why that is itself an ask again for what it names, "Why
		// not LINE?", asks for it too.)
		// (A comparison that tells what the others gave names the
		// private thing itself: "みんな快くフォローしてくれたのに".)
		givenBy := compares && !s.work() && slices.ContainsFunc(s[CueCompare], func(h Hit) bool { return d.set(SetGiven).in(h.Norm) })
		// (A why that holds a comparison asking for what the others
		// gave, or a no told of beside a why that holds one, asks as the
		// comparison does: "みんなとは交換してるのに、なんで俺だけダメなん？",
		// "連絡先交換、断られたの私だけらしいね。なんで？".)
		cmpAsks := !s.work() && slices.ContainsFunc(s.asking(d, compares, texts[i]), func(h Hit) bool { return h.Cue == CueCompare })
		whyNear := s.why() || near(sents, i, sentence.why) || bareWhy(sents, i) || i+1 < len(sents) && bareWhy(sents, i+1)
		if !s.personal() && !givenBy && !(cmpAsks && whyNear) || s.why() && !s.whyAsksAgain() && !cmpAsks || reproachAlone(sents, texts, i) || backsWhy(i) && !cmpAsks {
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
			if len(ask) == 0 && j >= 0 && j < len(sents) && !sents[j].work() && !sents[j].personal() && !sents[j].why() && !bareWhy(sents, j) {
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
		if len(ask) == 0 && (len(again) == 0 || (s.has(CueDeclined) || d.set(SetTopic).in(texts[i])) && near(sents, i, sentence.why)) {
			continue
		}
		// (Nor one that voices the hurt of the earlier ask's fate (set
		// hurt-no, in the guilt's words) and asks nothing, no question in
		// it and none next to it: "Honestly, I
		// feel pretty rejected after the coffee thing.", "kinda hurt you
		// never answered my msg about the weekend": it looks back to
		// reproach, not to ask again.)
		if len(ask) == 0 && slices.ContainsFunc(s[CueGuilt], func(g Hit) bool { return d.set(SetHurtNo).in(g.Norm) }) && !s.has(CueCompare, CueSunk, CueNorm, CueIgnored) && !strings.Contains(texts[i], "?") && !near(sents, i, func(t sentence) bool { return t.has(CueAsk, CueDemand, CueAlt, CueCompare) }) {
			continue
		}
		asks = true
		add(ContactAsk, s.evidence(personalCues...)...)
		add(ContactAsk, ask...)
	}
	// A why beside a comparison with others who gave the contact or came
	// ("Why won't you give me your number? Everyone else on the team
	// did.", "Alex texts me all the time, why can't you?") presses the
	// reader to reconsider: it asks for what the others gave, as the
	// comparison would alone, and asks again when the why is about the
	// reader's no (see whyCompares).
	for i := range sents {
		if w, ok := whyCompares(sents, i); ok {
			asks = true
			add(ContactAsk, sents[i].evidence(append([]string{CueCompare}, personalCues...)...)...)
			add(ContactAsk, sents[w].evidence(personalCues...)...)
			back = append(back, sents[w].evidence(CueWhyNo, CueRefusal, CueDeclined)...)
		}
	}
	// A complaint of silence in a draft that names no work and no group
	// ("既読ついてるのに返事ない…", "勇気出して誘ったのにスルーされて悲しい")
	// chases the ask that was left unanswered, whatever it was: it asks
	// again for it, though it names nothing private.
	if !asks && !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork, CueGroup) }) {
		for _, s := range sents {
			if s.has(CueIgnored) {
				asks = true
				add(ContactAsk, s[CueIgnored]...)
			}
		}
	}
	if traded >= 0 && !asks {
		asks = true
		add(ContactAsk, sents[traded].evidence(personalCues...)...)
		add(ContactAsk, sents[tradedFor].evidence(CueAlt, CueAsk)...)
	}
	// Coming back to a no without naming what was asked ("考え直して
	// くれた？", "have you reconsidered?") asks again for it, unless the
	// draft is about work or names what the no was about ("changed your
	// mind about the design?").
	// (A sentence that only points back, "So about the other day…", names
	// no other matter, and words of asking again with an ask next to it
	// come back to what it points to: "…would you maybe give it another
	// shot sometime?")
	topic := func(i int) bool {
		return i >= 0 && i < len(sents) && d.set(SetTopic).in(texts[i]) && sents[i].only(CueObject, CueAgain, CueSoften)
	}
	otherMatter := false
	for i, s := range sents {
		if s.has(CueWork) || s.has(CueObject) && !topic(i) {
			otherMatter = true
		}
	}
	bareAnswer := !slices.ContainsFunc(sents, func(s sentence) bool { return s.personal() || s.has(CueGroup, CueWork, CueObject) })
	if !asks && !otherMatter {
		for i, s := range sents {
			// (Asking whether the no still holds, "まだダメなの？", "still a
			// no?", points back to it as well.)
			chases, again := s.chases(), s.evidence(CueAgain)
			// (Or asks for an answer in a draft that names nothing
			// private, no group and no work: "返事、今日中にもらえる？",
			// "もう待てないよ、返事して" can only be about an ask made
			// before.)
			if !chases && bareAnswer && slices.ContainsFunc(s[CueReply], func(h Hit) bool { return d.set(SetMsgAnswer).in(h.Norm) }) && s.has(CueAsk, CueDemand) {
				chases, again = true, s.evidence(CueReply)
				back = append(back, again...)
			}
			// (Or offers another day in a few words in such a draft:
			// "じゃあ来週は？いつなら空いてる？" offers it in place of one
			// the reader refused; "じゃあ明日の朝イチで共有お願いできますか？"
			// asks for a task.)
			if !chases && bareAnswer && slices.ContainsFunc(s[CueAlt], func(h Hit) bool { return d.set(SetDay).in(h.Norm) && utf8.RuneCountInString(h.Norm) <= 14 }) && s.has(CueAsk, CueDemand) {
				chases, again = true, s.evidence(CueAlt)
				back = append(back, again...)
			}
			// (Or asks for the answer next to a sentence that asks again:
			// "考えてくれた？今夜までに答え聞かせて".)
			for _, j := range []int{i - 1, i + 1} {
				if !chases && s.has(CueReply) && s.has(CueAsk, CueDemand) && !s.has(CueGroup) && j >= 0 && j < len(sents) && sents[j].has(CueAgain) && sents[j].has(CueAsk) && !sents[j].has(CueGroup) && !sents[j].why() {
					chases, again = true, sents[j].evidence(CueAgain)
				}
			}
			// (A no told of beside a why backs the why; a chase beside
			// it still chases: "you don't reply my message from last
			// week... Did I make you angry?")
			pointed := s.has(CueAgain) && s.has(CueAsk) && (topic(i-1) || topic(i+1))
			// (Or names the matter in its own opening clause, in a draft
			// that names nothing else: "この前言ってた件、考えてくれた？",
			// "この前言うてた件、まだ有効やで？")
			if at := strings.Index(texts[i], "、"); !pointed && bareAnswer && at > 0 && s.has(CueAgain) && s.has(CueAsk) && d.set(SetTopic).in(texts[i][:at]) {
				pointed = true
			}
			if !(s.has(CueDeclined) || chases || s.asksIfStillNo() || pointed) || s.why() || !chases && backsWhy(i) {
				continue
			}
			ask := s.evidence(CueAsk, CueDemand)
			if chases {
				ask = append(ask, s.evidence(CueReply)...)
			}
			back := s.evidence(CueDeclined)
			if len(back) == 0 {
				back = again
			}
			for _, j := range []int{i + 1, i - 1} {
				// (Not the words of a softener that only eases the
				// reader's mind: "断られてショックだった…まあ気にしないで".)
				if len(ask) == 0 && j >= 0 && j < len(sents) && !sents[j].why() && !bareWhy(sents, j) {
					ask = sents[j].outsideSoften(texts[j], CueAsk, CueDemand)
				}
			}
			if len(ask) > 0 {
				asks = true
				add(ContactAsk, back...)
				add(ContactAsk, ask...)
			}
		}
	}
	anyWork := slices.ContainsFunc(sents, sentence.work)
	// (A softener in a sentence about work eases the work, not a private
	// ask further on in a long message: "見積もりOKです" or "資料も急ぎま
	// せん" before "今度二人で飲みに行きません？"; right after the ask it
	// eases the ask: "your cell for the trip? Totally fine to say no, I can
	// go through the office.")
	softened := false
	for i, s := range sents {
		if s.has(CueSoften) && (!s.work() || i > 0 && sents[i-1].personal()) {
			softened = true
		}
	}
	// A private meeting stated as a plan, not asked ("Friday, 7pm. You
	// and me.", "土曜の夜、駅前で7時。ふたりでね"): in a draft that asks
	// nothing, softens nothing and voices no feeling about a no, a
	// sentence that names the two of them, is no question and tells of
	// nothing past is a demand (not in a draft about work: "3pm, room B.
	// You and me on the contract").
	// (A private meeting set at an hour and a place in a sentence of its
	// own is a plan stated even beside an ask elsewhere: "返事くれないと、
	// ずっと待っちゃうからね？今日の夜ご飯、19時に駅で".)
	if !softened && !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork, CueGroup) }) {
		for i, s := range sents {
			if s.has(CueMeeting) && !s.has(CueAsk, CueDemand, CueGroup) && d.set(SetClock).in(texts[i]) && !strings.Contains(texts[i], "?") && !d.set(SetPast).in(texts[i]) {
				asks = true
				add(ContactAsk, s.evidence(personalCues...)...)
				add(Demand, s.evidence(CueMeeting)...)
			}
		}
	}
	// (A private meeting told as settled, the sentence ending on the
	// plan, is a plan stated whatever else the draft says: "今夜こそ飲み
	// 行くよ！", "断るのはなしね！週末ドライブ行くよ".)
	if !softened && !anyWork {
		for i, s := range sents {
			if s.personal() && !s.has(CueGroup) && !strings.Contains(texts[i], "?") && d.set(SetPlanTold).in(texts[i]) {
				asks = true
				add(ContactAsk, s.evidence(personalCues...)...)
				add(Demand, s.evidence(CueMeeting, CuePrivate)...)
			}
		}
	}
	if !asks && !softened && !slices.ContainsFunc(sents, func(s sentence) bool {
		return s.has(CueAsk, CueReason, CueWhyNo, CueWithdraw, CueGuilt, CueFavour, CueCompare, CueRefusal, CueDeclined, CueHint)
	}) {
		for i, s := range sents {
			if s.has(CuePrivate) && !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork) }) && !s.has(CueGroup) && !strings.Contains(texts[i], "?") && !d.set(SetPast).in(texts[i]) {
				asks = true
				add(ContactAsk, s.evidence(personalCues...)...)
				add(Demand, s.evidence(CuePrivate)...)
			}
			// (Or a private meeting set at an hour, with no group in the
			// draft: "明日の夜、駅前のバルに7時。待ってるから". The hour
			// may stand in the next or the last line, one that names no
			// other meeting: "Dinner today!\nI'll wait for you in the
			// lobby at 6.")
			if s.has(CueMeeting) && d.clockNear(sents, texts, i) && !slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueWork, CueGroup) }) {
				asks = true
				add(ContactAsk, s.evidence(personalCues...)...)
				add(Demand, s.evidence(CueMeeting)...)
			}
		}
	}

	// (A private meeting named with its day as an invitation, no
	// question in the draft, "Karaoke tonight!", then set at an hour on
	// the next or the last line, "I'll meet you by the north gate at 9.",
	// is a plan stated too: in a draft that softens nothing, voices no
	// feeling about a no, names no work nor group, and asks nothing but
	// by naming meetings.)
	if asks && !softened && !slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, "?") }) && !slices.ContainsFunc(sents, func(s sentence) bool {
		return s.has(CueReason, CueWhyNo, CueWithdraw, CueGuilt, CueFavour, CueCompare, CueRefusal, CueDeclined, CueHint, CueWork, CueGroup)
	}) && namesOnly(sents, texts) {
		for i, s := range sents {
			if s.has(CueMeeting) && s.has(CueAsk) && d.clockNear(sents, texts, i) {
				add(ContactAsk, s.evidence(personalCues...)...)
				add(Demand, s.evidence(CueMeeting)...)
			}
		}
	}

	for i, s := range sents {
		// Asking again: the ask together with what points back to a no,
		// or a "you said no, but..." with an ask of its own.
		if asks && len(back) > 0 {
			add(RepeatAsk, back...)
			add(RepeatAsk, ev[ContactAsk]...)
		}

		// Asking again why, about something private.
		// (Not by words that only point to the ask the why is about, or
		// ease it, set look-back: "So what's your excuse this time for
		// skipping drinks?", "Why exactly did you decline the dinner
		// invite?", "What made you change your mind about Saturday?": a
		// why about a no looks back to it. Words that say the ask is made
		// again or push past the no still do: "Sorry for asking again,
		// but why won't you swap numbers?", "Why is one drink with me such
		// a big deal?")
		whyAgain := slices.DeleteFunc(slices.Clone(again), func(h Hit) bool { return d.set(SetLookBack).in(h.Norm) })
		if s.why() && s.personal() && len(whyAgain) > 0 {
			add(RepeatAsk, whyAgain...)
			add(RepeatAsk, s.evidence(personalCues...)...)
		}
		if s.has(CueDeclined) && s.has(CueAsk) && !s.why() && !s.work() && !reproachAlone(sents, texts, i) && !backsWhy(i) && (s.personal() || !s.has(CueObject) && !nearWork(sents, i)) {
			add(RepeatAsk, s.evidence(append([]string{CueDeclined, CueAsk}, personalCues...)...)...)
		}

		// Why they said no. A bare "why not?" next to work talk is about
		// the work.
		aboutWork := s.work() || !s.has(CueDeclined) && !s.personal() && nearWork(sents, i)
		if s.has(CueWhyNo) && !aboutWork {
			add(ReasonAsk, s.evidence(CueWhyNo)...)
		}
		// A bare "why?" after a no, or before pushing past one ("なんで？
		// LINEくらいいいじゃん").
		if s.has(CueReason) && s.only(CueReason, CueAsk, CueObject) {
			if i > 0 && sents[i-1].has(CueRefusal, CueDeclined) && !sents[i-1].work() {
				add(ReasonAsk, s.evidence(CueReason)...)
				add(ReasonAsk, sents[i-1].evidence(CueRefusal, CueDeclined)...)
			} else if i+1 < len(sents) && sents[i+1].has(CueAgain, CueDeclined) && (sents[i+1].personal() || sents[i+1].has(CueDeclined) && sents[i+1].only(CueDeclined, CueRefusal)) {
				// (Or a sentence that only names the no: "Was it
				// because I'm your senior? The no, I mean.")
				add(ReasonAsk, s.evidence(CueReason)...)
				add(ReasonAsk, sents[i+1].evidence(CueAgain, CueDeclined)...)
			}
		}
		// ("Why haven't you replied?" presses for an answer: rush, not
		// a why.)
		if s.has(CueReason) && (s.has(CueRefusal, CueDeclined) || s.personal()) && !aboutWork && !s.has(CueIgnored) {
			add(ReasonAsk, s.evidence(append([]string{CueReason, CueRefusal, CueDeclined}, personalCues...)...)...)
		}

		// A demand about something personal or about its answer (or
		// demanding the reason of a no).
		// (The object may be in the sentence before: "LINE ID です！追加しといて".)
		// (Or a why about something private with the no in other words:
		// "You still haven't told me why you bailed on dinner.\nI think
		// I deserve an explanation.")
		prevWhy := i > 0 && !sents[i-1].work() && (sents[i-1].why() || sents[i-1].has(CueReason) && sents[i-1].personal())
		nearPersonal := false
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(sents) && sents[j].personal() && !sents[j].has(CueSoften) {
				nearPersonal = true
			}
		}
		// Pressing for an answer, not about a group's event (忘年会の
		// 出欠、金曜までに返事ください) nor about the work talk next to it
		// (今日中に返事ちょうだい！会議室を押さえたいので).
		// (Nor about a group's event told of in the sentence before: "Hi
		// everyone, team nomikai on the 24th. Please reply by Wednesday.")
		pressing := s.has(CueReply) && s.has(CueRush, CueIgnored) && !s.has(CueGroup) && !nearWork(sents, i) && !nearGroupEvent(sents, i)
		if s.has(CueDemand) && !s.work() && (s.personal() || s.why() || prevWhy || pressing || (nearPersonal || !anyWork && !softened) && asks && !s.has(CueSoften)) {
			add(Demand, s.evidence(append([]string{CueDemand, CueReply}, personalCues...)...)...)
		}
		// A question that takes the yes for granted (set granted:
		// "you're coming, right?", "you'll come, won't you?") leaves no
		// room for a no: a demand, about something private.
		if loc := d.set(SetGranted).first(texts[i]); loc != nil && !s.work() && (s.personal() || nearPersonal || asks) && !s.has(CueSoften) && !softened {
			add(Demand, quote(CueDemand, i, loc[0], loc[1]))
			add(Demand, s.evidence(personalCues...)...)
		}

		// Urgency about something personal or about the answer, in the
		// same sentence or right next to the personal ask; not next to
		// work talk.
		if s.has(CueRush) && !s.work() && (s.personal() || !nearWork(sents, i)) {
			// In a draft that asks and says nothing of work, urgency
			// anywhere is about the ask.
			// (An answer asked for next to a group's event is about the
			// event: 今日の夜、チームで打ち上げです。参加できる人は返信ください.)
			// (Not in thanks for a meeting that is over: "thanks for
			// lunch today, that was fun".)
			// (Or in a sentence that asks why they said no: the reason of a
			// no is wanted by a deadline, 「今日中に、なんでダメなのか教えて」.)
			near := s.personal() && !d.set(SetPast).in(texts[i]) || s.has(CueReply) && !s.has(CueGroup) && !nearGroupEvent(sents, i) || asks && !anyWork && !softened && !nearGroupEvent(sents, i) || s.why() && !aboutWork
			for _, j := range []int{i - 1, i + 1} {
				if j >= 0 && j < len(sents) && (sents[j].personal() && (sents[j].has(CueAsk) || s.has(CueAsk, CueDemand)) || sents[j].has(CueReply) && !sents[j].has(CueGroup) && !s.has(CueGroup)) {
					near = true
				}
			}
			if near {
				add(Rush, s.evidence(append([]string{CueRush, CueReply}, personalCues...)...)...)
			}
		}
		// (A complaint of silence is no urgency by itself: it is rush only
		// with a deadline, read above.)

		// The reader's nos counted back at them (set count: "You said no
		// to lunch, no to drinks, no to everything", "Every invite gets a
		// no", "You've turned down lunch three times now") shame the
		// refusal: guilt. Not the writer's own no or own asks counted (set
		// own-asks: "I asked you out twice"), nor at work, nor beside a
		// softener ("I hate to ask twice, and please say no if it's still
		// a no").
		if !s.work() && !s.has(CueSoften) && !d.ownNo(texts[i]) && (s.has(CueDeclined) || s.why() || s.has(CueRefusal) && s.personal()) {
			if d.set(SetCount).in(texts[i]) && !d.set(SetOwnAsks).in(texts[i]) {
				add(Guilt, s.evidence(CueDeclined, CueRefusal, CueWhyNo)...)
			}
		}

		// Guilt, or comparing with others about something personal. A
		// favour held against the reader is guilt even in a sentence
		// about work when it names a private meeting ("after I covered
		// your review, one coffee is the least you could do"); a
		// feeling about a work meal is not ("gutted I missed the client
		// dinner").
		// (Nor is a group's own event, told of with nothing private in
		// it: "the izakaya for the team party is booked".)
		groupEvent := s.has(CueGroup) && s.has(CueMeeting) && !s.has(CueContact, CuePrivate, CueCompare, CueRefusal)
		// (Nor a let-down alone right after a question about work, in a
		// draft that asks nothing private: it goes on with the question,
		// "なんで先方は他社を選んだんだろう？うちの方が安かったのに".)
		workLetDown := s.only(CueGuilt, CueObject) && !asks && i > 0 && sents[i-1].work() && strings.Contains(texts[i-1], "?")
		if s.has(CueGuilt, CueFavour) && !s.work() && !groupEvent && !workLetDown {
			add(Guilt, s.evidence(CueGuilt, CueFavour)...)
		} else if s.has(CueFavour) && (s.has(CueMeeting) || s.has(CueRefusal, CueDeclined) && !s.has(CueDemand) && !strings.Contains(texts[i], "?")) && !s.has(CueGroup) {
			// (Or held against the reader's no, asking nothing: "Didn't
			// think you'd turn me down after everything I did for you on
			// the Osaka project.")
			add(Guilt, s.evidence(CueFavour, CueMeeting)...)
		} else if s.has(CueFavour) && asks && !s.has(CueGroup) {
			// (A favour at work held up in a draft that asks for
			// something private: "I stayed late three times to help you,
			// so drinks Friday?")
			add(Guilt, s.evidence(CueFavour)...)
			add(Guilt, ev[ContactAsk]...)
		}
		// (Or one that names an office or a team beside a why about a
		// contact: see whyCompares.)
		if _, why := whyCompares(sents, i); s.has(CueCompare) && (!s.work() || why) {
			add(Guilt, s.evidence(CueCompare, CueContact)...)
		}
		// Something already done or paid for the plan ("もう二人分予約
		// した", "non-refundable"), or what people are supposed to do
		// ("普通は断らないもんだよ", "normal people don't"), makes
		// declining feel wrong: guilt, about a private meeting or next to
		// a personal ask.
		// (A group named as the others of the norm or of what was told,
		// "the rest of the team always does", "I've told the others
		// you'll be there", does not make the meeting a group's.)
		if s.has(CueSunk, CueNorm) && !s.work() && len(s.groups()) == 0 {
			near := s.personal()
			for _, j := range []int{i - 1, i + 1} {
				// (Or next to a why about something private: "why'd u say
				// no to the concert tho?? i literally got the tix for us".)
				if (asks || j >= 0 && j < len(sents) && sents[j].why()) && j >= 0 && j < len(sents) && sents[j].personal() && !sents[j].has(CueGroup) {
					near = true
				}
			}
			if near {
				add(Guilt, s.evidence(append([]string{CueSunk, CueNorm}, personalCues...)...)...)
			}
		}

		if s.has(CueHint) {
			add(Hinting, s.evidence(CueHint)...)
		}
	}

	// A question that takes the yes for granted (set granted: "来てくれる
	// よね？", "番号だけならいいよね？") leaves no room for a no: in a draft
	// that asks for something private, softens nothing and names no work,
	// it is a demand. (Not about a group's event nor something past.)
	if asks && !softened && !anyWork {
		for i, s := range sents {
			// (The past is read in the last clause: "この前NGって言われた
			// けど、番号だけならいいよね？" takes the yes for granted.)
			last := texts[i]
			if at := d.set(SetClause).lastEnd(last); at > 0 {
				last = last[at:]
			}
			if loc := d.set(SetGranted).first(texts[i]); loc != nil && !s.has(CueGroup) && !d.set(SetPast).in(last) {
				add(Demand, quote(CueDemand, i, loc[0], loc[1]))
			}
		}
	}

	// Brooding over the reader's no, told to the reader ("気になって夜も
	// 寝られへん", "ずっと考えてるんだけど分からなくて"), in a draft that
	// tells of that no or asks why, presses with the writer's distress:
	// guilt. (Not sleep lost over work: "システム障害が気になって眠れ
	// ませんでした".)
	if !anyWork && slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueDeclined) || s.why() }) {
		for i, s := range sents {
			if loc := d.set(SetBrooding).first(texts[i]); loc != nil && !s.work() {
				add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}

	// A departure on a near day ("I'm leaving Japan on Friday", "since
	// you leave tomorrow", set departure), in a draft that asks for
	// something private and talks of no work, sets the ask a deadline:
	// rush.
	if asks && !anyWork {
		for i, s := range sents {
			if loc := d.set(SetDeparture).first(texts[i]); loc != nil && !s.work() {
				add(Rush, quote(CueRush, i, loc[0], loc[1]))
			}
		}
	}

	// Waiting on the answer told as long ("既読スルーされたまま1週間経つん
	// ですけど", "そろそろ返事くれてもよくない？もう1週間だよ"), in a draft
	// that presses for that answer, reproaches the silence: guilt. (Not the
	// time since a no, with no answer awaited: "もう1ヶ月経ったし、そろそろ
	// LINEいいんじゃない？" asks again without reproach.)
	if asks && !anyWork && slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueIgnored, CueReply) && !s.has(CueGroup) }) {
		for i := range sents {
			if loc := d.set(SetWaited).first(texts[i]); loc != nil && !sents[i].work() {
				add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}

	// The writer's own word held up, then a why about what the reader did
	// instead ("飲み会のあと送るって言ったのに、なんで先に帰っちゃったの？",
	// "週末空けといてって言ったよね？なんで別の予定入れてるの"): the why
	// asks for the reason of a no in deed, and the word held up reproaches.
	for i, s := range sents {
		loc := d.set(SetSaidSo).first(texts[i])
		if loc == nil || s.work() || anyWork {
			continue
		}
		for _, j := range []int{i, i + 1} {
			if j < len(sents) && sents[j].has(CueReason) && !sents[j].work() {
				add(ReasonAsk, sents[j][CueReason]...)
				add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
				break
			}
		}
	}

	// A draft that is only a why, in a few words ("なんで？", "えっ、なんで？
	// ｗ 理由気になるんだけど"), answers the no it replies to: it asks why.
	// (Not a why about a thing named: "なんでこの仕様になったのか、経緯だけ
	// 教えてもらえますか？".)
	if utf8.RuneCountInString(strings.Join(texts, "")) <= 20 && !slices.ContainsFunc(sents, func(s sentence) bool { return !s.only(CueReason, CueAsk) }) && slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, "?") }) {
		for _, s := range sents {
			add(ReasonAsk, s.evidence(CueReason)...)
		}
		if len(ev[ReasonAsk]) == 0 {
			delete(ev, ReasonAsk)
		}
	}

	// Asked as a question beside a no in sight (the reader's no told, its
	// hurt, or silence reproached: "is it something wrong with me? I feel
	// so rejected rn"), whether it was the writer is itself a why about
	// that no: reason-ask, and the guilt below.
	if _, whyNo := ev[ReasonAsk]; !whyNo && !anyWork && slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueRefusal, CueDeclined, CueGuilt, CueIgnored) }) {
		for i, s := range sents {
			if loc := d.set(SetWasItMe).first(texts[i]); loc != nil && !s.work() && strings.Contains(texts[i][loc[0]:], "?") {
				add(ReasonAsk, quote(CueReason, i, loc[0], loc[1]))
			}
		}
	}
	// Asking after a no whether it was the writer's fault or the reader's
	// dislike (set was-it-me: "俺なんかした？", "私のこと嫌い？", "それとも
	// 俺だから？") in a draft that asks why puts the reader in the place of
	// comforting the writer: guilt. (Not at work.)
	if _, whyNo := ev[ReasonAsk]; whyNo && !anyWork {
		for i, s := range sents {
			if loc := d.set(SetWasItMe).first(texts[i]); loc != nil && !s.work() {
				add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}

	// Sorrow answering a no: a sad face in a draft that tells of the
	// reader's no about something private, or asks past it ("LINEまだ
	// ダメ？🥺", "こないだ断られたばっかなのにごめん…😢"), is guilt. A sad
	// face on a first ask, with no no in sight, is not (nor the no a
	// softener allows in its sentence, "むりなら全然いいよ"); nor beside the writer's own
	// no ("ごめん、今日は行けない😢") or a no at work. A why about the no
	// holds it too ("why not insta then?? 🥺", "なんでダメなの😢"), unless
	// the draft chases an answer: a why about silence is no no ("you
	// don't reply… did I make you angry? 😢").
	if len(sad) > 0 && !anyWork {
		silence := slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueReply, CueIgnored) })
		// (A why alone beside the sad face asks why they said no: the
		// face tells of the no. "ok but WHY though :sob:", "whyyyy 😢".)
		for _, s := range sents {
			if s.has(CueReason) && s.only(CueReason, CueAsk) && !silence {
				add(ReasonAsk, s.evidence(CueReason)...)
			}
		}
		if _, whyNo := ev[ReasonAsk]; whyNo && !silence {
			add(Guilt, sad...)
		}
		// (So does an ask made again beside it: the face answers the no
		// the ask pushes past, "what if I ask really nicely this time?
		// LINE? 🥺". Not a chase of silence, where no no is in sight.)
		if _, again := ev[RepeatAsk]; again && !silence {
			add(Guilt, sad...)
		}
		// (Or a no that is all its sentence holds, as a quoted answer is,
		// "> Sorry, I'd rather not share my number" then "ok :(": the
		// face answers it.)
		for i, s := range sents {
			if s.has(CueRefusal, CueDeclined, CueStill) && !s.has(CueSoften) && (s.personal() || asks || s.has(CueDeclined) && s.only(CueDeclined, CueRefusal, CueContact, CuePrivate, CueMeeting)) && !d.ownNo(texts[i]) {
				add(Guilt, sad...)
				break
			}
		}
	}

	// (Or a draft that only takes an answer in, with a sad face: "そっか…😢"
	// answers a no.)
	if len(sad) > 0 && len(sents) == 1 && sents[0].only() {
		if d.set(SetAck).in(texts[0]) {
			add(Guilt, sad...)
		}
	}

	// Asking after a no whether it was the writer's fault or the reader's
	// dislike (set was-it-me: "was it something I said?", "do you just
	// not like me?"), in a draft that asks why, puts the reader in the
	// place of comforting the writer: guilt. (Not at work.)
	if _, whyNo := ev[ReasonAsk]; whyNo {
		for i, s := range sents {
			if loc := d.set(SetWasItMe).first(texts[i]); loc != nil && !s.work() {
				add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}

	// A personal ask with nothing that makes "no" easy.
	if asks && !softened {
		add(NoWayOut, ev[ContactAsk]...)
	}

	var flags []Flag
	for _, id := range Flags {
		if hits, ok := ev[id]; ok {
			flags = append(flags, Flag{ID: id, Evidence: hits})
		}
	}
	return flags
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
