package coach

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Action IDs: what each button or menu of a reply does. The value of a
// control is data from outside when it comes back, and is checked.
const (
	ActHelp        = "help"         // value: ""
	ActTip         = "tip.another"  // value: topic ID or "" for any topic
	ActTipTopic    = "tip.topic"    // menu; value: topic ID
	ActPhrase      = "phrase.show"  // button or menu; value: situation ID
	ActPhraseStyle = "phrase.style" // value: "<situation>:polite" or "<situation>:casual"
	ActCheckHelp   = "check.help"   // value: ""
	ActLang        = "lang.set"     // value: ja, en or auto
)

// recentWindow is how many recently shown tips a user is spared from
// seeing again, where the pool allows.
const recentWindow = 30

func (t *turn) command(c Command) (trustbot.Reply, error) {
	switch c.Name {
	case "", "help":
		return t.help(""), nil
	case "tip":
		return t.tipCommand(strings.Join(c.Args, " "))
	case "phrase":
		return t.phrase(strings.Join(c.Args, " "), "polite", false)
	case "check":
		return t.check(c.Rest, c.Truncated), nil
	case "lang":
		return t.langCommand(c.Args)
	case "checkin":
		return t.checkinCommand(c.Args)
	case "history":
		return t.history()
	case "workdays", "quiet", "holidays", "pause", "resume":
		return t.prefsCommand(c.Name, c.Args)
	case "declined":
		return t.declinedCommand(c)
	case "repair":
		return t.repairCommand(c)
	case "plan":
		return t.planCommand(c.Args)
	case "journeys":
		return t.journeysList()
	case "weekly":
		return t.weeklyCommand(c.Args)
	case "export":
		return t.exportCommand(c.Rest)
	case "forget":
		return t.forgetCommand(), nil
	case "home":
		return t.home()
	}
	return t.help(c.Word), nil
}

func (t *turn) action(id, value string) (trustbot.Reply, error) {
	value, _ = Clean(value, 200)
	var (
		r   trustbot.Reply
		err error
	)
	switch id {
	case ActHelp:
		r = t.help("")
	case ActTip, ActTipTopic:
		if value != "" {
			if _, ok := t.Library.Topic(value); !ok {
				return r, trustbot.Errorf(trustbot.EINVALID, "unknown topic in action value")
			}
		}
		r, err = t.tip(value)
	case ActPhrase:
		r, err = t.phrase(value, "polite", true)
	case ActPhraseStyle:
		sit, style, _ := strings.Cut(value, ":")
		if style != "polite" && style != "casual" {
			return r, trustbot.Errorf(trustbot.EINVALID, "unknown phrasing style")
		}
		r, err = t.phrase(sit, style, true)
	case ActCheckHelp:
		r = t.check("", false)
	case ActLang:
		r, err = t.langCommand([]string{value})
		r.RefreshHome = true
	case ActAnswer:
		r, err = t.answer(value)
	case ActSnooze:
		r, err = t.snooze(value)
	case ActSkip:
		r, err = t.skip(value)
	case ActNow:
		r, err = t.checkinNow()
	case ActCadence:
		r, err = t.cadenceButton(value)
	case ActNote:
		return t.noteForm(value)
	case ActTry:
		// A private answer beside the channel's post, which stays as it is.
		return t.tryThis(value)
	case ActForgetConfirm:
		r, err = t.forget()
	case ActForgetCancel:
		r = t.textReply(t.tr("forget.canceled"))
	case ActTryAnswer:
		r, err = t.tryAnswer(value)
	case ActTryOff:
		r, err = t.tryOff()
	case ActPlanStart:
		return t.planForm(), nil
	case ActJourneySign:
		r, err = t.journeyRecord(value, true)
	case ActJourneyAnswer:
		r, err = t.journeyRecord(value, false)
	case ActJourneySnooze:
		r, err = t.journeySnooze(value)
	case ActJourneyStop:
		r, err = t.journeyStop(value)
	case ActDeclinedAgain:
		r, err = t.declinedAgain(value)
	case ActPause:
		if value == "resume" {
			r, err = t.prefsCommand("resume", nil)
		} else if slices.Contains(pauseLengths, value) {
			r, err = t.prefsCommand("pause", []string{value})
		} else {
			return r, trustbot.Errorf(trustbot.EINVALID, "unknown pause")
		}
	default:
		return r, trustbot.Errorf(trustbot.EINVALID, "unknown action %q", clip(id, 40))
	}
	r.ReplaceOriginal = true
	return r, err
}

// clip cuts s to at most n characters, for echoing user input back.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// cadenceButton sets a cadence from a button, keeping the user's day and
// time when they had a schedule.
func (t *turn) cadenceButton(value string) (trustbot.Reply, error) {
	if value == "off" {
		return t.checkinOff()
	}
	s, err := ParseSchedule([]string{value})
	if err != nil {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown cadence")
	}
	if old, err := t.Store.Schedule(t.ctx, t.req.UserKey); err == nil {
		s.Weekday, s.Minute = old.Weekday, old.Minute
	}
	return t.setSchedule(s)
}

// help is the menu; unknown is the word the user typed that is not a
// subcommand, if any.
func (t *turn) help(unknown string) trustbot.Reply {
	r := trustbot.Reply{Text: t.tr("help.text")}
	if unknown != "" {
		text := t.tr("help.unknown", "word", trustbot.Typed(clip(unknown, 40)))
		if s := Suggest(unknown); s != "" {
			text += "\n" + t.tr("help.did_you_mean", "command", t.commandText(s))
		}
		r.Text = text
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: text})
	}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: t.tr("help.title")},
		trustbot.Block{Kind: trustbot.Section, Text: t.tr("help.intro")},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActTip, Label: t.tr("button.tip"), Style: trustbot.Primary},
			{Kind: trustbot.Button, ID: ActPhrase, Label: t.tr("button.phrases")},
			{Kind: trustbot.Button, ID: ActCheckHelp, Label: t.tr("button.check")},
		}},
		trustbot.Block{Kind: trustbot.Section, Text: t.tr("help.commands")},
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("help.privacy")},
	)
	return r
}

// tipCommand answers "/trust tip [topic]", matching the topic loosely.
func (t *turn) tipCommand(query string) (trustbot.Reply, error) {
	if query == "" {
		return t.tip("")
	}
	matches := t.Library.FindTopics(query)
	if len(matches) == 1 {
		return t.tip(matches[0].ID)
	}
	// The menu lists every topic; an ambiguous query also lists the
	// topics it matched, so that the choice is among few.
	r := trustbot.Reply{Text: t.tr("tip.unknown_topic", "topic", trustbot.Typed(clip(query, 60)))}
	if len(matches) > 1 {
		r.Text = t.tr("tip.ambiguous_topic", "topic", trustbot.Typed(clip(query, 60)))
	}
	r.Add(trustbot.Block{Kind: trustbot.Section, Text: r.Text})
	if len(matches) > 1 {
		var lines []string
		for _, tp := range matches {
			lines = append(lines, "• "+tp.Title.In(t.lang)+"  ("+tp.ID+")")
		}
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: strings.Join(lines, "\n")})
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{t.topicMenu("")}})
	return r, nil
}

func (t *turn) topicMenu(current string) trustbot.Control {
	m := trustbot.Control{Kind: trustbot.Select, ID: ActTipTopic, Label: t.tr("tip.choose_topic"), Initial: current, Suggest: true}
	m.Options = t.topicOptions(t.Library.Topics)
	return m
}

func (t *turn) topicOptions(topics []*playbook.Topic) []trustbot.Option {
	opts := make([]trustbot.Option, 0, len(topics))
	for _, tp := range topics {
		opts = append(opts, trustbot.Option{Label: tp.Title.In(t.lang), Value: tp.ID})
	}
	return opts
}

// suggest answers someone typing in a menu whose choices come as they
// type: the topic menu searches topics by title and alias in both
// languages. Any other menu has no choices to offer.
func (t *turn) suggest(actionID, typed string) trustbot.Reply {
	if actionID != ActTipTopic {
		return trustbot.Reply{Options: []trustbot.Option{}}
	}
	return trustbot.Reply{Options: t.topicOptions(t.Library.SuggestTopics(clip(typed, 60)))}
}

// tip shows one tip of the topic (any topic for everyone when topicID is
// ""), avoiding what the user saw recently.
func (t *turn) tip(topicID string) (trustbot.Reply, error) {
	var pool []*playbook.Tip
	if topicID != "" {
		tp, _ := t.Library.Topic(topicID)
		pool = tp.Tips
	} else {
		pool = t.Library.TipsFor(playbook.Everyone)
	}
	buf := recentBuffers.Get().(*[]string)
	recent, err := t.Store.AppendRecentTips(t.ctx, (*buf)[:0], t.req.UserKey, recentWindow)
	if err != nil {
		recentBuffers.Put(buf)
		return trustbot.Reply{}, err
	}
	tip := t.pick(pool, recent)
	// pick keeps nothing of recent: the buffer goes back, without its IDs.
	clear(recent)
	*buf = recent[:0]
	recentBuffers.Put(buf)
	if err := t.Store.RecordTipShown(t.ctx, t.req.UserKey, tip.ID, t.Now()); err != nil {
		return trustbot.Reply{}, err
	}
	return t.tipReply(tip, topicID), nil
}

// recentBuffers hold the IDs of a user's recent tips while a tip is
// picked for them.
var recentBuffers = sync.Pool{New: func() any {
	b := make([]string, 0, recentWindow)
	return &b
}}

// pick chooses at random among the tips of pool the user has not seen
// recently; when all were seen, among the least recently seen half.
func (t *turn) pick(pool []*playbook.Tip, recent []string) *playbook.Tip {
	// The window is short beside a large pool: drawing at random until a
	// tip not seen recently comes is uniform among those, and quick.
	if len(pool) > 2*len(recent) {
		for range 8 {
			if tip := pool[t.intn(len(pool))]; !slices.Contains(recent, tip.ID) {
				return tip
			}
		}
	}
	// recent is newest first: where a tip was last seen is its first
	// index there.
	seenAt := make(map[string]int, len(recent))
	for i, id := range slices.Backward(recent) {
		seenAt[id] = i
	}
	fresh := 0
	for _, tip := range pool {
		if _, seen := seenAt[tip.ID]; !seen {
			fresh++
		}
	}
	if fresh > 0 {
		n := t.intn(fresh)
		for _, tip := range pool {
			if _, seen := seenAt[tip.ID]; !seen {
				if n == 0 {
					return tip
				}
				n--
			}
		}
	}
	// Everything was seen: prefer the tips seen longest ago.
	old := slices.Clone(pool)
	slices.SortStableFunc(old, func(a, b *playbook.Tip) int {
		return seenAt[b.ID] - seenAt[a.ID]
	})
	old = old[:max(1, len(old)/2)]
	return old[t.intn(len(old))]
}

// tipReply is the message showing tip (with the topic's "another" button
// when topicID is set). It is content alone, the same for everyone who
// gets it in the language on the platform, so it is made once and kept
// (tipReplies), its blocks shared by every caller.
func (t *turn) tipReply(tip *playbook.Tip, topicID string) trustbot.Reply {
	k := tipReplyKey{tip: tip, lang: t.lang, platform: t.req.Platform(), topic: topicID}
	r, ok := t.tipReplies.get(k)
	if !ok {
		r = t.makeTipReply(tip, topicID)
		r.Blocks = slices.Clip(r.Blocks)
		t.tipReplies.put(k, r)
	}
	return r
}

func (t *turn) makeTipReply(tip *playbook.Tip, topicID string) trustbot.Reply {
	title := tip.Title.In(t.lang)
	// Content alone, the same for everyone: Shared lets the platform keep
	// its rendering.
	r := trustbot.Reply{Text: title + "\n" + tip.Body.In(t.lang), Shared: true}
	r.Add(
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("tip.topic_line", "topic", tip.Topic.Title.In(t.lang))},
		trustbot.Block{Kind: trustbot.Section, Title: title, Text: tip.Body.In(t.lang)},
	)
	if try := tip.Try.In(t.lang); try != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("tip.try_title"), Text: try})
	}
	if tip.Source != "" {
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("tip.source", "source", tip.Source)})
	}
	another := t.tr("button.another_tip")
	if topicID != "" {
		another = t.tr("button.another_tip_topic")
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
		{Kind: trustbot.Button, ID: ActTip, Label: another, Value: topicID, Style: trustbot.Primary},
		t.topicMenu(topicID),
	}})
	return r
}

// phrase shows the phrasings of a situation in a style, or the list of
// situations when there is none or it is unknown.
func (t *turn) phrase(query, style string, fromAction bool) (trustbot.Reply, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return t.situationList("", nil), nil
	}
	sit, ok := t.Library.Situation(query)
	if fromAction && !ok {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown situation in action value")
	}
	if !ok {
		matches := t.Library.FindSituations(query)
		if len(matches) != 1 {
			return t.situationList(query, matches), nil
		}
		sit = matches[0]
	}
	title := sit.Title.In(t.lang)
	r := trustbot.Reply{Text: title}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: title},
		trustbot.Block{Kind: trustbot.Context, Text: sit.Summary.In(t.lang)},
	)
	casual := style == "casual"
	for _, p := range sit.Phrasings {
		text, note := t.phrasing(p.Polite), p.Note.In(t.lang)
		if casual {
			if p.HasCasual() {
				text = t.phrasing(p.Casual)
			} else {
				note = t.tr("phrase.polite_only", "note", note)
			}
		}
		r.Add(trustbot.Block{Kind: trustbot.Quote, Title: note, Text: text})
		r.Text += "\n- " + text
	}
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("phrase.copy_hint")})
	switchTo, label := sit.ID+":casual", t.tr("button.casual")
	if casual {
		switchTo, label = sit.ID+":polite", t.tr("button.polite")
	}
	controls := []trustbot.Control{}
	if slices.ContainsFunc(sit.Phrasings, (*playbook.Phrasing).HasCasual) {
		controls = append(controls, trustbot.Control{Kind: trustbot.Button, ID: ActPhraseStyle, Label: label, Value: switchTo, Style: trustbot.Primary})
	}
	controls = append(controls, t.situationMenu(sit.ID))
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: controls})
	return r, nil
}

func (t *turn) situationMenu(current string) trustbot.Control {
	m := trustbot.Control{Kind: trustbot.Select, ID: ActPhrase, Label: t.tr("phrase.choose"), Initial: current}
	for _, s := range t.Library.Situations {
		m.Options = append(m.Options, trustbot.Option{Label: s.Title.In(t.lang), Value: s.ID})
	}
	return m
}

// situationList offers the menu of every situation, after the query the
// user typed when it matched none or several (those are listed).
func (t *turn) situationList(query string, matches []*playbook.Situation) trustbot.Reply {
	r := trustbot.Reply{Text: t.tr("phrase.list_title")}
	switch {
	case len(matches) > 1:
		r.Text = t.tr("phrase.ambiguous", "situation", trustbot.Typed(clip(query, 60)))
	case query != "":
		r.Text = t.tr("phrase.unknown", "situation", trustbot.Typed(clip(query, 60)))
	}
	r.Add(trustbot.Block{Kind: trustbot.Section, Text: r.Text})
	if len(matches) > 1 {
		var lines []string
		for _, s := range matches {
			lines = append(lines, "• "+s.Title.In(t.lang)+"  ("+s.ID+")")
		}
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: strings.Join(lines, "\n")})
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{t.situationMenu("")}})
	return r
}

// maxSeen is how many of the words that raised a flag its line names.
const maxSeen = 4

// check runs the tone check on a draft. A draft that reads as written
// after a no (asking again, asking why) is never answered with a way to
// ask: it hears that not sending is a good choice, and gets what respects
// the answer; nor is it told it lacks an easy way to say no, since a
// softer ask is still an ask past the no. A first ask for a contact hears
// that too, in one line, in case the other person already said no.
func (t *turn) check(draft string, truncated bool) trustbot.Reply {
	draft = strings.TrimSpace(draft)
	if draft == "" {
		text := t.tr("check.usage")
		return trustbot.Reply{Text: text, Blocks: []trustbot.Block{
			{Kind: trustbot.Section, Title: t.tr("check.title"), Text: text},
		}}
	}
	tc := t.Library.Tone
	res := tc.Check(draft)
	var flags []tone.Flag
	for _, f := range res.Flags {
		if tone.Pressure(f.ID) && !(f.ID == tone.NoWayOut && res.AfterNo()) {
			flags = append(flags, f)
		}
	}
	var r trustbot.Reply
	if len(flags) == 0 {
		r.Text = t.tr("check.clean")
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("check.clean_title"), Text: t.tr("check.clean")})
	} else {
		r.Text = t.tr("check.flagged", "count", strconv.Itoa(len(flags)))
		r.Add(trustbot.Block{Kind: trustbot.Header, Text: r.Text})
		for _, f := range flags {
			tf, _ := tc.Flag(f.ID)
			r.Add(trustbot.Block{Kind: trustbot.Section, Title: "⚠ " + tf.Label.In(t.lang),
				Text: tf.Explain.In(t.lang) + "\n" + t.seen(f.Evidence)})
		}
	}
	firstAsk := res.Has(tone.ContactAsk) && !res.AfterNo()
	if firstAsk {
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("check.if_declined")})
	}
	offers := tc.Offers(res)
	switch {
	case res.AfterNo():
		r.Add(trustbot.Block{Kind: trustbot.Divider})
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("check.after_no_title"), Text: t.tr("check.after_no")})
		buttons := t.offer(&r, offers, t.tr("check.after_no_offer"))
		if tp, ok := t.Library.Topic(tc.AfterNoTopic); ok {
			buttons = append(buttons, trustbot.Control{Kind: trustbot.Button, ID: ActTip, Value: tp.ID,
				Label: t.tr("button.tips_on", "topic", tp.Title.In(t.lang))})
		}
		r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: buttons})
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("check.declined_pointer")})
	case len(flags) > 0:
		if buttons := t.offer(&r, offers, t.tr("check.softer_intro")); len(buttons) > 0 {
			r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: buttons})
		}
	}
	if truncated {
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("check.truncated", "max", strconv.Itoa(MaxInput))})
	}
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("check.not_stored")})
	return r
}

// offer adds an introduction and the first phrasing of up to two of the
// situations to r, and returns a button to each situation (at most five).
func (t *turn) offer(r *trustbot.Reply, situations []string, intro string) []trustbot.Control {
	var buttons []trustbot.Control
	for _, id := range situations {
		sit, ok := t.Library.Situation(id)
		if !ok || len(sit.Phrasings) == 0 {
			continue
		}
		if len(buttons) == 0 {
			r.Add(trustbot.Block{Kind: trustbot.Section, Text: intro})
		}
		if len(buttons) < 2 {
			r.Add(trustbot.Block{Kind: trustbot.Quote, Title: sit.Title.In(t.lang), Text: t.phrasing(sit.Phrasings[0].Polite)})
		}
		if len(buttons) < 5 {
			buttons = append(buttons, trustbot.Control{Kind: trustbot.Button, ID: ActPhrase, Value: sit.ID,
				Label: t.tr("button.more_phrasings", "situation", sit.Title.In(t.lang))})
		}
	}
	return buttons
}

// seen is the line that names the words a flag was raised on, as the
// user wrote them, each once, with the name of what it is.
func (t *turn) seen(hits []tone.Hit) string {
	var words []string
	shown := map[string]bool{}
	for _, h := range hits {
		if len(words) == maxSeen {
			break
		}
		if shown[h.Text] {
			continue
		}
		shown[h.Text] = true
		name := h.Cue
		if c, ok := t.Library.Tone.Cue(h.Cue); ok {
			name = c.Name.In(t.lang)
		}
		words = append(words, t.tr("check.seen_word", "text", trustbot.Typed(clip(h.Text, 30)), "cue", name))
	}
	return t.tr("check.seen", "words", strings.Join(words, t.tr("check.seen_separator")))
}

// langCommand shows or sets the user's language.
func (t *turn) langCommand(args []string) (trustbot.Reply, error) {
	if len(args) == 0 {
		s, err := t.settings(t.ctx, t.req.UserKey)
		if err != nil {
			return trustbot.Reply{}, err
		}
		return t.langMenu(t.tr("lang.current", "setting", t.langName(s.Lang))), nil
	}
	choice := args[0]
	switch choice {
	case "日本語", "にほんご", "japanese":
		choice = "ja"
	case "英語", "えいご", "english":
		choice = "en"
	case "自動", "じどう":
		choice = trustbot.LangAuto
	}
	if _, ok := trustbot.ParseLang(choice); !ok && choice != trustbot.LangAuto || len(choice) > 4 {
		return t.langMenu(t.tr("lang.unknown", "value", trustbot.Typed(clip(args[0], 20)))), nil
	}
	if l, ok := trustbot.ParseLang(choice); ok {
		choice = string(l)
	}
	s, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	s.Lang = choice
	if err := t.Store.SaveSettings(t.ctx, s); err != nil {
		return trustbot.Reply{}, err
	}
	t.lang = t.Language(t.ctx, t.req.UserKey)
	text := t.tr("lang.saved", "setting", t.langName(choice))
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}, nil
}

func (t *turn) langName(setting string) string {
	switch setting {
	case "ja":
		return t.tr("lang.name.ja")
	case "en":
		return t.tr("lang.name.en")
	}
	return t.tr("lang.name.auto")
}

func (t *turn) langMenu(text string) trustbot.Reply {
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{
		{Kind: trustbot.Section, Text: text},
		{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActLang, Label: t.tr("lang.name.ja"), Value: "ja"},
			{Kind: trustbot.Button, ID: ActLang, Label: t.tr("lang.name.en"), Value: "en"},
			{Kind: trustbot.Button, ID: ActLang, Label: t.tr("lang.name.auto"), Value: "auto"},
		}},
	}}
}
