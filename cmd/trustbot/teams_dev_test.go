package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The development mode needs nothing but TEAMS_DEV=1 and a loopback
// public address: no app ID, no password. It takes activities without a
// token and answers through a plain-http connector that asks for none, as
// the Agents Playground's does, sending no token of its own.
func TestTeamsDevMode(t *testing.T) {
	bf := fakebf.New(fakebf.Config{Anonymous: true, PlainHTTP: true})
	t.Cleanup(bf.Close)
	b := &TeamsBot{BF: bf, Stderr: &syncBuffer{}, DB: newDB(t), HTTP: freeAddr(t), Public: freeAddr(t)}
	b.Env = map[string]string{
		"TEAMS_DEV":            "1",
		"TRUSTBOT_PUBLIC_ADDR": b.Public,
		"TRUSTBOT_DB":          b.DB,
		"TRUSTBOT_HTTP_ADDR":   b.HTTP,
	}
	t.Cleanup(func() { b.Stop(t) })
	b.Start(t)

	lib := mustLibrary(t)
	conv := bf.PersonalConversationID(alexEN.ID)
	status, body, err := bf.Post(ctxTimeout(t), "http://"+b.Public+"/api/messages", bf.Personal(alexEN, "help"), fakebf.NoToken)
	if err != nil || status != http.StatusOK {
		t.Fatalf("an activity without a token: %d %s %v\n%s", status, body, err, b.Stderr)
	}
	b.eventually(t, "the answer", func() bool { return len(b.botMessages(conv)) > 0 })
	mustContain(t, b.botMessages(conv)[0], lib.T(trustbot.English, "help.title"))
	for _, r := range bf.Requests() {
		if r.Authorization {
			t.Fatalf("the development mode sent a token: %+v", r)
		}
	}
	// It says loudly what it is, where an operator looks.
	if log := b.Stderr.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "TEAMS DEVELOPMENT MODE") {
		t.Fatalf("no warning of the development mode in the log:\n%s", log)
	}
}
