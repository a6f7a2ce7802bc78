package teams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// options are the rendering options of a reply to reader: the controls
// that open forms, and the names its mentions read as: the asker's from
// the activity (from), the others' as their references last gave them. A
// channel whose name Teams never gave (it leaves out the General
// channel's) reads as words in the reader's language, never as its ID.
func (b *Bot) options(ctx context.Context, reader trustbot.UserKey, r trustbot.Reply, from *ChannelAccount) Options {
	team := reader.Team
	o := Options{Forms: b.forms}
	add := func(id, name string) {
		if name == "" {
			return
		}
		if o.Names == nil {
			o.Names = map[string]string{}
		}
		o.Names[id] = name
	}
	if from != nil {
		add(from.ID, from.Name)
	}
	look := func(s string) {
		trustbot.Mentions(s, func(_ string, mention bool, sigil byte, id string) {
			if _, ok := o.Names[id]; !mention || ok {
				return
			}
			if c, err := b.cfg.Conversations.Conversation(ctx, trustbot.UserKey{Team: team, User: id}); err == nil {
				add(id, c.Name)
			}
			if _, ok := o.Names[id]; !ok && sigil == '#' {
				add(id, b.cfg.T(ctx, reader, "teams.unnamed_channel"))
			}
		})
	}
	look(r.Text)
	for _, blk := range r.Blocks {
		look(blk.Title)
		look(blk.Text)
	}
	return o
}

// reply sends the coach's reply to an activity where it belongs: into the
// conversation it came from when it is public or the conversation is the
// user's personal chat; else (a private answer to something typed in a
// channel, which Teams cannot show to one person only) into the user's
// personal chat, with a short note in the channel that it went there.
func (b *Bot) reply(ctx context.Context, a *Activity, req trustbot.Request, r trustbot.Reply) error {
	if r.Text == "" && len(r.Blocks) == 0 && r.Modal == nil && r.File == nil {
		return nil // nothing to say (an uninstall)
	}
	o := b.options(ctx, req.UserKey, r, a.From)
	here := a.Reference()
	switch {
	case r.File != nil:
		return b.sendFile(ctx, a, req, r)
	case r.Modal != nil:
		// A form cannot open in answer to a message: a card whose button
		// opens it as a dialog, by pressing again what asked for it.
		p := Press{ActionID: req.ActionID, Value: req.Value}
		if req.Kind != trustbot.Action {
			return b.post(ctx, a, req, []Payload{Render(trustbot.Reply{Text: r.Text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: r.Text}}}, o)[0]}, r.Public)
		}
		return b.post(ctx, a, req, []Payload{Launcher(r, p, o)}, r.Public)
	case r.Update != nil:
		ref := ConversationReference{ServiceURL: a.ServiceURL, Conversation: ConversationAccount{ID: r.Update.Channel, TenantID: a.TenantID()}}
		if _, err := b.cfg.Connector.UpdateActivity(ctx, ref, r.Update.TS, Replacement(r, o).Activity()); err == nil {
			return nil
		} else if trustbot.ErrorCode(err) == trustbot.EUNREACHABLE {
			return err
		}
		// Not updated (the message is gone): say it anew instead.
	case r.ReplaceOriginal && a.ReplyToID != "":
		if _, err := b.cfg.Connector.UpdateActivity(ctx, here, a.ReplyToID, Replacement(r, o).Activity()); err == nil {
			return nil
		} else if trustbot.ErrorCode(err) == trustbot.EUNREACHABLE {
			return err
		}
	}
	return b.post(ctx, a, req, Render(r, o), r.Public)
}

// post sends payloads in answer to an activity: in its conversation when
// public or personal, else in the user's personal chat with a note where
// they asked.
func (b *Bot) post(ctx context.Context, a *Activity, req trustbot.Request, ps []Payload, public bool) error {
	if public || req.Direct {
		return b.sendAll(ctx, a.Reference(), ps)
	}
	ref, err := b.personal(ctx, req.UserKey, a.ServiceURL, accountName(a.From))
	if err != nil {
		return err
	}
	if err := b.sendAll(ctx, ref, ps); err != nil {
		return err
	}
	note := b.cfg.T(ctx, req.UserKey, "teams.replied_in_chat")
	return b.sendAll(ctx, a.Reference(), Render(trustbot.Reply{Text: note, Blocks: []trustbot.Block{{Kind: trustbot.Context, Text: note}}}, Options{Forms: b.forms}))
}

func (b *Bot) sendAll(ctx context.Context, ref ConversationReference, ps []Payload) error {
	for _, p := range ps {
		if _, err := b.cfg.Connector.SendToConversation(ctx, ref, p.Activity()); err != nil {
			return err
		}
	}
	return nil
}

// personal returns the user's personal chat with the bot: the one stored,
// or a new one opened through the connector (and stored).
func (b *Bot) personal(ctx context.Context, k trustbot.UserKey, serviceURL, name string) (ConversationReference, error) {
	tenant, _ := trustbot.Tenant(k.Team)
	c, err := b.cfg.Conversations.Conversation(ctx, k)
	if err == nil && c.ID != "" {
		return ConversationReference{ServiceURL: c.ServiceURL, Conversation: ConversationAccount{ID: c.ID, TenantID: tenant, ConversationType: ConversationPersonal},
			Bot: ChannelAccount{ID: c.BotID}}, nil
	}
	if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return ConversationReference{}, err
	}
	if serviceURL == "" {
		return ConversationReference{}, trustbot.Errorf(trustbot.EUNREACHABLE, "no personal chat with %s and no service URL to open one", k)
	}
	res, err := b.cfg.Connector.CreateConversation(ctx, serviceURL, PersonalConversation(b.cfg.AppID, tenant, k.User))
	if err != nil {
		return ConversationReference{}, err
	}
	c = trustbot.Conversation{Key: k, ID: res.ID, ServiceURL: serviceURL, BotID: "28:" + b.cfg.AppID, Name: name, UpdatedAt: b.cfg.Now()}
	if res.ServiceURL != "" {
		c.ServiceURL = res.ServiceURL
	}
	if _, err := b.cfg.Conversations.SaveConversation(ctx, c); err != nil {
		b.cfg.Logger.Warn("Teams conversation reference not saved", "team", k.Team, "user", k.User, "err", err)
	}
	return ConversationReference{ServiceURL: c.ServiceURL, Conversation: ConversationAccount{ID: c.ID, TenantID: tenant, ConversationType: ConversationPersonal},
		Bot: ChannelAccount{ID: c.BotID}}, nil
}

// notice is a reply of one short text the adapter sends on its own
// account: that it is busy, or that a file could not be delivered.
func notice(text string) trustbot.Reply {
	return trustbot.Reply{Text: text, Blocks: []trustbot.Block{{Kind: trustbot.Section, Text: text}}}
}

// sendFile gives the user their export: a single-use link that expires
// soon, in their personal chat only; where they asked, a note of where it
// went (or, if it could not be sent, the reply's words for that).
func (b *Bot) sendFile(ctx context.Context, a *Activity, req trustbot.Request, r trustbot.Reply) error {
	o := Options{Forms: b.forms}
	fail := func(err error) error {
		if r.File.Failed != "" {
			b.sendAll(ctx, a.Reference(), Render(notice(r.File.Failed), o))
		}
		return err
	}
	if b.cfg.Links == nil {
		return fail(errors.New("no link store for files"))
	}
	ref, err := b.personal(ctx, req.UserKey, a.ServiceURL, accountName(a.From))
	if err != nil {
		return fail(err)
	}
	url, err := b.cfg.Links.Put(ctx, req.UserKey, r.File.Name, r.File.Data, b.publicURL())
	if err != nil {
		return fail(err)
	}
	text := b.cfg.T(ctx, req.UserKey, "export.link")
	card := trustbot.Reply{Text: r.Text, Blocks: []trustbot.Block{
		{Kind: trustbot.Header, Text: r.File.Title},
		{Kind: trustbot.Section, Text: r.Text},
		{Kind: trustbot.Section, Text: text},
		{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: "download", Label: b.cfg.T(ctx, req.UserKey, "button.download"), URL: url, Style: trustbot.Primary}}},
	}}
	if err := b.sendAll(ctx, ref, Render(card, o)); err != nil {
		b.cfg.Links.Drop(context.WithoutCancel(ctx), url)
		return fail(err)
	}
	if req.Direct || r.File.Sent == "" {
		return nil
	}
	return b.sendAll(ctx, a.Reference(), Render(trustbot.Reply{Text: r.File.Sent, Blocks: []trustbot.Block{{Kind: trustbot.Context, Text: r.File.Sent}}}, o))
}

// PostDM sends a scheduled message to a user's personal chat, or a
// channel's tip of the week to its channel (a new thread there), by the
// conversation reference stored. With none, the user cannot be reached:
// the app was never installed for them, or was removed.
func (b *Bot) PostDM(ctx context.Context, to trustbot.UserKey, r trustbot.Reply, deliveryID string) (trustbot.Posted, error) {
	c, err := b.cfg.Conversations.Conversation(ctx, to)
	if trustbot.ErrorCode(err) == trustbot.ENOTFOUND {
		return trustbot.Posted{}, trustbot.Errorf(trustbot.EUNREACHABLE, "no Teams conversation with %s", to)
	}
	if err != nil {
		return trustbot.Posted{}, &trustbot.Error{Code: trustbot.ECANCELED, Message: fmt.Sprintf("conversation of %s: %v", to, err)}
	}
	// The reference was stored from a verified activity: its service URL
	// may have the bot's token (this process may not have seen it yet).
	if err := b.cfg.Connector.TrustServiceURL(c.ServiceURL); err != nil {
		return trustbot.Posted{}, trustbot.Errorf(trustbot.EUNREACHABLE, "stored service URL of %s refused: %v", to, err)
	}
	var ref ConversationReference
	if c.Channel {
		tenant, _ := trustbot.Tenant(to.Team)
		ref = ConversationReference{ServiceURL: c.ServiceURL, Conversation: ConversationAccount{ID: c.ID, TenantID: tenant, ConversationType: ConversationChannel}, Bot: ChannelAccount{ID: c.BotID}}
	} else if ref, err = b.personal(ctx, to, c.ServiceURL, c.Name); err != nil {
		return trustbot.Posted{}, err
	}
	var first trustbot.Posted
	for i, p := range Render(r, b.options(ctx, to, r, nil)) {
		res, err := b.cfg.Connector.SendToConversation(ctx, ref, p.Activity())
		if err != nil {
			if i > 0 {
				// The start went out: what is left is lost with a note in
				// the log, never sent twice by a retry of the whole.
				b.cfg.Logger.Warn("Teams message sent in part", "team", to.Team, "user", to.User, "delivery", deliveryID, "err", err)
				return first, nil
			}
			return trustbot.Posted{}, err
		}
		if i == 0 {
			first = trustbot.Posted{Channel: ref.Conversation.ID, TS: res.ID}
		}
	}
	return first, nil
}

// FindDMs cannot look: a bot cannot read a Teams conversation's history.
// A delivery left sending by a crash inside its send is therefore sent
// again: never lost, at most once twice.
func (b *Bot) FindDMs(context.Context, trustbot.UserKey, []string, time.Time) (map[string]trustbot.Posted, bool, error) {
	return nil, true, nil
}

func accountName(a *ChannelAccount) string {
	if a == nil {
		return ""
	}
	return a.Name
}
