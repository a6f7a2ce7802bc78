package tone

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// repeatAskAt reads asking again in sentence i (c.back, read once before
// the sentences, is the first): a why about something private asked
// again, and a no told of with an ask ("I know you said no, but...").
//
// Asking again why, about something private.
// (Not by words that only point to the ask the why is about, or
// ease it, set look-back: "So what's your excuse this time for
// skipping drinks?", "Why exactly did you decline the dinner
// invite?", "What made you change your mind about Saturday?": a
// why about a no looks back to it. Words that say the ask is made
// again or push past the no still do: "Sorry for asking again,
// but why won't you swap numbers?", "Why is one drink with me such
// a big deal?")
func (c *combiner) repeatAskAt(i int) {
	d, sents, texts := c.d, c.sents, c.texts
	s := sents[i]
	whyAgain := slices.DeleteFunc(slices.Clone(c.again), func(h Hit) bool { return d.set(SetLookBack).in(h.Norm) })
	if s.why() && s.personal() && len(whyAgain) > 0 {
		c.add(RepeatAsk, whyAgain...)
		c.add(RepeatAsk, s.evidence(personalCues...)...)
	}
	if s.asksPastNo() && !reproachAlone(sents, texts, i) && !c.backsWhy(i) && (s.personal() || !s.has(CueObject) && !nearWork(sents, i)) {
		c.add(RepeatAsk, s.evidence(append([]string{CueDeclined, CueAsk}, personalCues...)...)...)
	}
}

// reasonAt: why they said no. A bare "why not?" next to work talk is about
// the work.
func (c *combiner) reasonAt(i int) {
	sents := c.sents
	s := sents[i]
	aboutWork := c.aboutWork(i)
	if s.has(CueWhyNo) && !aboutWork {
		c.add(ReasonAsk, s.evidence(CueWhyNo)...)
	}
	// A bare "why?" after a no, or before pushing past one ("なんで？
	// LINEくらいいいじゃん").
	if s.has(CueReason) && s.only(CueReason, CueAsk, CueObject) {
		if i > 0 && sents[i-1].has(CueRefusal, CueDeclined) && !sents[i-1].work() {
			c.add(ReasonAsk, s.evidence(CueReason)...)
			c.add(ReasonAsk, sents[i-1].evidence(CueRefusal, CueDeclined)...)
		} else if i+1 < len(sents) && sents[i+1].pointsToNo() {
			// (Or a sentence that only names the no: "Was it
			// because I'm your senior? The no, I mean.")
			c.add(ReasonAsk, s.evidence(CueReason)...)
			c.add(ReasonAsk, sents[i+1].evidence(CueAgain, CueDeclined)...)
		}
	}
	// ("Why haven't you replied?" presses for an answer: rush, not
	// a why.)
	if s.has(CueReason) && (s.has(CueRefusal, CueDeclined) || s.personal()) && !aboutWork && !s.has(CueIgnored) {
		c.add(ReasonAsk, s.evidence(append([]string{CueReason, CueRefusal, CueDeclined}, personalCues...)...)...)
	}
}

// demandAt reads the demands of sentence i: a demand about something
// personal or about its answer (or demanding the reason of a no), and a
// question that takes the yes for granted.
//
// A demand about something personal or about its answer (or demanding the
// reason of a no).
// (The object may be in the sentence before: "LINE ID です！追加しといて".)
// (Or a why about something private with the no in other words:
// "You still haven't told me why you bailed on dinner.\nI think
// I deserve an explanation.")
func (c *combiner) demandAt(i int) {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	s := sents[i]
	prevWhy := i > 0 && !sents[i-1].work() && (sents[i-1].why() || sents[i-1].has(CueReason) && sents[i-1].personal())
	nearPersonal := false
	for _, j := range []int{i - 1, i + 1} {
		if c.inDraft(j) && sents[j].personal() && !sents[j].has(CueSoften) {
			nearPersonal = true
		}
	}
	// Pressing for an answer, not about a group's event (忘年会の
	// 出欠、金曜までに返事ください) nor about the work talk next to it
	// (今日中に返事ちょうだい！会議室を押さえたいので).
	// (Nor about a group's event told of in the sentence before: "Hi
	// everyone, team nomikai on the 24th. Please reply by Wednesday.")
	pressing := s.has(CueReply) && s.has(CueRush, CueIgnored) && !s.has(CueGroup) && !nearWork(sents, i) && !nearGroupEvent(sents, i)
	private := s.personal() || s.why() || prevWhy || pressing
	besideAsk := (nearPersonal || !c.anyWork && !c.softened) && c.asks && !s.has(CueSoften)
	if s.has(CueDemand) && !s.work() && (private || besideAsk) {
		c.add(Demand, s.evidence(append([]string{CueDemand, CueReply}, personalCues...)...)...)
	}
	// A question that takes the yes for granted (set granted:
	// "you're coming, right?", "you'll come, won't you?") leaves no
	// room for a no: a demand, about something private.
	if loc := d.set(SetGranted).first(texts[i]); loc != nil && !s.work() && (s.personal() || nearPersonal || c.asks) && !s.has(CueSoften) && !c.softened {
		c.add(Demand, quote(CueDemand, i, loc[0], loc[1]))
		c.add(Demand, s.evidence(personalCues...)...)
	}
}

// rushAt: urgency about something personal or about the answer, in the
// same sentence or right next to the personal ask; not next to
// work talk.
func (c *combiner) rushAt(i int) {
	sents := c.sents
	s := sents[i]
	if s.has(CueRush) && !s.work() && (s.personal() || !nearWork(sents, i)) {
		// In a draft that asks and says nothing of work, urgency
		// anywhere is about the ask.
		// (An answer asked for next to a group's event is about the
		// event: 今日の夜、チームで打ち上げです。参加できる人は返信ください.)
		// (Not in thanks for a meeting that is over: "thanks for
		// lunch today, that was fun".)
		// (Or in a sentence that asks why they said no: the reason of a
		// no is wanted by a deadline, 「今日中に、なんでダメなのか教えて」.)
		near := s.personal() && !c.past(i) ||
			s.has(CueReply) && !s.has(CueGroup) && !nearGroupEvent(sents, i) ||
			c.asks && !c.anyWork && !c.softened && !nearGroupEvent(sents, i) ||
			s.why() && !c.aboutWork(i)
		for _, j := range []int{i - 1, i + 1} {
			if !c.inDraft(j) {
				continue
			}
			// (A private ask next to it, or an answer asked for.)
			privateAsk := sents[j].personal() && (sents[j].has(CueAsk) || s.has(CueAsk, CueDemand))
			answer := sents[j].has(CueReply) && !sents[j].has(CueGroup) && !s.has(CueGroup)
			if privateAsk || answer {
				near = true
			}
		}
		if near {
			c.add(Rush, s.evidence(append([]string{CueRush, CueReply}, personalCues...)...)...)
		}
	}
	// (A complaint of silence is no urgency by itself: it is rush only
	// with a deadline, read above.)
}

// countedNosAt: the reader's nos counted back at them (set count: "You said
// no to lunch, no to drinks, no to everything", "Every invite gets a
// no", "You've turned down lunch three times now") shame the
// refusal: guilt. Not the writer's own no or own asks counted (set
// own-asks: "I asked you out twice"), nor at work, nor beside a
// softener ("I hate to ask twice, and please say no if it's still
// a no").
func (c *combiner) countedNosAt(i int) {
	s := c.sents[i]
	d, texts := c.d, c.texts
	if !s.work() && !s.has(CueSoften) && !c.ownNo(i) && (s.has(CueDeclined) || s.why() || s.has(CueRefusal) && s.personal()) {
		if d.set(SetCount).in(texts[i]) && !d.set(SetOwnAsks).in(texts[i]) {
			c.add(Guilt, s.evidence(CueDeclined, CueRefusal, CueWhyNo)...)
		}
	}
}

// guiltAt reads the guilt of sentence i: guilt or a favour voiced, or a
// favour held against a no or beside a private ask.
//
// Guilt, or comparing with others about something personal. A
// favour held against the reader is guilt even in a sentence
// about work when it names a private meeting ("after I covered
// your review, one coffee is the least you could do"); a
// feeling about a work meal is not ("gutted I missed the client
// dinner").
// (Nor is a group's own event, told of with nothing private in
// it: "the izakaya for the team party is booked".)
func (c *combiner) guiltAt(i int) {
	sents := c.sents
	s := sents[i]
	groupEvent := s.has(CueGroup) && s.has(CueMeeting) && !s.has(CueContact, CuePrivate, CueCompare, CueRefusal)
	// (Nor a let-down alone right after a question about work, in a
	// draft that asks nothing private: it goes on with the question,
	// "なんで先方は他社を選んだんだろう？うちの方が安かったのに".)
	workLetDown := s.only(CueGuilt, CueObject) && !c.asks && i > 0 && sents[i-1].work() && c.question(i-1)
	if s.has(CueGuilt, CueFavour) && !s.work() && !groupEvent && !workLetDown {
		c.add(Guilt, s.evidence(CueGuilt, CueFavour)...)
	} else if s.has(CueFavour) && (s.has(CueMeeting) || s.has(CueRefusal, CueDeclined) && !s.has(CueDemand) && !c.question(i)) && !s.has(CueGroup) {
		// (Or held against the reader's no, asking nothing: "Didn't
		// think you'd turn me down after everything I did for you on
		// the Osaka project.")
		c.add(Guilt, s.evidence(CueFavour, CueMeeting)...)
	} else if s.has(CueFavour) && c.asks && !s.has(CueGroup) {
		// (A favour at work held up in a draft that asks for
		// something private: "I stayed late three times to help you,
		// so drinks Friday?")
		c.add(Guilt, s.evidence(CueFavour)...)
		c.add(Guilt, c.ev[ContactAsk]...)
	}
}

// compareGuiltAt: a comparison with others about something personal is
// guilt.
func (c *combiner) compareGuiltAt(i int) {
	sents := c.sents
	s := sents[i]
	// (Or one that names an office or a team beside a why about a
	// contact: see whyCompares.)
	if _, why := whyCompares(sents, i); s.has(CueCompare) && (!s.work() || why) {
		c.add(Guilt, s.evidence(CueCompare, CueContact)...)
	}
}

// sunkGuiltAt: something already done or paid for the plan ("もう二人分予約
// した", "non-refundable"), or what people are supposed to do
// ("普通は断らないもんだよ", "normal people don't"), makes
// declining feel wrong: guilt, about a private meeting or next to
// a personal ask.
// (A group named as the others of the norm or of what was told,
// "the rest of the team always does", "I've told the others
// you'll be there", does not make the meeting a group's.)
func (c *combiner) sunkGuiltAt(i int) {
	sents := c.sents
	s := sents[i]
	if s.has(CueSunk, CueNorm) && !s.work() && len(s.groups()) == 0 {
		near := s.personal()
		for _, j := range []int{i - 1, i + 1} {
			// (Or next to a why about something private: "why'd u say
			// no to the concert tho?? i literally got the tix for us".)
			if (c.asks || c.inDraft(j) && sents[j].why()) && c.inDraft(j) && sents[j].personal() && !sents[j].has(CueGroup) {
				near = true
			}
		}
		if near {
			c.add(Guilt, s.evidence(append([]string{CueSunk, CueNorm}, personalCues...)...)...)
		}
	}
}

// hintAt: a hint is hinting.
func (c *combiner) hintAt(i int) {
	s := c.sents[i]
	if s.has(CueHint) {
		c.add(Hinting, s.evidence(CueHint)...)
	}
}

// grantedDemand: a question that takes the yes for granted (set granted:
// "来てくれるよね？", "番号だけならいいよね？") leaves no room for a no: in
// a draft that asks for something private, softens nothing and names no
// work, it is a demand. (Not about a group's event nor something past.)
func (c *combiner) grantedDemand() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if c.asks && !c.softened && !c.anyWork {
		for i, s := range sents {
			// (The past is read in the last clause: "この前NGって言われた
			// けど、番号だけならいいよね？" takes the yes for granted.)
			last := texts[i]
			if at := d.set(SetClause).lastEnd(last); at > 0 {
				last = last[at:]
			}
			if loc := d.set(SetGranted).first(texts[i]); loc != nil && !s.has(CueGroup) && !d.set(SetPast).in(last) {
				c.add(Demand, quote(CueDemand, i, loc[0], loc[1]))
			}
		}
	}
}

// brooding: brooding over the reader's no, told to the reader
// ("気になって夜も寝られへん", "ずっと考えてるんだけど分からなくて"), in a
// draft that tells of that no or asks why, presses with the writer's
// distress: guilt. (Not sleep lost over work: "システム障害が気になって眠れ
// ませんでした".)
func (c *combiner) brooding() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if !c.anyWork && slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueDeclined) || s.why() }) {
		for i, s := range sents {
			if loc := d.set(SetBrooding).first(texts[i]); loc != nil && !s.work() {
				c.add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}
}

// departure: a departure on a near day ("I'm leaving Japan on Friday",
// "since you leave tomorrow", set departure), in a draft that asks for
// something private and talks of no work, sets the ask a deadline:
// rush.
func (c *combiner) departure() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if c.asks && !c.anyWork {
		for i, s := range sents {
			if loc := d.set(SetDeparture).first(texts[i]); loc != nil && !s.work() {
				c.add(Rush, quote(CueRush, i, loc[0], loc[1]))
			}
		}
	}
}

// waited: waiting on the answer told as long
// ("既読スルーされたまま1週間経つんですけど",
// "そろそろ返事くれてもよくない？もう1週間だよ"), in a draft that presses
// for that answer, reproaches the silence: guilt. (Not the time since a no,
// with no answer awaited: "もう1ヶ月経ったし、そろそろ
// LINEいいんじゃない？" asks again without reproach.)
func (c *combiner) waited() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if c.asks && !c.anyWork && slices.ContainsFunc(sents, func(s sentence) bool { return s.has(CueIgnored, CueReply) && !s.has(CueGroup) }) {
		for i := range sents {
			if loc := d.set(SetWaited).first(texts[i]); loc != nil && !sents[i].work() {
				c.add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}
}

// saidSo: the writer's own word held up, then a why about what the reader
// did instead
// ("飲み会のあと送るって言ったのに、なんで先に帰っちゃったの？",
// "週末空けといてって言ったよね？なんで別の予定入れてるの"): the why asks
// for the reason of a no in deed, and the word held up reproaches.
func (c *combiner) saidSo() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i, s := range sents {
		loc := d.set(SetSaidSo).first(texts[i])
		if loc == nil || s.work() || c.anyWork {
			continue
		}
		for _, j := range []int{i, i + 1} {
			if j < len(sents) && sents[j].has(CueReason) && !sents[j].work() {
				c.add(ReasonAsk, sents[j][CueReason]...)
				c.add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
				break
			}
		}
	}
}

// onlyWhy: a draft that is only a why, in a few words ("なんで？",
// "えっ、なんで？ｗ 理由気になるんだけど"), answers the no it replies to:
// it asks why.
// (Not a why about a thing named: "なんでこの仕様になったのか、経緯だけ
// 教えてもらえますか？".)
func (c *combiner) onlyWhy() {
	sents, texts := c.sents, c.texts
	short := utf8.RuneCountInString(strings.Join(texts, "")) <= 20
	if short && c.onlyWhys() && c.anyQuestion() {
		for _, s := range sents {
			c.add(ReasonAsk, s.evidence(CueReason)...)
		}
		if len(c.ev[ReasonAsk]) == 0 {
			delete(c.ev, ReasonAsk)
		}
	}
}

// wasItMeWhy: asked as a question beside a no in sight (the reader's no
// told, its hurt, or silence reproached: "is it something wrong with me? I
// feel so rejected rn"), whether it was the writer is itself a why about
// that no: reason-ask, and the guilt below.
func (c *combiner) wasItMeWhy() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if _, whyNo := c.ev[ReasonAsk]; !whyNo && !c.anyWork && c.anyHas(CueRefusal, CueDeclined, CueGuilt, CueIgnored) {
		for i, s := range sents {
			if loc := d.set(SetWasItMe).first(texts[i]); loc != nil && !s.work() && strings.Contains(texts[i][loc[0]:], "?") {
				c.add(ReasonAsk, quote(CueReason, i, loc[0], loc[1]))
			}
		}
	}
}

// wasItMeGuilt: asking after a no whether it was the writer's fault or the
// reader's dislike (set was-it-me: "俺なんかした？", "私のこと嫌い？",
// "それとも俺だから？") in a draft that asks why puts the reader in the
// place of comforting the writer: guilt. (Not at work.)
func (c *combiner) wasItMeGuilt() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if _, whyNo := c.ev[ReasonAsk]; whyNo && !c.anyWork {
		for i, s := range sents {
			if loc := d.set(SetWasItMe).first(texts[i]); loc != nil && !s.work() {
				c.add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}
}

// sadFace: sorrow answering a no: a sad face in a draft that tells of the
// reader's no about something private, or asks past it ("LINEまだ
// ダメ？🥺", "こないだ断られたばっかなのにごめん…😢"), is guilt. A sad
// face on a first ask, with no no in sight, is not (nor the no a
// softener allows in its sentence, "むりなら全然いいよ"); nor beside the writer's own
// no ("ごめん、今日は行けない😢") or a no at work. A why about the no
// holds it too ("why not insta then?? 🥺", "なんでダメなの😢"), unless
// the draft chases an answer: a why about silence is no no ("you
// don't reply… did I make you angry? 😢").
func (c *combiner) sadFace() {
	sents, sad := c.sents, c.sad
	if len(sad) > 0 && !c.anyWork {
		silence := c.anyHas(CueReply, CueIgnored)
		// (A why alone beside the sad face asks why they said no: the
		// face tells of the no. "ok but WHY though :sob:", "whyyyy 😢".)
		for _, s := range sents {
			if s.has(CueReason) && s.only(CueReason, CueAsk) && !silence {
				c.add(ReasonAsk, s.evidence(CueReason)...)
			}
		}
		if _, whyNo := c.ev[ReasonAsk]; whyNo && !silence {
			c.add(Guilt, sad...)
		}
		// (So does an ask made again beside it: the face answers the no
		// the ask pushes past, "what if I ask really nicely this time?
		// LINE? 🥺". Not a chase of silence, where no no is in sight.)
		if _, again := c.ev[RepeatAsk]; again && !silence {
			c.add(Guilt, sad...)
		}
		// (Or a no that is all its sentence holds, as a quoted answer is,
		// "> Sorry, I'd rather not share my number" then "ok :(": the
		// face answers it.)
		for i, s := range sents {
			if s.hardNo() && (s.personal() || c.asks || s.noAlone()) && !c.ownNo(i) {
				c.add(Guilt, sad...)
				break
			}
		}
	}
}

// sadAck: a draft that only takes an answer in, with a sad face, answers
// a no: guilt.
func (c *combiner) sadAck() {
	d, sents, texts, sad := c.d, c.sents, c.texts, c.sad
	// (Or a draft that only takes an answer in, with a sad face: "そっか…😢"
	// answers a no.)
	if len(sad) > 0 && len(sents) == 1 && sents[0].only() {
		if d.set(SetAck).in(texts[0]) {
			c.add(Guilt, sad...)
		}
	}
}

// wasItMeGuiltAgain: asking after a no whether it was the writer's fault or
// the reader's dislike (set was-it-me: "was it something I said?", "do you
// just not like me?"), in a draft that asks why, puts the reader in the
// place of comforting the writer: guilt. (Not at work.)
func (c *combiner) wasItMeGuiltAgain() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	if _, whyNo := c.ev[ReasonAsk]; whyNo {
		for i, s := range sents {
			if loc := d.set(SetWasItMe).first(texts[i]); loc != nil && !s.work() {
				c.add(Guilt, quote(CueGuilt, i, loc[0], loc[1]))
			}
		}
	}
}

// noWayOut: a personal ask with nothing that makes "no" easy.
func (c *combiner) noWayOut() {
	if c.asks && !c.softened {
		c.add(NoWayOut, c.ev[ContactAsk]...)
	}
}

// sulkBesideNo: a sentence that is only a sulky word (set sulk: "Cool
// cool.", "Wow.", "Nice."), beside the reader's no about something
// private told in another sentence, answers that no as a sad face does:
// guilt. What the draft asks again is read as before. (Not beside the
// writer's own no, nor a no at work: "The client said no to the quote.
// Wow.")
func (c *combiner) sulkBesideNo() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for i, s := range sents {
		text := strings.TrimSpace(texts[i])
		if s.has(CueSoften, CueWithdraw) || !d.set(SetSulk).fills(text) {
			continue
		}
		for j, o := range sents {
			if j != i && o.hardNo() && (o.personal() || c.asks || o.noAlone()) && !o.work() && !c.ownNo(j) {
				c.add(Guilt, quote(CueGuilt, i, 0, len(text)))
				return
			}
		}
	}
}

// sulkyWithdrawal: a sentence that only presumes the writer was a
// nuisance (set nuisance: 「ご迷惑でしたよね。」), beside the writer's
// withdrawal in another sentence, is a sulky withdrawal: guilt. (Not
// with an apology anywhere in the draft: 「しつこく誘ってごめんね。もう
// 誘わないから安心して」 takes the ask back and presses nothing.)
func (c *combiner) sulkyWithdrawal() {
	d, sents, texts, quote := c.d, c.sents, c.texts, c.quote
	for _, t := range texts {
		if d.set(SetApology).in(t) {
			return
		}
	}
	for i := range sents {
		text := strings.TrimSpace(texts[i])
		if !d.set(SetNuisance).fills(text) {
			continue
		}
		for j, o := range sents {
			if j != i && o.has(CueWithdraw) && !o.work() {
				c.add(Guilt, quote(CueGuilt, i, 0, len(text)))
				c.add(Guilt, o.evidence(CueWithdraw)...)
				return
			}
		}
	}
}

// whenAfterNo: past a no told back or an ask made again (c.back), a
// sentence that asks only which day (set when-only: "thurs or fri?",
// "let me know which date works") takes the yes for granted: a demand.
// Asked the first time, the same choice leaves the no open ("Let's hang
// out this weekend. Which day works, Sat or Sun?").
func (c *combiner) whenAfterNo() {
	if !c.asks || len(c.back) == 0 || c.softened {
		return
	}
	for i, s := range c.sents {
		if s.work() || s.has(CueSoften, CueWithdraw) {
			continue
		}
		if loc := c.d.set(SetWhenOnly).first(c.texts[i]); loc != nil {
			c.add(Demand, c.quote(CueDemand, i, loc[0], loc[1]))
			c.add(Demand, s.evidence(personalCues...)...)
		}
	}
}
