package trustbot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestKeysCarryTheirPlatform(t *testing.T) {
	tenant := trustbot.TeamsWorkspace("8f0d6a1e-3c1b-4b5e-9e7f-2a6c4d1b0e93")
	for _, c := range []struct {
		k        trustbot.UserKey
		valid    bool
		platform trustbot.Platform
	}{
		{trustbot.UserKey{Team: "T0123ABC", User: "U0123ABC"}, true, trustbot.Slack},
		{trustbot.UserKey{Team: "E0123ABC", User: "W0123ABC"}, true, trustbot.Slack},
		{trustbot.UserKey{Team: tenant, User: "29:1" + strings.Repeat("aB3-_", 30)}, true, trustbot.Teams},
		{trustbot.UserKey{Team: tenant, User: "19:3b1c0f2d9e8a4b7c6d5e4f3a2b1c0d9e@thread.tacv2"}, true, trustbot.Teams},
		// A Slack ID never holds a colon or an at sign, nor runs past 64.
		{trustbot.UserKey{Team: "T1", User: "29:1abc"}, false, trustbot.Slack},
		{trustbot.UserKey{Team: "T1", User: "U" + strings.Repeat("1", 64)}, false, trustbot.Slack},
		{trustbot.UserKey{Team: tenant, User: "29:" + strings.Repeat("a", 300)}, false, trustbot.Teams},
		{trustbot.UserKey{Team: trustbot.TeamsWorkspace("not a tenant"), User: "29:1"}, false, trustbot.Teams},
		{trustbot.UserKey{Team: trustbot.TeamsWorkspace(""), User: "29:1"}, false, trustbot.Teams},
		{trustbot.UserKey{Team: tenant, User: "29:1 <at>x</at>"}, false, trustbot.Teams},
	} {
		if got := c.k.Valid(); got != c.valid {
			t.Errorf("%q Valid = %v, want %v", c.k, got, c.valid)
		}
		if got := c.k.Platform(); got != c.platform {
			t.Errorf("%q Platform = %q, want %q", c.k, got, c.platform)
		}
	}
	if id, ok := trustbot.Tenant(tenant); !ok || id != "8f0d6a1e-3c1b-4b5e-9e7f-2a6c4d1b0e93" {
		t.Errorf("Tenant = %q %v", id, ok)
	}
	if _, ok := trustbot.Tenant("T0123ABC"); ok {
		t.Error("a Slack team has no tenant")
	}
}

// recorder is a Messenger that notes who it was asked to write to.
type recorder struct{ to []trustbot.UserKey }

func (r *recorder) PostDM(_ context.Context, to trustbot.UserKey, _ trustbot.Reply, _ string) (trustbot.Posted, error) {
	r.to = append(r.to, to)
	return trustbot.Posted{Channel: "c", TS: "1"}, nil
}

func (r *recorder) FindDMs(_ context.Context, to trustbot.UserKey, _ []string, _ time.Time) (map[string]trustbot.Posted, bool, error) {
	r.to = append(r.to, to)
	return nil, true, nil
}

func TestMessengersRouteByPlatform(t *testing.T) {
	ctx := context.Background()
	slack, teams := &recorder{}, &recorder{}
	m := trustbot.Messengers{trustbot.Slack: slack, trustbot.Teams: teams}
	su := trustbot.UserKey{Team: "T1", User: "U1"}
	tu := trustbot.UserKey{Team: trustbot.TeamsWorkspace("8f0d6a1e-3c1b-4b5e-9e7f-2a6c4d1b0e93"), User: "29:1abc"}
	m.PostDM(ctx, su, trustbot.Reply{}, "d1")
	m.PostDM(ctx, tu, trustbot.Reply{}, "d2")
	m.FindDMs(ctx, tu, []string{"d2"}, time.Time{})
	if len(slack.to) != 1 || slack.to[0] != su || len(teams.to) != 2 || teams.to[0] != tu {
		t.Fatalf("slack got %v, teams got %v", slack.to, teams.to)
	}
	// A platform this process does not serve: never tried, left for one
	// that does.
	only := trustbot.Messengers{trustbot.Slack: slack}
	if _, err := only.PostDM(ctx, tu, trustbot.Reply{}, "d3"); trustbot.ErrorCode(err) != trustbot.ECANCELED {
		t.Fatalf("unserved platform: %v, want %s", err, trustbot.ECANCELED)
	}
	if _, _, err := only.FindDMs(ctx, tu, []string{"d3"}, time.Time{}); trustbot.ErrorCode(err) != trustbot.ECANCELED {
		t.Fatalf("unserved platform find: %v", err)
	}
}
