package teams

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
)

// BenchmarkVerify measures the check of one inbound token with the keys
// cached: the cost every Teams request pays before it is read.
func BenchmarkVerify(b *testing.B) {
	fake := fakebf.New(fakebf.Config{})
	defer fake.Close()
	v, err := NewVerifier(VerifierConfig{AppID: fake.AppID(), MetadataURL: fake.MetadataURL(), HTTPClient: fake.Client()})
	if err != nil {
		b.Fatal(err)
	}
	header := "Bearer " + fake.Token(fake.ServiceURL(), fakebf.Genuine)
	ctx := context.Background()
	if _, err := v.Verify(ctx, header, fake.ServiceURL(), ChannelMSTeams); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, header, fake.ServiceURL(), ChannelMSTeams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseActivity measures reading a personal message with its
// entities, and taking the mention out of a channel message.
func BenchmarkParseActivity(b *testing.B) {
	fake := fakebf.New(fakebf.Config{})
	defer fake.Close()
	u := fakebf.NewUser("Bench", "ja-JP", "Asia/Tokyo")
	body, _ := json.Marshal(fake.InChannel(u, fakebf.NewTeam("Bench"), "check 来週の打ち合わせ、よろしくお願いします"))
	b.ReportAllocs()
	for b.Loop() {
		a, err := ParseActivity(body)
		if err != nil {
			b.Fatal(err)
		}
		_ = a.TextWithoutMention()
		_ = a.Timezone()
	}
}

// BenchmarkConnectorBurst sends a burst of 300 messages, one into each of
// 300 personal chats of one tenant, through the fake connector over https.
// Waits for a turn move a test clock, not the wall clock: ns/op is the
// client's own cost (token, JSON, the round trip), and paced-s is how long
// Teams' limits spread the burst over (the tenant's 50 a second).
func BenchmarkConnectorBurst(b *testing.B) {
	fake := fakebf.New(fakebf.Config{})
	defer fake.Close()
	c := newClock()
	fake.SetClock(c.Now)
	ts, _ := NewTokenSource(TokenConfig{AppID: fake.AppID(), Password: fake.Password(), TokenURL: fake.TokenURL(), HTTPClient: fake.Client(), Now: c.Now})
	conn, err := NewConnector(ConnectorConfig{AppID: fake.AppID(), Tokens: ts, HTTPClient: fake.Client()})
	if err != nil {
		b.Fatal(err)
	}
	conn.pacer.now = c.Now
	conn.pacer.sleep = func(ctx context.Context, d time.Duration) error { c.Advance(d); return nil }
	_ = conn.TrustServiceURL(fake.ServiceURL())
	ctx := context.Background()
	refs := make([]ConversationReference, 300)
	for i := range refs {
		u := fakebf.NewUser("burst"+string(rune('a'+i%26))+string(rune('a'+i/26)), "ja-JP", "")
		created, err := conn.CreateConversation(ctx, fake.ServiceURL(), PersonalConversation(fake.AppID(), fake.TenantID(), u.ID))
		if err != nil {
			b.Fatal(err)
		}
		refs[i] = ConversationReference{ServiceURL: fake.ServiceURL(), Conversation: ConversationAccount{ID: created.ID, TenantID: fake.TenantID()}}
	}
	msg := &Activity{Type: TypeMessage, Text: "今週のヒント", Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard,
		Content: json.RawMessage(`{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"今週のヒント","wrap":true}]}`)}}}
	c.Advance(time.Hour) // every bucket full again
	var paced time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := c.Now()
		for _, ref := range refs {
			if _, err := conn.SendToConversation(ctx, ref, msg); err != nil {
				b.Fatal(err)
			}
		}
		paced += c.Now().Sub(start)
		c.Advance(time.Hour)
	}
	b.ReportMetric(paced.Seconds()/float64(b.N), "paced-s")
}
