package tone

import (
	"slices"
	"strings"
)

// answerAfterInvite: words of asking again that are the answer asked for
// ("Need an answer on the Kyoto trip", "get back to me about dinner") point
// back to an earlier ask, unless a sentence before makes the invitation
// itself: "Dinner Friday? Reply about the time when you can." asks the
// first time. (Not a question about the answer, which looks back to it:
// "Drinks? Did the answer change since last week?"; nor silence told
// of: "karaoke thursday?? haven't heard from you yet".)
func (c *combiner) answerAfterInvite() {
	sents := c.sents
	for i := range sents {
		if !sents[i].has(CueReply) || !sents[i].has(CueAgain) || !sents[i].has(CueAsk, CueDemand) || c.question(i) {
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
}

// apologyThenBut: an apology for an earlier ask followed by a "but"
// ("この間は急に誘っちゃってごめんね。でも…", "Sorry I sprang that on you.
// But…") does not take the ask back: it points back to it, and what follows
// asks again.
// (An apology in other words counts too, when what follows the
// "but" asks for something private: "この前はごめん、強引だったよね。
// でも週末のドライブ、誘ってもいい？".)
func (c *combiner) apologyThenBut() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i := range sents {
		if i+1 >= len(texts) || !d.set(SetTurn).opens(texts[i+1]) {
			continue
		}
		if sents[i].has(CueWithdraw) {
			sents[i].readAs(CueWithdraw, CueAgain)
		} else if loc := d.set(SetApology).first(texts[i]); loc != nil && !sents[i].work() && sents[i+1].asksPrivate() {
			sents[i][CueAgain] = append(sents[i][CueAgain], quote(CueAgain, i, loc[0], loc[1]))
		}
	}
}

// withdrawThenBut: the "but" of apologyThenBut inside one sentence, after
// the words that took the ask back, with something asked after it.
func (c *combiner) withdrawThenBut() {
	d, sents, texts := c.d, c.sents, c.texts
	// (The same "but" inside the sentence, after the words that took the
	// ask back, and something asked after it: "前回断られたのでもう誘わない
	// つもりだったんですけど、やっぱり一度だけ…ランチいかがですか".)
	for i := range sents {
		for _, h := range sents[i][CueWithdraw] {
			at := strings.Index(texts[i], h.Norm)
			if at < 0 || !d.set(SetTurn).in(texts[i][at+len(h.Norm):]) {
				continue
			}
			if !sents[i].has(CueAgain) && !sents[i].asksPrivate() && !(i+1 < len(sents) && sents[i+1].has(CueAsk, CueDemand)) {
				continue
			}
			h.Cue = CueAgain
			sents[i][CueAgain] = append(sents[i][CueAgain], h)
			delete(sents[i], CueWithdraw)
			break
		}
	}
}

// letDownBesideNo: a sentence that is only a let-down ("残念です") beside
// one that tells of the reader's no about something private
// ("ドライブ、来てくれないんですね。残念です") voices the feeling about
// that no: guilt, and the no told of asks nothing (see reproachAlone). (Not
// beside a no told of at work:
// "お客様から…ナシでと連絡がありました。残念…".)
func (c *combiner) letDownBesideNo() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i := range sents {
		loc := d.set(SetLetDown).first(texts[i])
		if loc == nil || sents[i].has(CueGuilt) {
			continue
		}
		for _, j := range []int{i - 1, i + 1} {
			if c.inDraft(j) && sents[j].personal() && !sents[j].work() && sents[j].toldNo(texts[j]) {
				sents[i][CueGuilt] = append(sents[i][CueGuilt], quote(CueGuilt, i, loc[0], loc[1]))
				break
			}
		}
	}
}

// sunkAsPlan: something booked or paid for, in a draft that names no work,
// no group and no other plan, and that asks or tells of a no ("予約もう
// 入れちゃったから…来てくれるよね？", "チケット代もう払っちゃったから、
// キャンセルは無理なんだよね"), is the plan itself: a private meeting
// named. (Not a favour told of alone: "I made extra copies for you".)
func (c *combiner) sunkAsPlan() {
	sents := c.sents
	if !c.privateWorkOrGroup() && c.anyHas(CueAsk, CueDemand, CueRefusal, CueDeclined) {
		for i := range sents {
			if sents[i].has(CueSunk) && !sents[i].has(CueMeeting) {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], sents[i][CueSunk]...)
			}
		}
	}
}

// workBeforeAsk: a sentence whose last clause asks for a private meeting or
// contact and names no work ("You owe me one for the handover, so dinner
// Friday?", 「資料手伝ったんだし、土曜は飲み行こうよ」) is personal,
// whatever work its first clause names.
func (c *combiner) workBeforeAsk() {
	d, sents, texts := c.d, c.sents, c.texts
	for i := range sents {
		if sents[i].has(CueWork) && d.personalTail(sents[i], texts[i]) {
			delete(sents[i], CueWork)
		}
	}
}

// softenerAsks: words of asking inside a softener are the softener's
// ("気にしないで" holds しない): in a sentence that tells of a no they ask
// nothing
// ("飲みの誘い断られたのはショックだったけど、まあ気にしないで" asks
// nothing again). (Where no no is told, a softener alone may be the
// ask: "インスタ繋がってるし、もしよかったら〜", "If you'd like to as
// well that'd be nice".)
func (c *combiner) softenerAsks() {
	sents, texts := c.sents, c.texts
	for i := range sents {
		if !sents[i].has(CueDeclined) {
			continue
		}
		sents[i][CueAsk] = sents[i].outsideSoften(texts[i], CueAsk)
	}
}

// withdrawAsksAgain: a sentence that takes an ask back ("もう聞きません",
// "sorry I kept asking, I won't bring it up again") neither asks nor points
// back to a no, whatever words of the ask it repeats, unless another
// sentence asks for something personal ("Sorry for bugging you again! Your
// insta though?"), a plain meal included ("Sorry for asking again! If
// you ever want to grab lunch, just say the word").
// (Nor does an apology for asking again that the same sentence goes on
// past to ask for something private: 「また誘っちゃってごめんね、週末の
// ドライブ、もし気が変わったら声かけて」 asks again.)
func (c *combiner) withdrawAsksAgain() {
	sents, texts := c.sents, c.texts
	for i := range sents {
		if !sents[i].asksPrivate() {
			continue
		}
		for _, h := range sents[i][CueWithdraw] {
			at := strings.Index(texts[i], h.Norm)
			if at < 0 {
				continue
			}
			rest := texts[i][at+len(h.Norm):]
			in := func(x Hit) bool { return strings.Contains(rest, x.Norm) }
			asksAfter := slices.ContainsFunc(sents[i].evidence(CueAsk, CueDemand), in) && slices.ContainsFunc(sents[i].evidence(personalCues...), in)
			if asksAfter && sents[i].has(CueAgain) {
				h.Cue = CueAgain
				sents[i][CueAgain] = append(sents[i][CueAgain], h)
				sents[i][CueWithdraw] = slices.DeleteFunc(sents[i][CueWithdraw], func(w Hit) bool { return w == h || w.Norm == h.Norm })
				break
			}
		}
	}
}

// threatNotWithdrawal: a withdrawal inside a demand's words is no
// withdrawal.
func (c *combiner) threatNotWithdrawal() {
	sents := c.sents
	// (Nor does a threat that only sounds like one: "今週中に教えてくれ
	// なかったら、もう誘わないからね" holds the withdrawal over the reader
	// as the cost of a no, inside the demand's words.)
	for i := range sents {
		sents[i][CueWithdraw] = slices.DeleteFunc(sents[i][CueWithdraw], func(w Hit) bool {
			return slices.ContainsFunc(sents[i][CueDemand], func(h Hit) bool { return strings.Contains(h.Norm, w.Norm) })
		})
	}
}

// dropWithdrawn: a sentence that takes an ask back, where no other
// sentence asks (see asksElsewhere), keeps only its withdrawal and
// softener.
func (c *combiner) dropWithdrawn() {
	sents := c.sents
	var withdrawn []int
	for i, s := range sents {
		if s.has(CueWithdraw) && !c.asksElsewhere(i) {
			withdrawn = append(withdrawn, i)
		}
	}
	for _, i := range withdrawn {
		sents[i] = sentence{CueWithdraw: sents[i][CueWithdraw], CueSoften: sents[i][CueSoften]}
	}
}

// othersCompared: others named by a work word and held up in a comparison
// beside a meeting ("The whole team said yes to my barbecue. You're the
// only one who said no?", "the whole team goes out with me except you")
// are the ones compared with, not the meeting's company nor work
// talk: the meeting stays the writer's own.
func (c *combiner) othersCompared() {
	sents := c.sents
	for i := range sents {
		compared := sents[i].has(CueCompare) || near(sents, i, func(t sentence) bool { return t.has(CueCompare) })
		if !sents[i].has(CueMeeting) || !sents[i].has(CueGroup) || !compared {
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
}

// silenceAsPrivate: a complaint that an ask was left unanswered, in a draft
// that names no work and no group ("so you just left my invite on read
// huh", 「既読ついとるのに返事ない…」), chases a private ask: the ask it is
// about is the private thing, though it names none. (Not one that
// voices a hurt, whose readings differ: 「既読スルーはさすがにへこむ」.)
func (c *combiner) silenceAsPrivate() {
	sents := c.sents
	if !c.anyHas(CueWork, CueGroup) {
		for i := range sents {
			if !sents[i].has(CueIgnored) || sents[i].personal() || sents[i].has(CueGuilt) {
				continue
			}
			sents[i].lend(CueIgnored, CuePrivate)
		}
	}
}

// inviteAsMeeting: the writer's invitation named as such (set invite:
// 「こんなに誘ってるのに、一回くらい来てくれてもいいんじゃない？」,
// 「誘われたら一回くらい来るでしょ。金曜ね」), in a draft that names no
// work, no group and nothing private, is the private meeting itself where
// its sentence pushes past a no.
// (Not in the reader's own answer to one: 「先日はお誘いありがとう
// ございました。ただ…今回は遠慮させてください」.)
func (c *combiner) inviteAsMeeting() {
	d, texts := c.d, c.texts
	c.inviteMeeting(func(i int, s sentence) bool {
		// (Beside words that push past a no: a reproach alone, 「せっかく
		// 誘ったのに断るとか」, the writer's own no or an apology asks
		// nothing.)
		return s.has(CueAgain) && !s.has(CueWithdraw) && !c.ownNo(i) && !d.set(SetApology).in(texts[i])
	})
}

// inviteMeeting: in a draft that names no work, no group and nothing
// private, and holds neither the writer's own no nor something past, the
// writer's invitation named as such (set invite) in a sentence pressed
// names the private meeting; pressed says which sentences press it.
func (c *combiner) inviteMeeting(pressed func(i int, s sentence) bool) {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if c.namesSomething() || c.anyOwnNoOrPast() {
		return
	}
	for i, s := range sents {
		if !pressed(i, s) {
			continue
		}
		if loc := d.set(SetInvite).first(texts[i]); loc != nil {
			sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, loc[0], loc[1]))
		}
	}
}

// plainMealAsMeeting: a meal named as an outing but not as a private one
// (set plain-meal: "Lunch Thursday?", "grab lunch") is the office's
// everyday meal on its own; in a draft that points back to the reader's no
// about something personal, or asks again, it is the private meeting pushed
// past that no ("You've said no twice now. Third time lucky? Lunch
// Thursday?", "I'd ask you to reconsider the lunch"). Not with a group
// or at work, nor in the writer's own no.
// (A no of the reader's told with the hurt of it points back too: "It
// stings every time you turn me down. Lunch tomorrow?")
func (c *combiner) plainMealAsMeeting() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	pointsBack := false
	for i, s := range sents {
		if s.work() || c.ownNo(i) {
			continue
		}
		if s.has(CueAgain, CueDeclined, CueStill) || s.has(CueRefusal) && (s.personal() || s.has(CueGuilt) || d.set(SetPlainMeal).in(texts[i])) {
			pointsBack = true
		}
	}
	if pointsBack {
		// A short question made of a day alone (set day, filling the
		// sentence: "Friday?", "Tomorrow night then?") in such a draft
		// offers that day for the meeting pushed past the no: it names
		// the meeting.
		for i, s := range sents {
			if !s.only(CueAsk, CueRush) || !s.has(CueAsk) || !c.question(i) || !brief(texts[i]) || c.anyHas(CueWork, CueGroup) {
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
			asksOrRefuses := s.has(CueAsk, CueDemand, CueAlt, CueCompare, CueRefusal, CueDeclined) || quotedLine(texts[i], 0)
			if s.has(CueMeeting, CueGroup, CueWork) || !asksOrRefuses || c.ownNo(i) {
				continue
			}
			if loc := d.set(SetPlainMeal).first(texts[i]); loc != nil {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, loc[0], loc[1]))
			}
		}
	}
}

// dayAsMeeting: a day asked about in a question (set day:
// 「昨日の誘い、返してくれなかったけど土曜いける？」,
// 「返事もらってないけど、土曜日はOKってことでいい？」), in a draft that
// points back to an earlier ask or no and names nothing else (nothing
// private, no work, no group, no other matter), is the day of the private
// meeting asked for again.
func (c *combiner) dayAsMeeting() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	bareDraft := !c.namesSomething()
	// (The earlier ask's fate told: a no, silence, an answer still owed;
	// not a bare "again", which reschedules as often: 「やっぱり月曜の朝会、
	// オンラインにしません？」.)
	looksBack := slices.ContainsFunc(sents, func(s sentence) bool {
		return s.has(CueDeclined, CueIgnored) || s.hitIn(CueAgain, d.set(SetMsgAnswer))
	})
	if bareDraft && looksBack && !c.anyOwnNo() {
		for i, s := range sents {
			// (A question, or a brief ask: 「来週とかどうでしょう」.)
			if !s.has(CueAsk) || !c.question(i) && !brief(texts[i]) {
				continue
			}
			if loc := d.set(SetDay).first(texts[i]); loc != nil {
				sents[i][CueMeeting] = append(sents[i][CueMeeting], quote(CueMeeting, i, loc[0], loc[1]))
			}
		}
	}
}

// pointerAsked: an earlier ask pointed back to without naming what it was
// (set pointer: "my question from the other night still stands", "so, the
// just-us thing. yes? no?", "You know what I'm gonna ask. same
// question as at the party"), in a draft that names nothing private,
// no work and no group, and that looks back to an ask, a no or a
// silence, is the private thing asked again: what else would be left
// unnamed. (A question alone about the thing asks nothing again:
// "What's the thing you mentioned? I forgot". Not beside the writer's
// own no, nor in a draft about something done: "re: what we talked
// about at the party, I looked into the course and signed up".)
func (c *combiner) pointerAsked() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if !c.privateWorkOrGroup() && !c.anyOwnNoOrPast() {
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
}

// pointerAlone: the thing pointed back to (set pointer), named alone at a
// sentence's start beside words of a private meeting, asks again.
func (c *combiner) pointerAlone() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	// (The thing named alone at a sentence's start, beside words of a
	// private meeting, in a draft that asks and names no work and no
	// group: "so, the just-us thing. yes? no? maybe?", "the thing,
	// tonight, just you and me, yes/no?" point back to it as well.)
	if c.anyPersonal() && !c.anyHas(CueWork, CueGroup) && c.anyQuestion() && !c.anyOwnNo() {
		for i := range sents {
			loc := d.set(SetPointer).first(texts[i])
			if loc == nil || loc[0] != 0 || !sents[i].personal() || sents[i].has(CueAgain) {
				continue
			}
			// (Named alone: the words end the sentence or a clause.)
			if !closesClause(texts[i], loc[1]) {
				continue
			}
			sents[i][CueAgain] = append(sents[i][CueAgain], quote(CueAgain, i, loc[0], loc[1]))
		}
	}
}

// normOthers: the others told of in a norm or in what was already done are
// not the meeting's group ("Karaoke on Saturday, I've already told the
// others you're coming" is still private).
func (c *combiner) normOthers() {
	sents := c.sents
	for i := range sents {
		if g := sents[i].groups(); len(g) < len(sents[i][CueGroup]) {
			sents[i][CueGroup] = g
		}
	}
}

// lendGroups: a group named in the sentence next to a meeting makes it a
// group meeting ("Lunch? Let's all go"): only the neighbours' own groups
// count, so a group does not spread along the draft.
// (Not the others told of in a norm or in what was already said to
// them: "I've told the others you'll be there" names who is pressed
// on, not who comes.)
// (Nor the others told of in a sentence about something done that
// asks nothing: 「店舗のみんなも褒めてたよ」 before 「一度くらい付き合って
// くれてもいいだろう」.)
func (c *combiner) lendGroups() {
	sents := c.sents
	lends := func(j int) bool {
		return c.inDraft(j) && len(sents[j].groups()) > 0 && (sents[j].has(CueAsk, CueDemand, CueMeeting, CuePrivate) || !c.past(j))
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
}

// makeLight: a private contact or meeting made small (set make-light, read
// up to where the cue's words start: "It was just coffee", "its literally
// just an insta follow", "I'm not asking for your kidney, just your
// email") answers a reluctance: it pushes past a no, whatever the
// thing made small is called. Not with a softener, nor at work or
// with a group ("it's just lunch with the team").
func (c *combiner) makeLight() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
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
				c.madeLight[i] = true
				break
			}
		}
	}
}

// toldAskOnly: the writer's earlier ask told of as done (set told-ask: "I
// know I asked about LINE a while back"), in a draft that asks nothing (no
// ask, demand, other offer or question) and eases ("No need to reply
// to this at all"), looks back without asking again: a goodbye or an
// apology that names the old ask. (Not when other words ask again:
// "if you ever change your mind".)
func (c *combiner) toldAskOnly() {
	d, sents := c.d, c.sents
	toldOnly, eases, asksAny := false, false, false
	for i, s := range sents {
		eases = eases || s.has(CueSoften, CueWithdraw)
		asksAny = asksAny || s.has(CueAsk, CueDemand, CueAlt, CueCompare) || c.question(i) || c.madeLight[i]
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
}

// groupOfTwo: a group named (a team lunch, a group thing) and told, in
// its own sentence or the next, to be only the two of them or the
// writer's own people (set two-only: "It's a team lunch now! (team = us
// two lol)", "I made it a group thing! It's me and my roommate lol") is no
// group: the meeting is private, and the sentence that says so names it.
func (c *combiner) groupOfTwo() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i := range sents {
		if !sents[i].has(CueGroup) {
			continue
		}
		for _, j := range []int{i, i + 1} {
			if !c.inDraft(j) {
				continue
			}
			// (Not a few at work: 「今度は森さんも呼んで3人で行きましょう、客先へのご挨拶」.)
			if loc := d.set(SetTwoOnly).first(texts[j]); loc != nil && !sents[j].has(CueWork) {
				delete(sents[i], CueGroup)
				h := quote(CuePrivate, j, loc[0], loc[1])
				sents[i][CuePrivate] = append(sents[i][CuePrivate], h)
				if j != i {
					sents[j][CuePrivate] = append(sents[j][CuePrivate], h)
				}
				break
			}
		}
	}
}

// todayBefore: a sentence that names today (set today) and nothing
// private, no work and no urgency of its own, followed by one that
// offers or asks a private meeting (a ride included) naming no day of
// its own and telling of nothing past, sets the meeting for today: the
// day is read as urgency in the meeting's sentence (今日は荷物多いでしょ？
// 乗ってきなよ). (Not a meeting of a group, nor one for another day:
// 今日はありがとう。来週ご飯行こ.)
func (c *combiner) todayBefore() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i := 0; i+1 < len(sents); i++ {
		s, n := sents[i], sents[i+1]
		loc := d.set(SetToday).first(texts[i])
		if loc == nil || s.personal() || s.has(CueWork, CueRush, CueGroup) || c.past(i) {
			continue
		}
		if !n.has(CuePrivate, CueMeeting) || !n.has(CueAsk, CueDemand, CuePrivate) || n.has(CueRush, CueWork, CueGroup, CueAlt) || c.past(i+1) || d.set(SetDay).in(texts[i+1]) {
			continue
		}
		sents[i+1][CueRush] = append(sents[i+1][CueRush], quote(CueRush, i, loc[0], loc[1]))
	}
}

// ownNoOnly: a draft that asks nothing anywhere (no ask, demand, other
// thing offered, answer pressed, silence reproached, why, urgency, plan
// paid for, no held still, comparison or hint) and tells of the writer's
// own no as done (set own-no-told: 先日は飲みのお誘いをお断りしてしまったのに、気を遣って
// いただいてありがとうございました) only echoes that no: the words in its
// sentence that point back to the earlier ask or tell of a no are the
// writer's, not the reader's no asked past.
func (c *combiner) ownNoOnly() {
	if c.anyHas(CueAsk, CueDemand, CueAlt, CueReply, CueIgnored, CueReason, CueWhyNo, CueRush, CueSunk, CueStill, CueCompare, CueHint) {
		return
	}
	for i, s := range c.sents {
		if s.has(CueAgain, CueDeclined, CueRefusal) && c.d.set(SetOwnNoTold).in(c.texts[i]) {
			delete(c.sents[i], CueAgain)
			delete(c.sents[i], CueDeclined)
			delete(c.sents[i], CueRefusal)
		}
	}
}

// altAfterWhy: a why about the reader's no to something private
// (「どうして週末はダメなんですか？」), then, in the next sentence, something
// else offered as a question that names nothing private of its own
// (「平日ならいけます？」, 「日曜だったら空いてる？」): the offer is the same
// meeting made smaller or moved, past the no. The next sentence takes
// the private thing and the no from the why, so the ask reads as asking
// again. (Not at work, not the writer's own no.)
func (c *combiner) altAfterWhy() {
	sents := c.sents
	for i := 0; i+1 < len(sents); i++ {
		s, t := sents[i], sents[i+1]
		if !s.why() || !s.personal() || !s.has(CueRefusal) || s.work() || c.ownNo(i) {
			continue
		}
		if !t.has(CueAlt) || !t.has(CueAsk) || !c.question(i+1) || t.has(CueWork, CueGroup, CueContact, CuePrivate, CueSoften, CueWithdraw) {
			continue
		}
		for _, id := range []string{CueContact, CuePrivate, CueMeeting, CueRefusal} {
			sents[i+1][id] = append(sents[i+1][id], s[id]...)
		}
	}
}

// apologyThenTry: an apology that points back to an earlier ask (a
// sentence with the words of asking again and an apology, set apology:
// 「こないだは急に誘ってごめんね。」) and a later sentence that asks as a
// question, in a draft that names nothing, no work, no group and no
// other matter (「…来月とかでも、一回だけどうかな？」): the question can
// only ask for the same thing once more, so it names the meeting. (Not
// in a draft that names something: 「急に会議に呼んでごめん。一回だけ
// どうかな？」; not the writer's own no.)
func (c *combiner) apologyThenTry() {
	d, sents, texts := c.d, c.sents, c.texts
	if c.namesSomething() || c.anyOwnNo() {
		return
	}
	for i := range sents {
		if !sents[i].has(CueAgain) || !d.set(SetApology).in(texts[i]) {
			continue
		}
		for j := i + 1; j < len(sents); j++ {
			if !sents[j].has(CueAsk) || !c.question(j) {
				continue
			}
			sents[j].lend(CueAsk, CueMeeting)
			return
		}
	}
}

// rankedInvite: the writer's invitation named as such (set invite) in a
// sentence that holds the writer's standing or a favour over the reader
// as the reason to come (cue guilt: 「課長の俺が誘ってるんだから、来てくれ
// るよな？」, 「先輩が誘ってるんだから来るでしょ？」) and asks it as a
// question, in a draft
// that names no work, no group and nothing private, is the private meeting
// itself: the invitation pressed, whatever the meeting is. (Not a
// reproach of a no, 「せっかく誘ったのに断るとか」, 「真剣に誘ってるのに、
// 流さないでよ」 (no question), nor the writer's own
// no, an apology or something past.)
func (c *combiner) rankedInvite() {
	d, texts := c.d, c.texts
	c.inviteMeeting(func(i int, s sentence) bool {
		return s.has(CueGuilt) && s.has(CueAsk) && c.question(i) && !s.has(CueRefusal, CueDeclined, CueWithdraw, CueSoften) && !c.ownNo(i) && !d.set(SetApology).in(texts[i])
	})
}

// othersByWork: in a comparison that sets the others against the writer
// in a contrast of guilt ("So you'd go bowling with the warehouse guys
// but not with me?", "you'll do karaoke with the night shift crew but not
// with me"), a work word or a group named between the meeting and the
// contrast tells who the others are, not what the meeting is about: the
// sentence is no work talk and no group's event. (A work word before the
// meeting names it, "the client dinner with Mark but not with me"; one
// after the contrast goes on about work, "…but not me, can HR check the
// invite list?")
func (c *combiner) othersByWork() {
	for i, s := range c.sents {
		if !s.has(CueCompare) || !s.has(CueMeeting) || !s.has(CueWork, CueGroup) || s.has(CueContact) {
			continue
		}
		text := c.texts[i]
		contrast := -1
		for _, h := range s[CueCompare] {
			if slices.ContainsFunc(s[CueGuilt], func(g Hit) bool { return g.Norm == h.Norm }) {
				contrast = strings.Index(text, h.Norm)
			}
		}
		meeting := -1
		for _, h := range s[CueMeeting] {
			if at := strings.Index(text, h.Norm); at >= 0 && (meeting < 0 || at < meeting) {
				meeting = at
			}
		}
		if contrast < 0 || meeting < 0 || meeting > contrast {
			continue
		}
		between := true
		for _, h := range s.evidence(CueWork, CueGroup) {
			if at := strings.Index(text, h.Norm); at < meeting || at > contrast {
				between = false
			}
		}
		if between {
			delete(c.sents[i], CueWork)
			delete(c.sents[i], CueGroup)
		}
	}
}

// workLineForNo: a sentence that tells of the reader's no to a private
// contact on a work list or sheet (set roster; the no in its refusal or
// declined cues, or in the words that keep it off, set keep-off), asking
// nothing of its own, then a sentence that offers a work channel in its
// place (set work-line) and names nothing private beside it: "I know
// you'd rather not share your number on the team sheet. Should I put the
// office line down instead?", 「名簿に携帯番号は載せたくないとのこと、了解
// です。代わりに内線を載せておきますね」. The no is accepted and work offered
// instead: neither sentence asks for the contact or asks again. (Not when
// another sentence of the draft names something private or asks again:
// "…I'll list the office line. But can you still text me your cell?")
func (c *combiner) workLineForNo() {
	d, sents, texts := c.d, c.sents, c.texts
	for i := 0; i+1 < len(sents); i++ {
		s, t := sents[i], sents[i+1]
		if !s.has(CueContact) || s.has(CuePrivate, CueMeeting, CueAgain, CueAlt, CueCompare, CueWhyNo, CueReason, CueGuilt, CueRush, CueStill) || c.question(i) || !demandOfNo(s, texts[i]) {
			continue
		}
		if !d.set(SetRoster).in(texts[i]) || !s.has(CueRefusal, CueDeclined) && !d.set(SetKeepOff).in(texts[i]) {
			continue
		}
		if !d.set(SetWorkLine).in(texts[i+1]) || t.has(CuePrivate, CueMeeting, CueDemand, CueCompare, CueGuilt, CueRush, CueStill, CueWhyNo, CueReason) {
			continue
		}
		// (Every contact it names is the work channel, and every word of
		// asking again is the offer in its place: "instead?".)
		rest := d.set(SetWorkLine).strip(texts[i+1])
		if slices.ContainsFunc(t[CueContact], func(h Hit) bool { return strings.Contains(rest, foldKana(h.Norm)) }) ||
			slices.ContainsFunc(t[CueAgain], func(h Hit) bool { return !slices.ContainsFunc(t[CueAlt], func(a Hit) bool { return a.Norm == h.Norm }) }) {
			continue
		}
		if c.elsewherePrivate(i, i+1) {
			continue
		}
		for _, id := range []string{CueContact, CueAsk, CueDemand, CueRefusal, CueDeclined} {
			delete(sents[i], id)
		}
		for _, id := range []string{CueContact, CueAgain, CueAlt} {
			delete(sents[i+1], id)
		}
	}
}

// demandOfNo: every demand in s (text is the sentence) is the verb of the
// reader's no told of, right after it: "you'd rather not | put your number
// on the sheet" tells what they would rather not do, and demands nothing.
func demandOfNo(s sentence, text string) bool {
	for _, h := range s[CueDemand] {
		at := strings.Index(text, h.Norm)
		if !slices.ContainsFunc(s.evidence(CueDeclined, CueRefusal), func(n Hit) bool {
			end := strings.Index(text, n.Norm) + len(n.Norm)
			return end <= at && strings.TrimSpace(text[end:at]) == ""
		}) {
			return false
		}
	}
	return true
}

// elsewherePrivate: a sentence other than sents[i] and sents[j] names
// something private or points back to a no.
func (c *combiner) elsewherePrivate(i, j int) bool {
	for k, s := range c.sents {
		if k != i && k != j && (s.personal() || s.has(CueAgain, CueStill, CueDeclined, CueRefusal, CueIgnored, CueCompare)) {
			return true
		}
	}
	return false
}

// othersLeftOut: a comparison beside a no that singles out the writer
// (set left-out, at the start of the refusal's words: 「同期とはみんなで飲ん
// でるのに、私にだけそっけないよね」) holds the others up against the
// reader: the groups it names are the ones compared with, not the
// meeting's company, and the comparison itself names the private thing
// the writer is left out of. (Not in a sentence about work: 「みんな資料
// 出してくれたのに、私だけ遅れててすみません」 names no no of the reader.)
func (c *combiner) othersLeftOut() {
	d := c.d
	for _, s := range c.sents {
		if !s.has(CueCompare) || s.has(CueWork) || s.personal() {
			continue
		}
		if !slices.ContainsFunc(s[CueRefusal], func(h Hit) bool { return d.set(SetLeftOut).in(h.Norm) }) {
			continue
		}
		in := func(g Hit) bool {
			return slices.ContainsFunc(s[CueCompare], func(h Hit) bool { return strings.Contains(h.Norm, g.Norm) })
		}
		s[CueGroup] = slices.DeleteFunc(s[CueGroup], in)
		if len(s[CueGroup]) == 0 {
			delete(s, CueGroup)
		}
		s.lend(CueCompare, CuePrivate)
	}
}

// thankedThing: a sentence that thanks the reader for how a private thing
// was taken or told (set thanked: "thanks for understanding about the LINE
// thing", 「ご連絡先の件、お気遣いありがとうございます」), no question and
// nothing pressed in it, names a matter settled: its private thing and its
// words of asking again ask nothing, and what follows is work or small
// talk. (Not when another sentence names something private or points
// back to a no, or asks a question not about work: "Thanks for
// understanding about LINE! Could I get your number instead?", 「ご飯の件、
// お気遣いありがとうございます。では来週はいかがですか？」)
func (c *combiner) thankedThing() {
	for i, s := range c.sents {
		if !c.d.set(SetThanked).in(c.texts[i]) || !s.has(CueContact, CueMeeting, CuePrivate) || c.question(i) {
			continue
		}
		if s.has(CueDemand, CueAlt, CueCompare, CueGuilt, CueFavour, CueRush, CueWhyNo, CueReason, CueSunk, CueStill) || c.elsewherePrivate(i, i) || c.asksQuestionElsewhere(i) {
			continue
		}
		for _, id := range []string{CueContact, CueMeeting, CuePrivate, CueAsk, CueAgain, CueRefusal, CueDeclined} {
			delete(c.sents[i], id)
		}
	}
}

// asksQuestionElsewhere: a sentence other than sents[i] is a question that
// asks or offers something, not about work.
func (c *combiner) asksQuestionElsewhere(i int) bool {
	for j, t := range c.sents {
		if j != i && c.question(j) && t.has(CueAsk, CueAlt, CueDemand) && !t.work() {
			return true
		}
	}
	return false
}

// givenAmongWork: a comparison whose own words tell what the others gave
// the writer (set given: "even the part-timers from the other branch
// added me", "the night shift crew gave me their numbers") and that
// holds every work word of its sentence before what was given: the work
// words name who the others are, not a work matter, and the sentence is
// no work talk. (A work word after it or outside the comparison keeps
// it: "everyone added me, can you share the shift rota too?")
func (c *combiner) givenAmongWork() {
	given := c.d.set(SetGiven)
	for i, s := range c.sents {
		if !s.has(CueWork) {
			continue
		}
		before := func(w Hit) bool {
			return slices.ContainsFunc(s[CueCompare], func(h Hit) bool {
				g, at := given.first(h.Norm), strings.Index(h.Norm, w.Norm)
				return g != nil && at >= 0 && at+len(w.Norm) <= g[0]
			})
		}
		if !slices.ContainsFunc(s[CueWork], func(w Hit) bool { return !before(w) }) {
			delete(c.sents[i], CueWork)
		}
	}
}

// othersDidWork: a sentence that only holds others up as having done it
// (a comparison and no other cue but a group: "Even the night porter
// did.", "The whole audit team has.") right after a sentence of work talk,
// in a draft that names nothing private, tells who else did the work: it
// is no comparison of a private thing. (Beside a private ask it stays one:
// "Why won't you add me? Even the new temp did.")
func (c *combiner) othersDidWork() {
	if slices.ContainsFunc(c.sents, sentence.personal) {
		return
	}
	for i := 1; i < len(c.sents); i++ {
		if s := c.sents[i]; s.has(CueCompare) && s.only(CueCompare, CueGroup, CueObject) && c.sents[i-1].work() {
			delete(s, CueCompare)
		}
	}
}

// withdrawThenWayBack: a sentence that takes a private ask back, then one
// outside work talk that points back to the no again or asks for
// something private ("Not gonna ask for your number again, I'll just
// leave mine here. 090-1234-5678 text me whenever", "I'll stop asking
// about Sunday. Unless you change your mind"): the way back left open
// undoes the withdrawal, which reads as asking again. (Not a withdrawal
// the next sentence also makes, nor one followed by work or a work
// channel: "I won't bring it up again. Slack is fine from now on.")
func (c *combiner) withdrawThenWayBack() {
	sents := c.sents
	for i := 0; i+1 < len(sents); i++ {
		s, t := sents[i], sents[i+1]
		if !s.has(CueWithdraw) || !s.personal() || t.has(CueWithdraw, CueWork, CueGroup) || !(t.has(CueAgain) || t.personal() && t.has(CueAsk, CueDemand)) {
			continue
		}
		s.readAs(CueWithdraw, CueAgain)
	}
}

// todayAfter: a sentence that tells today as a day the reader is free or
// done early (set today-free: 今日は休みでしょ？, 今日は早上がりやろ), with
// no group and no urgency of its own, after one of the two sentences
// before it that offers or asks a private meeting naming no day of its
// own, not about work and telling of nothing past, sets the meeting for
// today: the day is read as urgency in the meeting's sentence (一杯だけ
// 行かん？…今日は早上がりやろ). The day's own words may name work (締め
// 作業だけ): they tell when it ends.
func (c *combiner) todayAfter() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i := 1; i < len(sents); i++ {
		loc := d.set(SetTodayFree).first(texts[i])
		if loc == nil || sents[i].has(CueRush, CueGroup) {
			continue
		}
		for j := i - 1; j >= 0 && j >= i-2; j-- {
			n := sents[j]
			if !n.has(CuePrivate, CueMeeting) || !n.has(CueAsk, CueDemand, CuePrivate) || n.has(CueRush, CueWork, CueGroup, CueAlt) || c.past(j) || d.set(SetDay).in(texts[j]) {
				continue
			}
			sents[j][CueRush] = append(sents[j][CueRush], quote(CueRush, i, loc[0], loc[1]))
			break
		}
	}
}
