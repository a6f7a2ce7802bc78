package slack

import (
	"encoding/json"
	"strconv"
	"strings"
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
// kept. An entry is found by the reply's whole content, so a reply that
// differs in anything is rendered anew.
type messageCache struct {
	mu sync.Mutex
	m  map[string]*cachedMessage
}

// cachedMessage is a shared reply ready to send: as plain values (an
// ack's payload, marshalled with the ack) and as JSON (a response_url
// body).
type cachedMessage struct {
	plain any
	json  []byte
}

func newMessageCache() *messageCache {
	return &messageCache{m: map[string]*cachedMessage{}}
}

// message returns r as a message to marshal (a slash command ack's
// payload). The value may be shared: callers must not change it.
func (c *messageCache) message(r trustbot.Reply) any {
	if !r.Shared {
		return plainMessage(webhookMessage(r))
	}
	return c.shared(r).plain
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

// shared returns the kept rendering of a shared reply, rendering and
// keeping it the first time.
func (c *messageCache) shared(r trustbot.Reply) *cachedMessage {
	key := messageKey(r)
	c.mu.Lock()
	m, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return m
	}
	m = &cachedMessage{plain: plainMessage(webhookMessage(r))}
	// A message json.Marshal refuses is kept without its JSON, and
	// encode reports the error each time.
	m.json, _ = json.Marshal(m.plain)
	c.mu.Lock()
	if len(c.m) >= messageCacheSize {
		clear(c.m)
	}
	c.m[key] = m
	c.mu.Unlock()
	return m
}

// messageKey writes every field of r that webhookMessage reads, each
// with its length, so that two replies have the same key only when they
// render the same. TestMessageKeyCoversEveryField fails when a field is
// added to a reply's parts, to be added here.
func messageKey(r trustbot.Reply) string {
	var b strings.Builder
	b.Grow(keySize(r))
	str := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	num := func(n int) {
		b.WriteString(strconv.Itoa(n))
		b.WriteByte(';')
	}
	flag := func(f bool) {
		if f {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	str(r.Text)
	flag(r.Public)
	flag(r.ReplaceOriginal)
	num(len(r.Blocks))
	for _, blk := range r.Blocks {
		num(int(blk.Kind))
		str(blk.Title)
		str(blk.Text)
		num(len(blk.Controls))
		for _, c := range blk.Controls {
			num(int(c.Kind))
			str(c.ID)
			str(c.Label)
			str(c.Value)
			num(int(c.Style))
			str(c.Initial)
			str(c.Description)
			str(c.URL)
			flag(c.Suggest)
			num(len(c.Options))
			for _, o := range c.Options {
				str(o.Label)
				str(o.Value)
			}
		}
	}
	return b.String()
}

// keySize is about the length of r's key, to allocate it once.
func keySize(r trustbot.Reply) int {
	n := 16 + len(r.Text)
	for _, blk := range r.Blocks {
		n += 16 + len(blk.Title) + len(blk.Text)
		for _, c := range blk.Controls {
			n += 48 + len(c.ID) + len(c.Label) + len(c.Value) + len(c.Initial) + len(c.Description) + len(c.URL)
			for _, o := range c.Options {
				n += 8 + len(o.Label) + len(o.Value)
			}
		}
	}
	return n
}
