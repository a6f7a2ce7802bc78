package coach

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Journey kinds: the names of their content files.
const (
	Cooling  = "cooling"
	PlanKind = "plan"
	Repair   = "repair"

	// KindJourney is the delivery kind of journey follow-ups.
	KindJourney = "journey"
)

// MaxJourneys is how many journeys a user may have running at once.
const MaxJourneys = 5

// JourneyMinute is the local time of day follow-ups arrive: 10:00, after
// the morning's first tasks; workdays, holidays, quiet hours and pauses
// move it like a check-in.
const JourneyMinute = 10 * 60

// maxLabel is the longest private label kept, in characters.
const maxLabel = 40

// Journey action IDs and the plan form. Values start with the journey ID,
// which is checked to be the user's own.
const (
	ActJourneySign   = "journey.sign"   // "<journey>:<item>:<sign>"
	ActJourneyAnswer = "journey.answer" // "<journey>:<item>:<answer>" (promises kept, stage at a review)
	ActJourneySnooze = "journey.snooze" // "<journey>:<days>"
	ActJourneyStop   = "journey.stop"   // "<journey>"
	ActPlanStart     = "plan.start"     // "": opens the plan form
	ActDeclinedAgain = "declined.again" // "<journey>"

	FormPlan = "plan.new"
)

// item is one follow-up of a journey's timeline.
type item struct {
	Key  string
	Day  int
	Kind string // "step", "review", "ending"
	Step *playbook.Step
}

func newJourneyID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "j" + hex.EncodeToString(b)
}

// timeline lists a journey's follow-ups in order.
func (c *Coach) timeline(j trustbot.Journey) []item {
	content := c.Library.Journeys[j.Kind]
	var items []item
	last := 0
	switch j.Kind {
	case Cooling, Repair:
		for i := range content.Steps {
			s := &content.Steps[i]
			items = append(items, item{Key: s.ID, Day: s.Day, Kind: "step", Step: s})
			last = max(last, s.Day)
		}
		items = append(items, item{Key: "ending", Day: last + 3, Kind: "ending"})
	case PlanKind:
		months := j.Data.Horizon
		if months <= 0 {
			months = 6
		}
		total := months * 30
		for i := range content.Steps {
			s := &content.Steps[i]
			items = append(items, item{Key: s.ID, Day: (i + 1) * total / (len(content.Steps) + 1), Kind: "step", Step: s})
		}
		// Monthly reviews, two days after the month mark so that a step and a
		// review never arrive on the same day.
		for m := 1; m < months; m++ {
			items = append(items, item{Key: "review-" + strconv.Itoa(m), Day: m*30 + 2, Kind: "review"})
		}
		slices.SortStableFunc(items, func(a, b item) int { return a.Day - b.Day })
		items = append(items, item{Key: "ending", Day: total, Kind: "ending"})
	}
	return items
}

// due says when an item of the journey is sent.
func (c *Coach) due(j trustbot.Journey, it item, p trustbot.Prefs) time.Time {
	p.TZ = c.zone(p.TZ)
	loc := Location(p.TZ)
	minute := j.Data.Minute
	if minute == 0 {
		minute = JourneyMinute
	}
	return Allowed(Resolve(j.Start.AddDays(it.Day), minute, loc), minute, p, loc, c.Holidays).UTC()
}

// replanJourneys plans the next follow-up of each of the user's active
// journeys again under prefs, as replan does for check-ins: a follow-up
// already planned keeps to rules changed since (workdays, quiet hours,
// holidays, a pause). A snooze is kept: it moved the journey's start.
func (c *Coach) replanJourneys(ctx context.Context, k trustbot.UserKey, p trustbot.Prefs) error {
	js, err := c.Store.Journeys(ctx, k, true)
	if err != nil {
		return err
	}
	for _, j := range js {
		items := c.timeline(j)
		if j.State != trustbot.Active || j.Step >= len(items) {
			continue
		}
		if next := c.due(j, items[j.Step], p); !next.Equal(j.NextDueAt) {
			j.NextDueAt = next
			if err := c.Store.SaveJourney(ctx, j); err != nil {
				return err
			}
		}
	}
	return nil
}

// staleAfter is how late a journey follow-up may be before it counts as
// missed (the bot was down, or the user paused) and is passed over.
const staleAfter = 24 * time.Hour

// AdvanceJourney moves a journey whose next item was just claimed at now:
// it returns the journey moved on and the claimed item's key. Items whose
// time passed more than a day ago are not sent one after another: only the
// latest of them is, and the ending always.
func (c *Coach) AdvanceJourney(j trustbot.Journey, p trustbot.Prefs, now time.Time) (trustbot.Journey, string) {
	items := c.timeline(j)
	if j.Step >= len(items) {
		j.State, j.NextDueAt = trustbot.Finished, time.Time{}
		return j, "done-" + strconv.Itoa(j.Step)
	}
	for j.Step+1 < len(items)-1 && c.due(j, items[j.Step+1], p).Before(now.Add(-staleAfter)) {
		j.Step++
	}
	key := items[j.Step].Key
	j.Step++
	if j.Step < len(items) {
		j.NextDueAt = c.due(j, items[j.Step], p)
	} else {
		j.State, j.NextDueAt = trustbot.Finished, time.Time{}
	}
	return j, key
}

// startJourney begins a journey of kind for the user, after checking the
// limit; the first follow-up is planned from today.
func (t *turn) startJourney(kind, label string, data trustbot.JourneyData) (trustbot.Journey, bool, error) {
	active, err := t.Store.Journeys(t.ctx, t.req.UserKey, true)
	if err != nil {
		return trustbot.Journey{}, false, err
	}
	if len(active) >= MaxJourneys {
		return trustbot.Journey{}, false, nil
	}
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Journey{}, false, err
	}
	if set.Prefs.TZ == "" {
		p, _ := t.profile(t.ctx, t.req.UserKey)
		set.Prefs.TZ = p.TZ
	}
	label, _ = Clean(strings.TrimSpace(label), maxLabel)
	j := trustbot.Journey{
		ID: newJourneyID(), UserKey: t.req.UserKey, Kind: kind, Label: label, State: trustbot.Active,
		Start: trustbot.DateOf(t.Now().In(Location(set.Prefs.TZ))), Data: data, StartedAt: t.Now(),
	}
	if items := t.timeline(j); len(items) > 0 {
		j.NextDueAt = t.due(j, items[0], set.Prefs)
	}
	return j, true, t.Store.SaveJourney(t.ctx, j)
}

func (t *turn) journeyTitle(j trustbot.Journey) string {
	title := t.Library.Journeys[j.Kind].Title.In(t.lang)
	if j.Label != "" {
		title = t.tr("journey.with_label", "title", title, "label", trustbot.Typed(j.Label))
	}
	return title
}

// limitReply says the user has as many journeys as they may.
func (t *turn) limitReply() (trustbot.Reply, error) {
	r, err := t.journeysList()
	text := t.tr("journey.limit", "max", strconv.Itoa(MaxJourneys))
	r.Text = text
	r.Blocks = append([]trustbot.Block{{Kind: trustbot.Section, Text: text}}, r.Blocks...)
	return r, err
}

// declinedCommand answers "/trust declined [label]" and "/trust declined
// again [label]".
func (t *turn) declinedCommand(c Command) (trustbot.Reply, error) {
	if len(c.Args) > 0 && Word(c.Args[0]) == WordAgain {
		return t.declinedAgain("")
	}
	content := t.Library.Journeys[Cooling]
	j, ok, err := t.startJourney(Cooling, c.Rest, trustbot.JourneyData{})
	if err != nil {
		return trustbot.Reply{}, err
	}
	if !ok {
		return t.limitReply()
	}
	title := t.journeyTitle(j)
	r := trustbot.Reply{Text: title + "\n" + content.Intro.In(t.lang), RefreshHome: true}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: title},
		trustbot.Block{Kind: trustbot.Section, Text: content.Intro.In(t.lang)},
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("journey.cooling_schedule", "days", t.days(j))},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActDeclinedAgain, Label: t.tr("button.declined_again"), Value: j.ID},
			{Kind: trustbot.Button, ID: ActJourneyStop, Label: t.tr("button.stop_journey"), Value: j.ID, Style: trustbot.Danger},
		}},
	)
	return r, nil
}

// days lists the days of a journey's follow-ups: "3, 7, 14".
func (t *turn) days(j trustbot.Journey) string {
	var ds []string
	for _, it := range t.timeline(j) {
		if it.Kind == "step" {
			ds = append(ds, strconv.Itoa(it.Day))
		}
	}
	return strings.Join(ds, t.tr("list.sep"))
}

// declinedAgain closes the cooling-off period (the given one, or the
// newest) with self-compassion and respect for the answer: trustbot never
// suggests a third ask.
func (t *turn) declinedAgain(id string) (trustbot.Reply, error) {
	active, err := t.Store.Journeys(t.ctx, t.req.UserKey, true)
	if err != nil {
		return trustbot.Reply{}, err
	}
	closed := t.tr("journey.declined_none")
	for _, j := range active {
		if j.Kind == Cooling && (id == "" || j.ID == id) {
			if err := t.stopJourney(&j, trustbot.Finished); err != nil {
				return trustbot.Reply{}, err
			}
			closed = t.tr("journey.declined_closed", "title", t.journeyTitle(j))
			break
		}
	}
	if id != "" && !slices.ContainsFunc(active, func(j trustbot.Journey) bool { return j.ID == id }) {
		if _, err := t.ownJourney(id); err != nil {
			return trustbot.Reply{}, err
		}
	}
	m := t.Library.Journeys[Cooling].Endings["declined-again"]
	r := trustbot.Reply{Text: m.Title.In(t.lang) + "\n" + m.Body.In(t.lang) + "\n" + closed, RefreshHome: true}
	r.Add(trustbot.Block{Kind: trustbot.Section, Title: m.Title.In(t.lang), Text: m.Body.In(t.lang)})
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: closed})
	r.Add(t.topicTip(Cooling+"declined-again", "self-compassion")...)
	return r, nil
}

// stopJourney ends a journey: nothing more is sent for it.
func (t *turn) stopJourney(j *trustbot.Journey, state string) error {
	j.State, j.NextDueAt = state, time.Time{}
	if state == trustbot.Finished {
		j.Data.Declined = true
	}
	if err := t.Store.SaveJourney(t.ctx, *j); err != nil {
		return err
	}
	return t.Store.SkipPending(t.ctx, t.req.UserKey, KindJourney, j.ID+":")
}

// topicTip returns one tip of a topic, chosen by seed so that a message
// reads the same when it is shown again.
func (t *turn) topicTip(seed, topic string) []trustbot.Block {
	tp, ok := t.Library.Topic(topic)
	if !ok || len(tp.Tips) == 0 {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(seed))
	tip := tp.Tips[int(h.Sum32()%uint32(len(tp.Tips)))]
	out := []trustbot.Block{{Kind: trustbot.Section, Title: tip.Title.In(t.lang), Text: tip.Body.In(t.lang)}}
	if try := tip.Try.In(t.lang); try != "" {
		out = append(out, trustbot.Block{Kind: trustbot.Context, Text: t.tr("tip.try_title") + ": " + try})
	}
	return out
}

// repairCommand answers "/trust repair [label]": the four steps of repair,
// apology phrasings, and follow-ups over about three weeks.
func (t *turn) repairCommand(c Command) (trustbot.Reply, error) {
	content := t.Library.Journeys[Repair]
	j, ok, err := t.startJourney(Repair, c.Rest, trustbot.JourneyData{})
	if err != nil {
		return trustbot.Reply{}, err
	}
	if !ok {
		return t.limitReply()
	}
	title := t.journeyTitle(j)
	r := trustbot.Reply{Text: title + "\n" + content.Intro.In(t.lang), RefreshHome: true}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: title},
		trustbot.Block{Kind: trustbot.Section, Text: content.Intro.In(t.lang)},
	)
	if sit, ok := t.Library.Situation("apology-repair"); ok {
		r.Add(trustbot.Block{Kind: trustbot.Section, Text: t.tr("journey.apology_intro")})
		for _, p := range sit.Phrasings[:min(2, len(sit.Phrasings))] {
			r.Add(trustbot.Block{Kind: trustbot.Quote, Title: p.Note.In(t.lang), Text: t.phrasing(p.Polite)})
		}
	}
	r.Add(
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("journey.repair_schedule", "days", t.days(j))},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActPhrase, Label: t.tr("button.more_phrasings", "situation", t.situationTitle("apology-repair")), Value: "apology-repair"},
			{Kind: trustbot.Button, ID: ActJourneyStop, Label: t.tr("button.stop_journey"), Value: j.ID, Style: trustbot.Danger},
		}},
	)
	return r, nil
}

func (t *turn) situationTitle(id string) string {
	if s, ok := t.Library.Situation(id); ok {
		return s.Title.In(t.lang)
	}
	return id
}

// planCommand answers "/trust plan [status|stop]": without a word it opens
// the plan form.
func (t *turn) planCommand(args []string) (trustbot.Reply, error) {
	if len(args) > 0 {
		switch Word(args[0]) {
		case WordStatus:
			return t.journeysList()
		case WordOff:
			active, err := t.Store.Journeys(t.ctx, t.req.UserKey, true)
			if err != nil {
				return trustbot.Reply{}, err
			}
			for _, j := range active {
				if j.Kind == PlanKind {
					return t.journeyStop(j.ID)
				}
			}
			return t.journeysList()
		}
	}
	if t.req.Typed {
		// A typed message cannot open a form: a button can.
		text := t.tr("plan.open_form")
		r := t.textReply(text)
		r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActPlanStart, Label: t.tr("button.start_plan"), Style: trustbot.Primary},
		}})
		return r, nil
	}
	return t.planForm(), nil
}

// planForm asks for a private label, the current stage, a goal and a
// horizon.
func (t *turn) planForm() trustbot.Reply {
	content := t.Library.Journeys[PlanKind]
	var stages []trustbot.Option
	for _, s := range content.Stages {
		stages = append(stages, trustbot.Option{Label: s.Label.In(t.lang), Value: s.ID})
	}
	var horizons []trustbot.Option
	for _, m := range []string{"3", "6", "12"} {
		horizons = append(horizons, trustbot.Option{Label: t.tr("plan.horizon." + m), Value: m})
	}
	return trustbot.Reply{Text: content.Title.In(t.lang), Modal: &trustbot.Modal{
		ID: FormPlan, Title: t.tr("plan.form_title"), Submit: t.tr("plan.submit"), Close: t.tr("note.close"),
		Intro: content.Intro.In(t.lang),
		Inputs: []trustbot.Input{
			{ID: "label", Label: t.tr("plan.label"), Placeholder: t.tr("plan.label_placeholder"), Optional: true, MaxLength: maxLabel},
			{ID: "stage", Label: t.tr("plan.stage"), Options: stages},
			{ID: "goal", Label: t.tr("plan.goal"), Placeholder: content.GoalPlaceholder.In(t.lang), Multiline: true, Optional: true, MaxLength: 300},
			{ID: "horizon", Label: t.tr("plan.horizon"), Options: horizons, Initial: "6"},
		},
	}}
}

// submitPlan starts a plan from its form.
func (t *turn) submitPlan(inputs map[string]string) (trustbot.Reply, error) {
	content := t.Library.Journeys[PlanKind]
	if form := t.planForm(); len(t.checkForm(form.Modal, inputs)) > 0 {
		return t.formAgain(form, inputs, t.checkForm(form.Modal, inputs)), nil
	}
	stage := strings.TrimSpace(inputs["stage"])
	months, _ := strconv.Atoi(strings.TrimSpace(inputs["horizon"]))
	goal, _ := Clean(strings.TrimSpace(inputs["goal"]), 300)
	j, ok, err := t.startJourney(PlanKind, inputs["label"], trustbot.JourneyData{Stage: stage, Goal: goal, Horizon: months})
	if err != nil {
		return trustbot.Reply{}, err
	}
	if !ok {
		return t.limitReply()
	}
	title := t.journeyTitle(j)
	r := trustbot.Reply{Text: title, RefreshHome: true}
	r.Add(
		trustbot.Block{Kind: trustbot.Header, Text: title},
		trustbot.Block{Kind: trustbot.Section, Text: t.tr("plan.started", "stage", t.choiceLabel(content.Stages, stage), "months", strconv.Itoa(months))},
	)
	if goal != "" {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("plan.goal"), Text: trustbot.Typed(goal)})
	}
	r.Add(
		trustbot.Block{Kind: trustbot.Context, Text: t.tr("journey.plan_schedule", "days", t.days(j))},
		trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActJourneyStop, Label: t.tr("button.stop_journey"), Value: j.ID, Style: trustbot.Danger},
		}},
	)
	return r, nil
}

func (t *turn) choiceLabel(cs []playbook.Choice, id string) string {
	for _, c := range cs {
		if c.ID == id {
			return c.Label.In(t.lang)
		}
	}
	return id
}

// ownJourney loads a journey only if it is the user's.
func (t *turn) ownJourney(id string) (trustbot.Journey, error) {
	j, err := t.Store.Journey(t.ctx, t.req.UserKey, id)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND {
		return j, trustbot.Errorf(trustbot.EINVALID, "not the user's journey")
	}
	return j, err
}

func (t *turn) journeyStop(id string) (trustbot.Reply, error) {
	j, err := t.ownJourney(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if j.State == trustbot.Active {
		if err := t.stopJourney(&j, trustbot.Stopped); err != nil {
			return trustbot.Reply{}, err
		}
	}
	content := t.Library.Journeys[j.Kind]
	m := content.Stopped
	if e, ok := content.Endings["stopped"]; ok {
		m = &e
	}
	text := t.tr("journey.stopped", "title", t.journeyTitle(j))
	r := trustbot.Reply{Text: text, RefreshHome: true}
	if m != nil {
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: m.Title.In(t.lang), Text: m.Body.In(t.lang)})
	}
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: text})
	return r, nil
}

func (t *turn) journeySnooze(value string) (trustbot.Reply, error) {
	id, span, _ := strings.Cut(value, ":")
	days, err := strconv.Atoi(span)
	if err != nil || days != 3 && days != 7 {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown snooze")
	}
	j, err := t.ownJourney(id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if j.State != trustbot.Active {
		return t.journeysList()
	}
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	j.Start = j.Start.AddDays(days)
	if items := t.timeline(j); j.Step < len(items) {
		j.NextDueAt = t.due(j, items[j.Step], set.Prefs)
	}
	if err := t.Store.SaveJourney(t.ctx, j); err != nil {
		return trustbot.Reply{}, err
	}
	text := t.tr("journey.snoozed", "title", t.journeyTitle(j), "time", t.when(j.NextDueAt, set.Prefs.TZ))
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}, RefreshHome: true}, nil
}

// journeyRecord records a sign (cooling) or an answer (promises, stage)
// and shows the follow-up again with it.
func (t *turn) journeyRecord(value string, sign bool) (trustbot.Reply, error) {
	parts := strings.SplitN(value, ":", 3)
	if len(parts) != 3 {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "malformed journey value")
	}
	j, err := t.ownJourney(parts[0])
	if err != nil {
		return trustbot.Reply{}, err
	}
	content := t.Library.Journeys[j.Kind]
	var it *item
	for _, x := range t.timeline(j) {
		if x.Key == parts[1] {
			it = &x
			break
		}
	}
	if it == nil {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown journey item")
	}
	valid := func(cs []playbook.Choice) bool {
		return slices.ContainsFunc(cs, func(c playbook.Choice) bool { return c.ID == parts[2] })
	}
	switch {
	case sign && valid(content.Signs):
		if parts[2] == "nothing-yet" {
			j.Data.Signs = nil
		} else if !slices.Contains(j.Data.Signs, parts[2]) {
			j.Data.Signs = append(j.Data.Signs, parts[2])
		}
	case !sign && (valid(content.PromiseAnswers) || valid(content.Stages)):
		if j.Data.Answers == nil {
			j.Data.Answers = map[string]string{}
		}
		j.Data.Answers[parts[1]] = parts[2]
	default:
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "unknown journey answer")
	}
	if err := t.Store.SaveJourney(t.ctx, j); err != nil {
		return trustbot.Reply{}, err
	}
	r := t.followUp(j, *it)
	r.RefreshHome = true
	return r, nil
}

// followUp builds the message of one item of a journey.
func (t *turn) followUp(j trustbot.Journey, it item) trustbot.Reply {
	content := t.Library.Journeys[j.Kind]
	title := t.journeyTitle(j)
	r := trustbot.Reply{Text: title}
	r.Add(trustbot.Block{Kind: trustbot.Header, Text: title})
	switch it.Kind {
	case "step":
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: it.Step.Title.In(t.lang), Text: it.Step.Body.In(t.lang)})
		r.Text += "\n" + it.Step.Title.In(t.lang)
		if len(it.Step.Actions) > 0 {
			h := fnv.New32a()
			h.Write([]byte(j.ID + it.Key))
			a := it.Step.Actions[int(h.Sum32()%uint32(len(it.Step.Actions)))]
			r.Add(trustbot.Block{Kind: trustbot.Section, Title: t.tr("journey.action_title"), Text: a.In(t.lang)})
		}
		if it.Step.Topic != "" {
			r.Add(t.topicTip(j.ID+it.Key, it.Step.Topic)...)
		}
		if it.Step.AskSigns {
			r.Add(trustbot.Block{Kind: trustbot.Section, Text: content.SignsQuestion.In(t.lang)})
			var row []trustbot.Control
			for _, s := range content.Signs {
				c := trustbot.Control{Kind: trustbot.Button, ID: ActJourneySign, Label: s.Label.In(t.lang), Value: j.ID + ":" + it.Key + ":" + s.ID}
				if slices.Contains(j.Data.Signs, s.ID) {
					c.Style, c.Label = trustbot.Primary, "✓ "+c.Label
				}
				row = append(row, c)
			}
			r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: row})
		}
		if it.Step.AskPromises {
			r.Add(trustbot.Block{Kind: trustbot.Section, Text: content.PromiseQuestion.In(t.lang)})
			r.Add(t.answerRow(j, it, content.PromiseAnswers))
		}
	case "review":
		r.Add(trustbot.Block{Kind: trustbot.Section, Title: content.Review.Title.In(t.lang), Text: content.Review.Body.In(t.lang)})
		if j.Data.Goal != "" {
			r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("plan.goal") + ": " + trustbot.Typed(j.Data.Goal)})
		}
		r.Add(t.answerRow(j, it, content.Stages))
	case "ending":
		r.Add(t.ending(j)...)
	}
	var controls []trustbot.Control
	if it.Kind != "ending" && j.State == trustbot.Active {
		controls = append(controls,
			trustbot.Control{Kind: trustbot.Button, ID: ActJourneySnooze, Label: t.tr("button.journey_snooze"), Value: j.ID + ":7"},
			trustbot.Control{Kind: trustbot.Button, ID: ActJourneyStop, Label: t.tr("button.stop_journey"), Value: j.ID, Style: trustbot.Danger},
		)
		if j.Kind == Cooling {
			controls = append(controls, trustbot.Control{Kind: trustbot.Button, ID: ActDeclinedAgain, Label: t.tr("button.declined_again"), Value: j.ID})
		}
	}
	if len(controls) > 0 {
		r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: controls})
	}
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("journey.private")})
	return r
}

func (t *turn) answerRow(j trustbot.Journey, it item, choices []playbook.Choice) trustbot.Block {
	var row []trustbot.Control
	for _, ch := range choices {
		c := trustbot.Control{Kind: trustbot.Button, ID: ActJourneyAnswer, Label: ch.Label.In(t.lang), Value: j.ID + ":" + it.Key + ":" + ch.ID}
		if j.Data.Answers[it.Key] == ch.ID {
			c.Style, c.Label = trustbot.Primary, "✓ "+c.Label
		}
		row = append(row, c)
	}
	return trustbot.Block{Kind: trustbot.Actions, Controls: row}
}

// ending closes a journey from what it recorded. A cooling-off period with
// signs shows how to ask again softly, if the user wants to; without signs
// it never suggests asking again.
func (t *turn) ending(j trustbot.Journey) []trustbot.Block {
	content := t.Library.Journeys[j.Kind]
	msg := func(m playbook.Message) trustbot.Block {
		return trustbot.Block{Kind: trustbot.Section, Title: m.Title.In(t.lang), Text: m.Body.In(t.lang)}
	}
	switch j.Kind {
	case Cooling:
		if len(j.Data.Signs) == 0 {
			return []trustbot.Block{msg(content.Endings["without-signs"]),
				{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: ActPlanStart, Label: t.tr("button.start_plan"), Style: trustbot.Primary}}}}
		}
		out := []trustbot.Block{msg(content.Endings["with-signs"])}
		for _, sit := range []string{"re-approach", "work-reason-contact"} {
			if s, ok := t.Library.Situation(sit); ok && len(s.Phrasings) > 0 {
				out = append(out, trustbot.Block{Kind: trustbot.Quote, Title: s.Title.In(t.lang), Text: t.phrasing(s.Phrasings[0].Polite)})
			}
		}
		return append(out, trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActPhrase, Label: t.tr("button.more_phrasings", "situation", t.situationTitle("re-approach")), Value: "re-approach"},
			{Kind: trustbot.Button, ID: ActDeclinedAgain, Label: t.tr("button.declined_again"), Value: j.ID},
		}})
	case Repair:
		return []trustbot.Block{msg(content.Endings["done"])}
	case PlanKind:
		out := []trustbot.Block{msg(*content.Finished)}
		if p := t.planProgress(j); p != "" {
			out = append(out, trustbot.Block{Kind: trustbot.Section, Text: p})
		}
		return out
	}
	return nil
}

// planProgress says how the relationship moved: from the stage at the
// start to the latest review.
func (t *turn) planProgress(j trustbot.Journey) string {
	content := t.Library.Journeys[PlanKind]
	latest, n := "", 0
	for m := 1; m <= 12; m++ {
		if s, ok := j.Data.Answers["review-"+strconv.Itoa(m)]; ok {
			latest, n = s, m
		}
	}
	if latest == "" {
		return t.tr("plan.progress_start", "stage", t.choiceLabel(content.Stages, j.Data.Stage))
	}
	return t.tr("plan.progress", "from", t.choiceLabel(content.Stages, j.Data.Stage), "to", t.choiceLabel(content.Stages, latest), "month", strconv.Itoa(n))
}

// journeyMessage is the DM of a journey delivery (for the dispatcher).
func (t *turn) journeyMessage(d trustbot.Delivery) (trustbot.Reply, error) {
	id, key, _ := strings.Cut(d.Occurrence, ":")
	j, err := t.Store.Journey(t.ctx, d.UserKey, id)
	if err != nil {
		return trustbot.Reply{}, err
	}
	if j.State == trustbot.Stopped || j.Data.Declined {
		return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "journey %s ended", j.ID)
	}
	for _, it := range t.timeline(j) {
		if it.Key == key {
			return t.followUp(j, it), nil
		}
	}
	return trustbot.Reply{}, trustbot.Errorf(trustbot.EINVALID, "journey %s has no item %q", j.ID, key)
}

// journeysList shows the user's running journeys with their next
// follow-up and a stop button each.
func (t *turn) journeysList() (trustbot.Reply, error) {
	active, err := t.Store.Journeys(t.ctx, t.req.UserKey, true)
	if err != nil {
		return trustbot.Reply{}, err
	}
	set, err := t.settings(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	title := t.tr("journey.list_title")
	r := trustbot.Reply{Text: title}
	r.Add(trustbot.Block{Kind: trustbot.Header, Text: title})
	r.Add(t.journeyBlocks(active, set.Prefs.TZ)...)
	r.Add(trustbot.Block{Kind: trustbot.Context, Text: t.tr("journey.usage", "max", strconv.Itoa(MaxJourneys))})
	return r, nil
}

// journeyBlocks lists journeys, each with its progress, next follow-up
// and a stop button.
func (t *turn) journeyBlocks(js []trustbot.Journey, tz string) []trustbot.Block {
	if len(js) == 0 {
		return []trustbot.Block{{Kind: trustbot.Section, Text: t.tr("journey.none")}}
	}
	var out []trustbot.Block
	for _, j := range js {
		items := t.timeline(j)
		next := t.tr("journey.next_none")
		if !j.NextDueAt.IsZero() {
			next = t.when(j.NextDueAt, tz)
		}
		text := t.tr("journey.line", "done", strconv.Itoa(min(j.Step, len(items))), "total", strconv.Itoa(len(items)), "next", next)
		if j.Kind == PlanKind {
			text += "\n" + t.planProgress(j)
		}
		out = append(out,
			trustbot.Block{Kind: trustbot.Section, Title: t.journeyTitle(j), Text: text},
			trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
				{Kind: trustbot.Button, ID: ActJourneyStop, Label: t.tr("button.stop_journey"), Value: j.ID, Style: trustbot.Danger},
			}},
		)
	}
	return out
}
