package coach

import (
	"strconv"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Privacy action IDs.
const (
	ActForgetConfirm = "forget.confirm" // value: ""
	ActForgetCancel  = "forget.cancel"  // value: ""
)

// exportCommand answers "/trust export [file]": all of the user's data as
// a JSON file in the documented format (docs/export.md), with a short
// summary. Where the file goes is the platform's: the DM in Slack, the
// named file (dest) or a default folder in the console.
func (t *turn) exportCommand(dest string) (trustbot.Reply, error) {
	data, err := t.Store.Export(t.ctx, t.req.UserKey)
	if err != nil {
		return trustbot.Reply{}, err
	}
	b, err := MarshalExport(ExportOf(data))
	if err != nil {
		return trustbot.Reply{}, err
	}
	text := t.tr("export.summary", "checkins", strconv.Itoa(len(data.Deliveries)),
		"reflections", strconv.Itoa(len(data.Reflections)), "journeys", strconv.Itoa(len(data.Journeys)))
	r := t.textReply(text)
	r.File = &trustbot.File{Name: exportName(t.req.User, t.Now()), Title: t.tr("export.title"), Data: b,
		Dest: dest, Sent: t.tr("export.sent_dm"), Failed: t.tr("export.failed")}
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
