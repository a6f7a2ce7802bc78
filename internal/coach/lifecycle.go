package coach

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// FormActions are the controls whose press opens a form: a platform that
// must know before the press (Teams opens a dialog from the button itself)
// marks their buttons.
func FormActions() []string { return []string{ActNote, ActPlanStart} }

// greeting is the one short message when the app is added: what trustbot
// is and how to start, in a channel for everyone there.
func (t *turn) greeting() trustbot.Reply {
	key := "install.personal"
	if !t.req.Direct {
		key = "install.channel"
	}
	text := t.tr(key)
	r := t.textReply(text)
	r.Public = !t.req.Direct
	if t.req.Direct {
		r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActHelp, Label: t.tr("button.help"), Style: trustbot.Primary},
		}})
	}
	return r
}

// uninstalled stops everything bound for where the app was removed: the
// user's check-ins, journeys and follow-ups in a personal chat, the tip of
// the week in a channel. The user's data stays until they ask to forget
// it (reinstalling brings it back); only sending stops.
func (t *turn) uninstalled() error {
	k := t.req.UserKey
	if !t.req.Direct {
		s, err := t.Store.Subscription(t.ctx, k.Team, t.req.Channel)
		if err != nil || !s.Active {
			return ignoreNotFound(err)
		}
		s.Active, s.Stopped = false, stoppedUninstalled
		return t.Store.SaveSubscription(t.ctx, s, "trustbot", "paused: "+stoppedUninstalled)
	}
	s, err := t.Store.Schedule(t.ctx, k)
	if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return err
	}
	if err == nil && s.Active {
		s.Active, s.Stopped = false, stoppedUninstalled
		if err := t.Store.SaveSchedule(t.ctx, s); err != nil {
			return err
		}
	}
	js, err := t.Store.Journeys(t.ctx, k, true)
	if err != nil {
		return err
	}
	for _, j := range js {
		j.State = trustbot.Stopped
		if err := t.Store.SaveJourney(t.ctx, j); err != nil {
			return err
		}
	}
	for _, kind := range Kinds() {
		if err := t.Store.SkipPending(t.ctx, k, kind, ""); err != nil {
			return err
		}
	}
	return nil
}

// stoppedUninstalled is why sending stopped, as stored.
const stoppedUninstalled = "uninstalled"

func ignoreNotFound(err error) error {
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND {
		return nil
	}
	return err
}

// formAgain is a refused form's answer: the same form, with what the user
// typed in it, and above it what to correct. A platform that can keep a
// form open shows it again (Teams); the others show the problems.
func (t *turn) formAgain(form trustbot.Reply, inputs map[string]string, problems []string) trustbot.Reply {
	m := *form.Modal
	m.Inputs = slices.Clone(m.Inputs)
	for i, in := range m.Inputs {
		if v, ok := inputs[in.ID]; ok {
			m.Inputs[i].Initial = v
		}
	}
	text := strings.Join(problems, "\n")
	return trustbot.Reply{Text: text, Modal: &m, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}
}

// checkForm returns what is wrong with a form's inputs: a choice that is
// not one of its options, a text longer than its limit.
func (t *turn) checkForm(m *trustbot.Modal, inputs map[string]string) []string {
	var problems []string
	for _, in := range m.Inputs {
		v := strings.TrimSpace(inputs[in.ID])
		switch {
		case len(in.Options) > 0:
			if !slices.ContainsFunc(in.Options, func(o trustbot.Option) bool { return o.Value == v }) && (v != "" || !in.Optional) {
				problems = append(problems, t.tr("form.choose", "field", in.Label))
			}
		case in.MaxLength > 0 && utf8.RuneCountInString(v) > in.MaxLength:
			problems = append(problems, t.tr("form.too_long", "field", in.Label, "max", strconv.Itoa(in.MaxLength), "count", strconv.Itoa(utf8.RuneCountInString(v))))
		}
	}
	return problems
}
