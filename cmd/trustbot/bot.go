package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/metrics"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/teams"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// bot is trustbot wired together: the store, the coach and the
// dispatcher, and one adapter per platform it serves, each a field (nil
// when that platform is not served). serve and dispatch build it the same
// way; only serve listens.
type bot struct {
	cfg   Config
	log   *slog.Logger
	lib   *playbook.Library
	store database
	met   *metrics.Prometheus // nil: nothing is measured (one dispatch pass)

	coach *coach.Coach
	disp  *schedule.Dispatcher

	slack *slack.Client
	oauth *slack.OAuth // installations through "Add to Slack"; nil with one bot token
	teams *teams.Bot
	links *teams.Links
}

// slackAckTrace, when set, hears how each Slack ack went (see
// slack.Config.AckTrace). Only a test binary sets it: a benchmark's
// trustbot process writes the acks of its bursts out for diagnosis (see
// TRUSTBOT_BENCH_ACKLOG in bench_test.go).
var slackAckTrace func(slack.AckTrace)

// wire builds the coach, the dispatcher and the adapters. listen says the
// adapters will take requests (serve), not only send (dispatch).
func (b *bot) wire(listen bool) error {
	var met trustbot.Metrics = trustbot.NopMetrics{}
	if b.met != nil {
		met = b.met
		b.store.Shared().Metrics = b.met
	}
	messengers := trustbot.Messengers{}
	directories := trustbot.Directories{}
	if b.cfg.Slack() {
		sc := slack.Config{BotToken: b.cfg.BotToken, APIURL: b.cfg.APIURL, SendRate: b.cfg.SendRate, Logger: b.log,
			SendSlots: b.store.Shared().SendSlots()}
		if listen {
			// Without an app token, Slack's requests come over HTTP.
			sc.AppToken, sc.SigningSecret, sc.BusyText = b.cfg.AppToken, b.cfg.SigningSecret, b.lib.T(b.cfg.DefaultLang, "slack.busy")
			if !b.store.Shared().OneProcess() {
				// Replicas share what was handled; one process keeps
				// it in memory (the client's default).
				sc.Seen = newHandledSeen(b.store, b.log, trustbot.Slack)
			}
		}
		if b.met != nil {
			sc.Metrics = b.met
		}
		sc.AckTrace = slackAckTrace
		if b.cfg.SlackOAuth() {
			// Distributed outside the Marketplace: Slack allows each
			// workspace one conversations.history a minute.
			sc.HistoryInterval = time.Minute
			b.oauth = slack.NewOAuth(slack.OAuthConfig{ClientID: b.cfg.ClientID, ClientSecret: b.cfg.ClientSecret, PublicURL: b.cfg.PublicURL,
				AuthorizeURL: b.cfg.AuthorizeURL, APIURL: b.cfg.APIURL, Store: b.store.Shared(), T: b.lib.T, Logger: b.log})
			sc.Tokens, sc.Uninstalled, sc.Workspace = b.oauth.Token, b.oauth.Uninstalled, b.oauth.Workspace
		}
		b.slack = slack.New(sc)
		messengers[trustbot.Slack], directories[trustbot.Slack] = b.slack, b.slack
	}
	if b.cfg.Teams() {
		t, err := b.wireTeams(met)
		if err != nil {
			return err
		}
		b.teams = t
		messengers[trustbot.Teams] = b.teams
	}
	b.coach = coach.New(b.lib, b.store, directories, b.cfg.DefaultLang, b.log.With("component", "coach"))
	b.coach.Holidays, b.coach.Metrics, b.coach.DefaultTZ, b.coach.Admins = calendar.New(), met, b.cfg.TZ, b.cfg.Admins
	b.coach.Channels = channels{slack: b.slack}
	b.disp = &schedule.Dispatcher{Store: b.store, Messenger: messengers, Coach: b.coach, Logger: b.log.With("component", "schedule"),
		Clocks: map[trustbot.Platform]schedule.PlatformClock{}}
	if b.slack != nil {
		b.disp.Clocks[trustbot.Slack] = b.slack
	}
	if b.met != nil {
		b.disp.Metrics = b.met
	}
	b.coach.Kick = b.disp.Kick
	if b.slack != nil && listen {
		b.slack.SetHandler(b.coach)
	}
	if b.teams != nil {
		b.teams.SetHandler(b.coach, coach.FormActions())
	}
	return nil
}

// wireTeams builds the Teams adapter: the token check of what Teams
// posts, the bot's own token, the connector and the links to files. It
// needs nothing from the network until the first activity or send.
func (b *bot) wireTeams(met trustbot.Metrics) (*teams.Bot, error) {
	cfg, log := b.cfg, b.log.With("component", "teams")
	if cfg.TeamsDev && cfg.TeamsAppID == "" {
		cfg.TeamsAppID = teams.DevAppID
	}
	cc := teams.ConnectorConfig{AppID: cfg.TeamsAppID, Dev: cfg.TeamsDev, Metrics: met, Logger: log, SendSlots: b.store.Shared().SendSlots()}
	// Activities handled are recorded in the database, on SQLite too: a
	// retry that comes after a restart is still known.
	tc := teams.Config{AppID: cfg.TeamsAppID, Conversations: b.store, Dev: cfg.TeamsDev, PublicURL: cfg.PublicURL, Logger: log, Metrics: met,
		Seen: newHandledSeen(b.store, log, trustbot.Teams)}
	if !cfg.TeamsDev {
		tokens, err := teams.NewTokenSource(teams.TokenConfig{AppID: cfg.TeamsAppID, Password: cfg.TeamsAppPassword, TokenURL: cfg.TeamsTokenURL, TenantID: cfg.TeamsTenantID})
		if err != nil {
			return nil, err
		}
		cc.Tokens = tokens
		vc := teams.VerifierConfig{AppID: cfg.TeamsAppID, MetadataURL: cfg.TeamsOpenIDURL, Logger: log}
		if cfg.TeamsTenantID != multiTenant {
			vc.TenantID = cfg.TeamsTenantID
		}
		if tc.Verifier, err = teams.NewVerifier(vc); err != nil {
			return nil, err
		}
	}
	conn, err := teams.NewConnector(cc)
	if err != nil {
		return nil, err
	}
	tc.Connector = conn
	both := func(key string) string {
		return b.lib.T(trustbot.Japanese, key) + "\n" + b.lib.T(trustbot.English, key)
	}
	b.links = &teams.Links{Files: b.store, Gone: both("export.link_gone"), Busy: both("export.link_busy"), Logger: log}
	tc.Links = b.links
	tc.T = func(ctx context.Context, k trustbot.UserKey, key string, args ...string) string {
		return b.coach.T(ctx, k, key, args...)
	}
	return teams.New(tc)
}

// open connects the adapters that need a connection before use.
func (b *bot) open(ctx context.Context) error {
	if b.slack != nil {
		return b.slack.Open(ctx)
	}
	return nil
}

// run serves until ctx ends or a platform's connection fails for good,
// then stops the dispatcher, waiting for in-flight sends.
func (b *bot) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		b.disp.Run(ctx)
	}()
	if b.cfg.Retention > 0 {
		var met trustbot.Metrics = trustbot.NopMetrics{}
		if b.met != nil {
			met = b.met
		}
		go retain(ctx, leasedPurge{disp: b.disp, store: b.store}, b.cfg.Retention, retentionEvery, met, b.log)
	}
	go forgetHandled(ctx, b.disp, b.store, b.log)
	go b.keepTips(ctx)
	if b.oauth != nil {
		go b.oauth.RunRenewals(ctx)
	}
	if b.teams != nil {
		b.teams.Start(ctx)
	}
	var err error
	if b.slack != nil {
		err = b.slack.Run(ctx)
	} else {
		<-ctx.Done()
	}
	b.log.Info("stopping: finishing in-flight work")
	cancel()
	done := make(chan struct{})
	go func() {
		<-dispatched
		if b.teams != nil {
			b.teams.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownTime):
		b.log.Warn("dispatcher or Teams answers did not stop in time; deliveries left sending are reconciled at the next start")
	}
	b.log.Info("stopped")
	return err
}

// keepTips makes every tip's message on each platform served, and Slack's
// rendering of it, once at start (coach.Coach.TipMessages), in the
// background: the first burst of tips then allocates no more than the
// next one.
func (b *bot) keepTips(ctx context.Context) {
	start := time.Now()
	attrs := []any{}
	if b.slack != nil {
		attrs = append(attrs, "slack", b.slack.KeepMessages(ctx, b.coach.TipMessages(ctx, trustbot.Slack)))
	}
	if b.teams != nil {
		attrs = append(attrs, "teams", len(b.coach.TipMessages(ctx, trustbot.Teams)))
	}
	if ctx.Err() == nil {
		b.log.Info("tip messages kept", append(attrs, "took", time.Since(start).Round(time.Millisecond))...)
	}
}

// connected reports whether every platform that keeps a connection has
// it, for /readyz: "" when all do, else which does not.
func (b *bot) connected() string {
	switch {
	case b.slack != nil && b.cfg.SlackHTTP() && !b.slack.Connected():
		return "slack not taking requests"
	case b.slack != nil && !b.slack.Connected():
		return "slack not connected"
	}
	return ""
}

// public reports whether anything is served on the public address: Teams,
// or Slack's HTTP mode.
func (b *bot) public() bool { return b.teams != nil || b.slack != nil && b.cfg.SlackHTTP() }

// publicRoutes are what the public address serves.
func (b *bot) publicRoutes() http.Handler {
	mux := http.NewServeMux()
	if b.teams != nil {
		mux.Handle("/api/messages", b.teams)
		mux.Handle(teams.LinkPath, b.links)
	}
	if b.slack != nil && b.cfg.SlackHTTP() {
		b.slack.Routes(mux)
	}
	if b.oauth != nil && b.slack != nil && b.cfg.SlackHTTP() {
		b.oauth.Routes(mux)
	}
	return mux
}

// channels answers whether the bot is in a channel, per platform: Slack
// is asked; in Teams a channel message reaches the bot only when the app
// is in the team, so it always is.
type channels struct{ slack *slack.Client }

func (c channels) IsMember(ctx context.Context, team, channel string) (bool, error) {
	if trustbot.PlatformOf(team) == trustbot.Teams {
		return true, nil
	}
	if c.slack == nil {
		return false, trustbot.Errorf(trustbot.ENOTFOUND, "Slack is not served")
	}
	return c.slack.IsMember(ctx, team, channel)
}
