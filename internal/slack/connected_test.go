package slack

import (
	"errors"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

// TestLateReadErrorKeepsConnected: slack-go's reader of a closed socket may
// report its read error after the next socket said hello; the client is
// still connected.
func TestLateReadErrorKeepsConnected(t *testing.T) {
	c := New(Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: "http://127.0.0.1:1/api/"})
	for _, typ := range []socketmode.EventType{socketmode.EventTypeConnecting, socketmode.EventTypeConnected, socketmode.EventTypeHello} {
		c.dispatch(socketmode.Event{Type: typ})
	}
	if !c.Connected() {
		t.Fatal("not connected after hello")
	}
	c.dispatch(socketmode.Event{Type: socketmode.EventTypeIncomingError, Data: &slack.IncomingEventError{ErrorObj: errors.New("use of closed network connection")}})
	if !c.Connected() {
		t.Error("a late read error of the old socket marked the client disconnected")
	}
	c.dispatch(socketmode.Event{Type: socketmode.EventTypeConnecting})
	if c.Connected() {
		t.Error("connected while connecting again")
	}
}
