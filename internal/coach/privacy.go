package coach

import (
	"encoding/json"
	"strconv"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Privacy action IDs.
const (
	ActForgetConfirm = "forget.confirm" // value: ""
	ActForgetCancel  = "forget.cancel"  // value: ""
)

// exportCommand answers "/trust export": all of the user's data as a JSON
// file in their DM, with a short summary.
func (t *turn) exportCommand() (trustbot.Reply, error) {
	data, err := t.Store.Export(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	b, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return trustbot.Reply{}, err
	}
	text := t.tr("export.summary", "checkins", strconv.Itoa(len(data.Deliveries)),
		"reflections", strconv.Itoa(len(data.Reflections)), "journeys", strconv.Itoa(len(data.Journeys)))
	r := t.textReply(text)
	r.File = &trustbot.File{Name: "trustbot-export-" + t.req.User + ".json", Title: t.tr("export.title"), Data: append(b, '\n')}
	return r, nil
}

// forgetCommand answers "/trust forget": it asks for a confirmation first.
func (t *turn) forgetCommand() trustbot.Reply {
	text := t.tr("forget.confirm")
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{
		{Kind: trustbot.Section, Text: text},
		{Kind: trustbot.Actions, Controls: []trustbot.Control{
			{Kind: trustbot.Button, ID: ActForgetConfirm, Label: t.tr("button.forget"), Style: trustbot.Danger},
			{Kind: trustbot.Button, ID: ActForgetCancel, Label: t.tr("button.cancel")},
		}},
	}}
}

// forget deletes every row about the user. The answer is written before,
// in their language; nothing is stored after.
func (t *turn) forget() (trustbot.Reply, error) {
	text := t.tr("forget.done")
	if err := t.Store.Forget(t.ctx, t.req.UserKey); err != nil {
		return trustbot.Reply{}, err
	}
	t.Logger.Info("user data forgotten", "team", t.req.Team, "user", t.req.User)
	return t.textReply(text), nil
}
