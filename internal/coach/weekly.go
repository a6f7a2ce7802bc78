package coach

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Channels tells whether the bot is a member of a channel; implemented by
// the chat adapter.
type Channels interface {
	IsMember(ctx context.Context, team, channel string) (bool, error)
}

// Delivery kinds of the tip of the week.
const (
	KindWeekly = "weekly" // the post in a channel; its UserKey.User is the channel
	KindTryit  = "tryit"  // the DM asking how a tip went, a few days after "try this"
	KindNotice = "notice" // a DM to a subscriber whose channel's posts stopped
)

// Defaults of a new subscription: Monday 09:00, the start of a week.
const (
	WeeklyWeekday = time.Monday
	WeeklyMinute  = 9 * 60
	// TryitDays is how long after "try this" the follow-up asks how it went.
	TryitDays = 3
)

// Actions of the tip of the week.
const (
	ActTry       = "weekly.try"   // value: tip ID
	ActTryAnswer = "tryit.answer" // value: "<delivery>:<tried|not-yet|not-for-me>"
	ActTryOff    = "tryit.off"    // value: ""
)

var tryAnswers = []string{"tried", "not-yet", "not-for-me"}

// AdvanceSubscription moves a claimed subscription to its next week.
func (c *Coach) AdvanceSubscription(s trustbot.Subscription, now time.Time) (trustbot.Subscription, int) {
	sch, p := subscriptionSchedule(s)
	next, missed := Advance(sch, p, now, c.Holidays)
	s.Occurrence, s.NextDueAt = next.Occurrence, next.NextDueAt
	return s, missed
}

// subscriptionSchedule expresses a subscription as a weekly schedule with
// its rules: workdays Monday to Friday plus its own day, so that a holiday
// moves the post to the next workday.
func subscriptionSchedule(s trustbot.Subscription) (trustbot.Schedule, trustbot.Prefs) {
	sch := trustbot.Schedule{Cadence: trustbot.Weekly, Weekday: s.Weekday, Minute: s.Minute, Occurrence: s.Occurrence}
	p := trustbot.DefaultPrefs()
	p.TZ, p.Holidays, p.Workdays = s.TZ, s.Holidays, trustbot.MondayToFriday|1<<s.Weekday
	return sch, p
}

// weeklyCommand answers "/trust weekly on|off|status|holidays ..." in a
// channel.
func (t *turn) weeklyCommand(args []string) (trustbot.Reply, error) {
	ch := t.req.Channel
	if ch == "" || t.req.Direct {
		return t.textReply(t.tr("weekly.in_dm")), nil
	}
	if t.Channels != nil {
		member, err := t.Channels.IsMember(t.ctx, t.req.Team, ch)
		if err != nil {
			t.Logger.Warn("channel membership unknown", "team", t.req.Team, "channel", ch, "err", err)
		}
		if err == nil && !member {
			return t.textReply(t.tr("weekly.not_member")), nil
		}
	}
	if len(args) == 0 {
		return t.weeklyStatus("")
	}
	sub := Word(args[0])
	if commands[args[0]] == "holidays" {
		sub = "holidays"
	}
	if sub != WordStatus && len(t.Admins) > 0 && !slices.Contains(t.Admins, t.req.User) {
		return t.textReply(t.tr("weekly.not_admin")), nil
	}
	switch sub {
	case WordStatus:
		return t.weeklyStatus("")
	case WordOff:
		s, err := t.Store.Subscription(t.ctx, t.req.Team, ch)
		if trustbot.ErrorCode(err) == trustbot.ENOTFOUND {
			return t.weeklyStatus("")
		} else if err != nil {
			return trustbot.Reply{}, err
		}
		s.Active = false
		if err := t.Store.SaveSubscription(t.ctx, s, t.req.User, "off"); err != nil {
			return trustbot.Reply{}, err
		}
		return t.weeklyStatus(t.tr("weekly.off"))
	case "holidays":
		s, err := t.Store.Subscription(t.ctx, t.req.Team, ch)
		if err != nil {
			if trustbot.ErrorCode(err) == trustbot.ENOTFOUND {
				return t.weeklyStatus(t.tr("weekly.usage"))
			}
			return trustbot.Reply{}, err
		}
		switch Word(strings.Join(args[1:], "")) {
		case WordJP, WordOn:
			s.Holidays = "jp"
		case WordOff:
			s.Holidays = ""
		default:
			return t.weeklyStatus(t.tr("weekly.holidays_usage"))
		}
		return t.saveSubscription(s, "holidays "+s.Holidays)
	case WordOn:
		return t.weeklyOn(args[1:])
	}
	return t.weeklyStatus(t.tr("weekly.usage"))
}

func (t *turn) textReply(text string) trustbot.Reply {
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}
}

// weeklyOn subscribes the channel: day, time, language and topics in any
// order, defaulting to Monday 09:00 in the subscriber's zone and language,
// every topic for everyone.
func (t *turn) weeklyOn(args []string) (trustbot.Reply, error) {
	s, err := t.Store.Subscription(t.ctx, t.req.Team, t.req.Channel)
	if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return trustbot.Reply{}, err
	}
	if err != nil {
		p, _ := t.profile(t.ctx, t.req.UserKey)
		s = trustbot.Subscription{Team: t.req.Team, Channel: t.req.Channel, Weekday: WeeklyWeekday, Minute: WeeklyMinute,
			Lang: string(t.lang), TZ: p.TZ}
		if p.TZ == "Asia/Tokyo" {
			s.Holidays = "jp"
		}
	}
	var topics []string
	for _, w := range args {
		w = strings.TrimSuffix(w, ",")
		if m, ok := parseClock(w); ok {
			s.Minute = m
			continue
		}
		if d, ok := weekdayWords[w]; ok {
			s.Weekday = d
			continue
		}
		if l, ok := trustbot.ParseLang(w); ok && len(w) == 2 {
			s.Lang = string(l)
			continue
		}
		if tp, ok := t.Library.TopicNamed(w); ok && tp.Audience == playbook.Everyone {
			topics = append(topics, tp.ID)
			continue
		}
		return t.weeklyStatus(t.tr("weekly.bad_word", "word", trustbot.Typed(clip(w, 30))))
	}
	if len(topics) > 0 {
		s.Topics = topics
	}
	s.Active, s.Stopped, s.Subscriber = true, "", t.req.User
	return t.saveSubscription(s, "on")
}

// saveSubscription plans the next post and saves who changed what.
func (t *turn) saveSubscription(s trustbot.Subscription, change string) (trustbot.Reply, error) {
	sch, p := subscriptionSchedule(s)
	sch = Plan(sch, p, t.Now(), t.Holidays)
	s.Occurrence, s.NextDueAt = sch.Occurrence, sch.NextDueAt
	if err := t.Store.SaveSubscription(t.ctx, s, t.req.User, change); err != nil {
		return trustbot.Reply{}, err
	}
	return t.weeklyStatus(t.tr("weekly.saved"))
}

// weeklyStatus shows the channel's subscription.
func (t *turn) weeklyStatus(note string) (trustbot.Reply, error) {
	s, err := t.Store.Subscription(t.ctx, t.req.Team, t.req.Channel)
	if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return trustbot.Reply{}, err
	}
	var r trustbot.Reply
	if note != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: note})
	}
	status := t.tr("weekly.none")
	if err == nil {
		topics := t.tr("weekly.all_topics")
		if len(s.Topics) > 0 {
			var names []string
			for _, id := range s.Topics {
				if tp, ok := t.Library.Topic(id); ok {
					names = append(names, tp.Title.In(t.lang))
				}
			}
			topics = strings.Join(names, t.tr("list.sep"))
		}
		day := t.tr("day." + strconv.Itoa(int(s.Weekday)))
		if !s.Active && s.Stopped == "" {
			// Turned off by someone here: "weekly on" brings it back as it was.
			status = t.tr("weekly.is_off", "day", day, "time", clock(s.Minute), "lang", t.langName(s.Lang), "topics", topics)
		} else {
			next := t.when(s.NextDueAt, s.TZ)
			if !s.Active {
				next = t.tr("weekly.stopped_next")
			}
			status = t.tr("weekly.status", "day", day, "time", clock(s.Minute),
				"lang", t.langName(s.Lang), "topics", topics, "next", next, "subscriber", trustbot.MentionUser(s.Subscriber))
			status += "\n" + t.holidaysLine(s.Holidays)
		}
	}
	r.Text = strings.TrimSpace(note + "\n" + status)
	r.Add(
		trustbot.Block{Kind: trustbot.Section, Title: t.tr("weekly.title"), Text: status},
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("weekly.usage")},
	)
	return r, nil
}

// nextTip chooses the channel's next tip: among the tips of its topics
// posted the fewest times, the first in an order of its own, so no tip
// repeats until all have been posted and two channels differ.
func (t *turn) nextTip(s trustbot.Subscription) (*playbook.Tip, error) {
	var pool []*playbook.Tip
	for _, tip := range t.Library.Tips() {
		if tip.Audience == playbook.Everyone && (len(s.Topics) == 0 || slices.Contains(s.Topics, tip.Topic.ID)) {
			pool = append(pool, tip)
		}
	}
	if len(pool) == 0 {
		return nil, trustbot.Errorf(trustbot.EINVALID, "no tips for the channel's topics")
	}
	h := fnv.New64a()
	h.Write([]byte(s.Team + "/" + s.Channel))
	seed := h.Sum64()
	rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	counts, err := t.Store.ChannelTips(t.ctx, s.Team, s.Channel)
	if err != nil {
		return nil, err
	}
	best := pool[0]
	for _, tip := range pool {
		if counts[tip.ID] < counts[best.ID] {
			best = tip
		}
	}
	return best, nil
}

// weeklyPost is the channel's tip of the week.
func (t *turn) weeklyPost(s trustbot.Subscription) (trustbot.Reply, error) {
	tip, err := t.nextTip(s)
	if err != nil {
		return trustbot.Reply{}, err
	}
	title := tip.Title.In(t.lang)
	r := trustbot.Reply{Text: t.tr("weekly.post_title") + ": " + title, Public: true}
	r.Add(
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("weekly.post_title") + t.tr("status.sep") + tip.Topic.Title.In(t.lang)},
		trustbot.Block{Kind: trustbot.Section, Title: title, Text: tip.Body.In(t.lang)},
	)
	if try := tip.Try.In(t.lang); try != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("tip.try_title"), Text: try})
	}
	r.Add(
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActTry, Label: t.tr("button.try_this"), Value: tip.ID, Style: trustbot.Primary},
		}},
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("weekly.post_footer")},
	)
	return r, nil
}

// tryThis answers a press on "try this": a private confirmation, and a DM
// a few days later asking how it went (unless the user turned those off).
func (t *turn) tryThis(tipID string) (trustbot.Reply, error) {
	tip, ok := t.Library.Tip(tipID)
	if !ok {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown tip")
	}
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	text := t.tr("weekly.try_confirm", "title", tip.Title.In(t.lang))
	if !set.NoTryitFollowups {
		if set.Prefs.TZ == "" {
			p, _ := t.profile(t.ctx, t.req.UserKey)
			set.Prefs.TZ = p.TZ
		}
		loc := Location(set.Prefs.TZ)
		today := trustbot.DateOf(t.Now().In(loc))
		due := Allowed(Resolve(today.AddDays(TryitDays), JourneyMinute, loc), JourneyMinute, set.Prefs, loc, t.Holidays)
		if _, err := t.Store.InsertDelivery(t.ctx, trustbot.Delivery{UserKey: t.req.UserKey, Kind: KindTryit,
			Occurrence: tip.ID + ":" + today.String(), DueAt: due}); err != nil {
			return trustbot.Reply{}, err
		}
		text += "\n" + t.tr("weekly.try_followup", "time", t.when(due, set.Prefs.TZ))
	}
	return t.textReply(text), nil
}

// tryitMessage is the DM asking how a tip went.
func (t *turn) tryitMessage(d trustbot.Delivery, answer string) (trustbot.Reply, error) {
	tipID, _, _ := strings.Cut(d.Occurrence, ":")
	tip, ok := t.Library.Tip(tipID)
	if !ok {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown tip %q", tipID)
	}
	r := trustbot.Reply{Text: t.tr("tryit.question", "title", tip.Title.In(t.lang))}
	r.Add(trustbot.Block{Kind: trustbot.Section, Text: r.Text})
	if try := tip.Try.In(t.lang); try != "" {
		r.Add(trustbot.Block{Kind: trustbot.Context, Text: try})
	}
	var row []trustbot.Control
	for _, a := range tryAnswers {
		c := trustbot.Control{Kind: trustbot.Button, ID: ActTryAnswer, Label: t.tr("tryit." + a), Value: d.ID + ":" + a}
		if a == answer {
			c.Style, c.Label = trustbot.Primary, "✓ "+c.Label
		}
		row = append(row, c)
	}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: row})
	if answer != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: t.tr("tryit.thanks")})
	}
	r.Add(
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: ActTryOff, Label: t.tr("button.tryit_off")}}},
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("checkin.private")},
	)
	return r, nil
}

func (t *turn) tryAnswer(value string) (trustbot.Reply, error) {
	id, answer, _ := strings.Cut(value, ":")
	if !slices.Contains(tryAnswers, answer) {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown answer")
	}
	d, err := t.Store.Delivery(t.ctx, t.req.UserKey, id)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND || err == nil && d.Kind != KindTryit {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "not the user's follow-up")
	} else if err != nil {
		return trustbot.Reply{}, err
	}
	if _, err := t.Store.SaveAnswers(t.ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: t.req.UserKey,
		Choices: map[string]string{"tryit": answer}, AnsweredAt: t.Now()}); err != nil {
		return trustbot.Reply{}, err
	}
	r, err := t.tryitMessage(d, answer)
	r.RefreshHome = true
	return r, err
}

func (t *turn) tryOff() (trustbot.Reply, error) {
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	set.NoTryitFollowups = true
	if err := t.Store.SaveSettings(t.ctx, set); err != nil {
		return trustbot.Reply{}, err
	}
	if err := t.Store.SkipPending(t.ctx, t.req.UserKey, KindTryit, ""); err != nil {
		return trustbot.Reply{}, err
	}
	return t.textReply(t.tr("tryit.off")), nil
}

// triedBlocks lists the tips the user tried, for history.
func (t *turn) triedBlocks() ([]trustbot.Block, error) {
	rs, err := t.Store.Reflections(t.ctx, t.req.UserKey, KindTryit, 5)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	var lines []string
	for _, r := range rs {
		tipID, _, _ := strings.Cut(r.Delivery.Occurrence, ":")
		tip, ok := t.Library.Tip(tipID)
		if !ok {
			continue
		}
		answer := t.tr("tryit.unanswered")
		if a := r.Answers.Choices["tryit"]; a != "" {
			answer = t.tr("tryit." + a)
		}
		lines = append(lines, "• "+tip.Title.In(t.lang)+" — "+answer)
	}
	return []trustbot.Block{{Kind: trustbot.Section, Title: t.tr("tryit.history_title"), Text: strings.Join(lines, "\n")}}, nil
}

// Unreachable is told that a delivery cannot reach its target for good:
// a user's check-ins stop; a channel's subscription pauses and its
// subscriber gets one DM saying why and how to resume.
func (c *Coach) Unreachable(ctx context.Context, d trustbot.Delivery, reason string, now time.Time) {
	switch d.Kind {
	case KindCheckin:
		s, err := c.Store.Schedule(ctx, d.UserKey)
		if trustbot.ErrorCode(err) == trustbot.ENOTFOUND || err == nil && !s.Active {
			return
		}
		if err == nil {
			s.Active, s.Stopped = false, reason
			err = c.Store.SaveSchedule(ctx, s)
		}
		if err != nil {
			c.Logger.Error("could not stop the check-ins of a user who cannot be reached; they are tried again",
				"team", d.Team, "user", d.User, "reason", reason, "err", err)
		}
	case KindWeekly:
		s, err := c.Store.Subscription(ctx, d.Team, d.User)
		if err != nil || !s.Active {
			return
		}
		s.Active, s.Stopped = false, reason
		if err := c.Store.SaveSubscription(ctx, s, "trustbot", "paused: "+reason); err != nil {
			c.Logger.Error("could not pause a subscription", "team", s.Team, "channel", s.Channel, "err", err)
			return
		}
		if s.Subscriber == "" {
			return // the subscriber asked to be forgotten: nobody to tell
		}
		if _, err := c.Store.InsertDelivery(ctx, trustbot.Delivery{UserKey: trustbot.UserKey{Team: s.Team, User: s.Subscriber},
			Kind: KindNotice, Occurrence: "weekly-paused:" + s.Channel + ":" + trustbot.DateOf(now).String(), DueAt: now}); err != nil {
			c.Logger.Error("a channel's posts stopped, but the notice to its subscriber could not be queued",
				"team", s.Team, "channel", s.Channel, "subscriber", s.Subscriber, "err", err)
		}
	}
}

// noticeMessage is the DM telling a subscriber their channel's posts
// stopped.
func (t *turn) noticeMessage(d trustbot.Delivery) (trustbot.Reply, error) {
	// "weekly-paused:" channel ":" date; a Teams channel ID has colons.
	rest, ok := strings.CutPrefix(d.Occurrence, "weekly-paused:")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i <= 0 {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown notice %q", d.Occurrence)
	}
	return t.textReply(t.tr("weekly.paused_dm", "channel", trustbot.MentionChannel(rest[:i]))), nil
}
