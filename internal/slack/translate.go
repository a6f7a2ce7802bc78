package slack

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// target says where the answer to a request goes.
type target struct {
	ResponseURL string // Slack's per-request reply URL, if any
	Channel     string
	User        string
	TriggerID   string
	Home        bool // the request came from the App Home tab: answer by publishing it
	Form        bool // a modal was submitted: it closes on the ack
	DM          bool // typed in the app's DM: answer there, in the thread if any
	Suggest     bool // a menu asks for its choices: they go in the ack, or nowhere
	ThreadTS    string
}

// actionSep separates a control's ID from its position in the rendered
// action_id: Slack wants action IDs unique within a block, the coach reuses
// one ID for a row of choices.
const actionSep = "#"

// errIgnore marks payloads that need no answer (a modal closed, a kind of
// interaction trustbot does not use).
var errIgnore = errors.New("nothing to answer")

// translate turns an inbound request of any kind into a Request and where
// its answer goes; for an event, also its event_id, to handle it once.
func translate(in inbound, botUser string) (trustbot.Request, target, string, error) {
	switch in.kind {
	case kindSlash:
		var (
			req trustbot.Request
			to  target
			err error
		)
		if in.slash != nil {
			req, to, err = translateSlashCommand(*in.slash)
		} else {
			req, to, err = translateSlash(in.payload)
		}
		return req, to, "", err
	case kindInteractive:
		req, to, err := translateInteraction(in.payload)
		return req, to, "", err
	case kindEvent:
		return translateEvent(in.payload, botUser)
	}
	return trustbot.Request{}, target{}, "", fmt.Errorf("request of kind %q: %w", clip(in.kind, 40), errIgnore)
}

// slashPayload is what trustbot reads of a slash_commands payload:
// decoding these fields alone takes half the time of slack-go's whole
// SlashCommand, and a burst of commands decodes one each.
type slashPayload struct {
	TeamID      string `json:"team_id"`
	ChannelID   string `json:"channel_id"`
	UserID      string `json:"user_id"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
}

// slashPayloads hold a payload while translateSlash reads it: the
// request keeps its strings, not the struct.
var slashPayloads = sync.Pool{New: func() any { return new(slashPayload) }}

// translateSlash turns a slash_commands payload into a Request.
func translateSlash(payload []byte) (trustbot.Request, target, error) {
	sc := slashPayloads.Get().(*slashPayload)
	defer slashPayloads.Put(sc)
	*sc = slashPayload{} // a field the payload lacks stays empty
	if err := json.Unmarshal(payload, sc); err != nil {
		return trustbot.Request{}, target{}, fmt.Errorf("slash command payload: %w", err)
	}
	return translateSlashCommand(slack.SlashCommand{TeamID: sc.TeamID, ChannelID: sc.ChannelID, UserID: sc.UserID,
		Text: sc.Text, ResponseURL: sc.ResponseURL, TriggerID: sc.TriggerID})
}

// translateSlashCommand is translateSlash of a payload slack-go has read
// already (the event's data): the payload is not read twice.
func translateSlashCommand(sc slack.SlashCommand) (trustbot.Request, target, error) {
	req := trustbot.Request{
		Kind:    trustbot.Command,
		UserKey: trustbot.UserKey{Team: sc.TeamID, User: sc.UserID},
		Channel: sc.ChannelID,
		Direct:  direct(sc.ChannelID),
		Text:    trustbot.Unmarked(sc.Text),
	}
	if !validKey(req.UserKey) {
		return req, target{}, fmt.Errorf("slash command without valid team or user")
	}
	return req, target{ResponseURL: sc.ResponseURL, Channel: sc.ChannelID, User: sc.UserID, TriggerID: sc.TriggerID}, nil
}

// translateInteraction turns an interactive payload into a Request. Only
// the first action of a block_actions payload is used: Slack sends one per
// press.
func translateInteraction(payload []byte) (trustbot.Request, target, error) {
	var ic slack.InteractionCallback
	if err := json.Unmarshal(payload, &ic); err != nil {
		return trustbot.Request{}, target{}, fmt.Errorf("interaction payload: %w", err)
	}
	team := ic.Team.ID
	if team == "" {
		team = ic.User.TeamID
	}
	if ic.Type == slack.InteractionTypeViewSubmission {
		req := trustbot.Request{
			Kind:     trustbot.Submit,
			UserKey:  trustbot.UserKey{Team: team, User: ic.User.ID},
			ActionID: ic.View.CallbackID,
			Value:    trustbot.Unmarked(ic.View.PrivateMetadata),
			Inputs:   map[string]string{},
		}
		if ic.View.State == nil {
			return trustbot.Request{}, target{}, errors.New("view_submission without a state")
		}
		for blockID, actions := range ic.View.State.Values {
			for actionID, a := range actions {
				if actionID == blockID {
					req.Inputs[blockID] = trustbot.Unmarked(a.Value)
					if a.SelectedOption.Value != "" {
						req.Inputs[blockID] = trustbot.Unmarked(a.SelectedOption.Value)
					}
				}
			}
		}
		if !validKey(req.UserKey) {
			return req, target{}, fmt.Errorf("view submission without valid team or user")
		}
		return req, target{User: ic.User.ID, Form: true, TriggerID: ic.TriggerID}, nil
	}
	if ic.Type == slack.InteractionTypeBlockSuggestion {
		id, _, _ := strings.Cut(ic.ActionID, actionSep)
		req := trustbot.Request{
			Kind:     trustbot.Suggest,
			UserKey:  trustbot.UserKey{Team: team, User: ic.User.ID},
			ActionID: id,
			Text:     trustbot.Unmarked(ic.Value),
		}
		if !validKey(req.UserKey) {
			return req, target{}, fmt.Errorf("block_suggestion without valid team or user")
		}
		return req, target{User: ic.User.ID, Suggest: true}, nil
	}
	if ic.Type != slack.InteractionTypeBlockActions {
		return trustbot.Request{}, target{}, fmt.Errorf("interaction %q: %w", clip(string(ic.Type), 40), errIgnore)
	}
	if len(ic.ActionCallback.BlockActions) == 0 {
		return trustbot.Request{}, target{}, errors.New("block_actions without an action")
	}
	a := ic.ActionCallback.BlockActions[0]
	id, _, _ := strings.Cut(a.ActionID, actionSep)
	value := a.Value
	if a.SelectedOption.Value != "" {
		value = a.SelectedOption.Value
	}
	req := trustbot.Request{
		Kind:     trustbot.Action,
		UserKey:  trustbot.UserKey{Team: team, User: ic.User.ID},
		Channel:  ic.Channel.ID,
		Direct:   direct(ic.Channel.ID),
		ActionID: id,
		Value:    trustbot.Unmarked(value),
	}
	if !validKey(req.UserKey) {
		return req, target{}, fmt.Errorf("interaction without valid team or user")
	}
	home := ic.View.Type == slack.VTHomeTab || ic.Container.Type == "view" && ic.View.Type != slack.VTModal
	return req, target{ResponseURL: ic.ResponseURL, Channel: ic.Channel.ID, User: ic.User.ID, TriggerID: ic.TriggerID, Home: home}, nil
}

// translateEvent turns an Events API payload into a request: the App Home
// tab being opened, or a message a person typed in the app's DM (the
// Messages tab), read as a command. The app's own messages (botUser, or
// any bot's), edits, deletions and every other subtype are ignored.
func translateEvent(payload []byte, botUser string) (trustbot.Request, target, string, error) {
	var cb struct {
		TeamID  string `json:"team_id"`
		EventID string `json:"event_id"`
		Event   struct {
			Type        string `json:"type"`
			Subtype     string `json:"subtype"`
			User        string `json:"user"`
			BotID       string `json:"bot_id"`
			Tab         string `json:"tab"`
			Channel     string `json:"channel"`
			ChannelType string `json:"channel_type"`
			Text        string `json:"text"`
			ThreadTS    string `json:"thread_ts"`
		} `json:"event"`
	}
	if err := json.Unmarshal(payload, &cb); err != nil {
		return trustbot.Request{}, target{}, "", fmt.Errorf("event payload: %w", err)
	}
	ev := cb.Event
	k := trustbot.UserKey{Team: cb.TeamID, User: ev.User}
	switch {
	case ev.Type == "app_home_opened" && ev.Tab == "home":
		if !validKey(k) {
			return trustbot.Request{}, target{}, "", fmt.Errorf("app_home_opened without valid team or user")
		}
		return trustbot.Request{Kind: trustbot.Home, UserKey: k}, target{User: ev.User, Home: true}, cb.EventID, nil
	case ev.Type == "message" && ev.ChannelType == "im" && ev.Subtype == "" && ev.BotID == "" && ev.User != botUser:
		if !validKey(k) || !direct(ev.Channel) {
			return trustbot.Request{}, target{}, "", fmt.Errorf("DM message without valid team, user or channel")
		}
		req := trustbot.Request{Kind: trustbot.Command, UserKey: k, Channel: ev.Channel, Text: trustbot.Unmarked(messageText(ev.Text)), Typed: true, Direct: true}
		return req, target{Channel: ev.Channel, User: ev.User, DM: true, ThreadTS: ev.ThreadTS}, cb.EventID, nil
	}
	return trustbot.Request{}, target{}, "", fmt.Errorf("event %q %q: %w", clip(ev.Type, 40), clip(ev.Subtype, 40), errIgnore)
}

// uninstallEvent reads app_uninstalled, or tokens_revoked naming a bot
// token, into the workspace (or the organisation, for an org-wide
// install) that removed the app.
func uninstallEvent(payload []byte) (enterprise, team, eventID string, ok bool) {
	var cb struct {
		TeamID         string `json:"team_id"`
		EnterpriseID   string `json:"enterprise_id"`
		EventID        string `json:"event_id"`
		Authorizations []struct {
			EnterpriseID        string `json:"enterprise_id"`
			IsEnterpriseInstall bool   `json:"is_enterprise_install"`
		} `json:"authorizations"`
		Event struct {
			Type   string `json:"type"`
			Tokens struct {
				Bot []string `json:"bot"`
			} `json:"tokens"`
		} `json:"event"`
	}
	if json.Unmarshal(payload, &cb) != nil {
		return "", "", "", false
	}
	switch {
	case cb.Event.Type == "app_uninstalled":
	case cb.Event.Type == "tokens_revoked" && len(cb.Event.Tokens.Bot) > 0:
	default:
		return "", "", "", false
	}
	enterprise, team = cb.EnterpriseID, cb.TeamID
	if len(cb.Authorizations) > 0 && cb.Authorizations[0].IsEnterpriseInstall {
		enterprise, team = cmp.Or(cb.Authorizations[0].EnterpriseID, enterprise), ""
	}
	if team == "" && enterprise == "" {
		return "", "", "", false
	}
	return clip(enterprise, 40), clip(team, 40), clip(cb.EventID, 40), true
}

// orgInstall reads, from a request, the Enterprise Grid organisation
// whose install it came through and the workspace it came from: set when
// the app is installed for the whole organisation (is_enterprise_install),
// in an event's first authorization, an interaction's or a slash
// command's fields.
func orgInstall(in inbound) (enterprise, team string, ok bool) {
	if in.slash != nil {
		sc := in.slash
		enterprise, team, ok = sc.EnterpriseID, sc.TeamID, sc.IsEnterpriseInstall
	} else {
		var p struct {
			TeamID              string          `json:"team_id"`
			EnterpriseID        string          `json:"enterprise_id"`
			IsEnterpriseInstall json.RawMessage `json:"is_enterprise_install"`
			Team                *struct {
				ID string `json:"id"`
			} `json:"team"`
			Enterprise *struct {
				ID string `json:"id"`
			} `json:"enterprise"`
			User *struct {
				TeamID string `json:"team_id"`
			} `json:"user"`
			Authorizations []struct {
				EnterpriseID        string `json:"enterprise_id"`
				IsEnterpriseInstall bool   `json:"is_enterprise_install"`
			} `json:"authorizations"`
		}
		if json.Unmarshal(in.payload, &p) != nil {
			return "", "", false
		}
		enterprise, team = p.EnterpriseID, p.TeamID
		ok = string(p.IsEnterpriseInstall) == "true" || string(p.IsEnterpriseInstall) == `"true"`
		if len(p.Authorizations) > 0 {
			enterprise, ok = cmp.Or(p.Authorizations[0].EnterpriseID, enterprise), p.Authorizations[0].IsEnterpriseInstall
		}
		if p.Enterprise != nil {
			enterprise = cmp.Or(p.Enterprise.ID, enterprise)
		}
		if p.Team != nil {
			team = cmp.Or(p.Team.ID, team)
		}
		if p.User != nil {
			team = cmp.Or(team, p.User.TeamID)
		}
	}
	if !ok || !validKey(trustbot.UserKey{Team: team, User: enterprise}) {
		return "", "", false
	}
	return enterprise, team, true
}

// teamAccessEvent reads team_access_granted or team_access_revoked: an
// organisation's admin added the app to workspaces, or took it from them.
func teamAccessEvent(payload []byte) (enterprise string, teams []string, granted bool, eventID string, ok bool) {
	var cb struct {
		EnterpriseID   string `json:"enterprise_id"`
		EventID        string `json:"event_id"`
		Authorizations []struct {
			EnterpriseID string `json:"enterprise_id"`
		} `json:"authorizations"`
		Event struct {
			Type    string   `json:"type"`
			TeamIDs []string `json:"team_ids"`
		} `json:"event"`
	}
	if json.Unmarshal(payload, &cb) != nil {
		return "", nil, false, "", false
	}
	switch cb.Event.Type {
	case "team_access_granted":
		granted = true
	case "team_access_revoked":
	default:
		return "", nil, false, "", false
	}
	enterprise = cb.EnterpriseID
	if len(cb.Authorizations) > 0 {
		enterprise = cmp.Or(cb.Authorizations[0].EnterpriseID, enterprise)
	}
	for _, t := range cb.Event.TeamIDs {
		if validKey(trustbot.UserKey{Team: t, User: enterprise}) && len(teams) < 1000 {
			teams = append(teams, t)
		}
	}
	return clip(enterprise, 40), teams, granted, clip(cb.EventID, 40), enterprise != ""
}

// validKey reports whether k is a plausible Slack user: a payload naming
// another platform's workspace is refused.
func validKey(k trustbot.UserKey) bool { return k.Valid() && k.Platform() == trustbot.Slack }

// direct reports whether a channel ID is a direct-message channel.
func direct(channel string) bool { return strings.HasPrefix(channel, "D") }

// slackLink is a link in message text: <https://…|label>, <mailto:…>.
var slackLink = regexp.MustCompile(`<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>`)

// messageText turns a message's text as Slack sends it into what the
// person typed: links back to their text, then &lt; &gt; &amp; unescaped.
// Mentions (<@U…>) stay as they are.
func messageText(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		g := slackLink.FindStringSubmatch(m)
		if g[2] != "" {
			return g[2]
		}
		return strings.TrimPrefix(g[1], "mailto:")
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// envelopeID digs the envelope ID out of a frame slack-go could not parse,
// so that even a malformed envelope is acknowledged.
func envelopeID(frame []byte) string {
	var e struct {
		EnvelopeID string `json:"envelope_id"`
	}
	if json.Unmarshal(frame, &e) != nil {
		return ""
	}
	return e.EnvelopeID
}

// trustedResponseURL reports whether a response_url points at Slack (or at
// the configured API host, for tests and GovSlack), so that a forged
// payload cannot make the bot post elsewhere.
func trustedResponseURL(raw, apiURL string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" && (u.Host == "hooks.slack.com" || strings.HasSuffix(u.Host, ".slack.com") || strings.HasSuffix(u.Host, ".slack-gov.com")) {
		return true
	}
	api, err := url.Parse(apiURL)
	return err == nil && api.Host == u.Host && api.Scheme == u.Scheme
}

// clip cuts s to at most n bytes at a character boundary, for logs.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
