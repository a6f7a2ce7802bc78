package slack

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"sync"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// messageCacheSize bounds the messages kept: every tip in both
// languages with its menu fits, and a full cache starts again empty.
const messageCacheSize = 1024

// messageCache keeps shared replies (Reply.Shared) ready to send, as the
// plain values of their JSON: a tip is the same for everyone who asks for
// it in a language, and rendering it again for each of them was much of
// the work of answering. Replies with anything of the user's are never
// kept. An entry is found by a hash of the reply's content and then
// compared with it field by field (sameMessage), so a reply that differs
// in anything is rendered anew.
type messageCache struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64][]*cachedMessage // by messageHash
	n    int                         // entries in m
}

// cachedMessage is a shared reply ready to send, with a copy of the reply
// it renders: as JSON (an ack's payload, written into the ack as it is,
// and a response_url body), or, when json.Marshal refused it, as plain
// values.
type cachedMessage struct {
	reply trustbot.Reply
	plain any
	json  []byte
}

func newMessageCache() *messageCache {
	return &messageCache{seed: maphash.MakeSeed(), m: map[uint64][]*cachedMessage{}}
}

// message returns r as a message to marshal (a slash command ack's
// payload): a kept reply as its JSON already made (a json.RawMessage,
// written into the ack as it is), any other as plain values. The value
// may be shared: callers must not change it.
func (c *messageCache) message(r trustbot.Reply) any {
	if !r.Shared {
		return plainMessage(webhookMessage(r))
	}
	m := c.shared(r)
	if m.json != nil {
		return json.RawMessage(m.json)
	}
	return m.plain
}

// encode returns r as the JSON of a message (a response_url body). The
// bytes may be shared: callers must not change them.
func (c *messageCache) encode(r trustbot.Reply) ([]byte, error) {
	if !r.Shared {
		return json.Marshal(plainMessage(webhookMessage(r)))
	}
	if m := c.shared(r); m.json != nil {
		return m.json, nil
	}
	return json.Marshal(plainMessage(webhookMessage(r)))
}

// keep renders and keeps every shared reply of rs not kept yet, until ctx
// is done, and returns how many renderings are kept then.
func (c *messageCache) keep(ctx context.Context, rs []trustbot.Reply) int {
	for _, r := range rs {
		if ctx.Err() != nil {
			break
		}
		if r.Shared {
			c.shared(r)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// shared returns the kept rendering of a shared reply, rendering and
// keeping it the first time.
func (c *messageCache) shared(r trustbot.Reply) *cachedMessage {
	h := c.messageHash(r)
	c.mu.Lock()
	for _, m := range c.m[h] {
		if sameMessage(m.reply, r) {
			c.mu.Unlock()
			return m
		}
	}
	c.mu.Unlock()
	m := &cachedMessage{reply: copyMessage(r), plain: plainMessage(webhookMessage(r))}
	// A message json.Marshal refuses is kept without its JSON, and
	// encode reports the error each time; one it takes is kept as its
	// JSON alone.
	var err error
	if m.json, err = json.Marshal(m.plain); err == nil {
		m.plain = nil
	}
	c.mu.Lock()
	if c.n >= messageCacheSize {
		clear(c.m)
		c.n = 0
	}
	c.m[h] = append(c.m[h], m)
	c.n++
	c.mu.Unlock()
	return m
}

// messageHash hashes the text of every field of r that webhookMessage
// reads; replies with the same hash are told apart by sameMessage.
func (c *messageCache) messageHash(r trustbot.Reply) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(r.Text)
	for _, blk := range r.Blocks {
		h.WriteByte(byte(blk.Kind))
		h.WriteString(blk.Title)
		h.WriteString(blk.Text)
		for _, ctl := range blk.Controls {
			h.WriteString(ctl.ID)
			h.WriteString(ctl.Value)
			h.WriteString(ctl.Initial)
		}
	}
	return h.Sum64()
}

// sameMessage reports whether a and b are alike in every field that
// webhookMessage reads, so that they render the same.
// TestSameMessageCoversEveryField fails when a field is added to a
// reply's parts, to be compared here (and in trustbot.EqualBlocks).
func sameMessage(a, b trustbot.Reply) bool {
	return a.Text == b.Text && a.Public == b.Public && a.ReplaceOriginal == b.ReplaceOriginal &&
		trustbot.EqualBlocks(a.Blocks, b.Blocks)
}

// copyMessage copies what sameMessage compares, so that a kept entry does
// not change with the caller's reply.
func copyMessage(r trustbot.Reply) trustbot.Reply {
	return trustbot.Reply{Text: r.Text, Public: r.Public, ReplaceOriginal: r.ReplaceOriginal, Shared: r.Shared,
		Blocks: trustbot.CloneBlocks(r.Blocks)}
}
