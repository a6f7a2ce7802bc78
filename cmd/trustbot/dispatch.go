package main

import (
	"context"
	"fmt"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// maxAhead is how far after the current time dispatch --now may go
// without --force.
const maxAhead = 24 * time.Hour

// dispatch runs one dispatch pass as of --now against the configured
// database and Slack, and prints what it sent (or, with --dry-run, what it
// would send).
func dispatch(ctx context.Context, e env) error {
	fs := e.flags("dispatch", "dispatch [--now RFC3339 [--force]] [--dry-run] [--db FILE]\n\nRuns one dispatch pass: reconciles deliveries a crash left sending, claims the\ncheck-ins due at --now (default: the current time) and sends them. A --now\nmore than a day ahead of the clock needs --force.")
	nowFlag := fs.String("now", "", "the instant to dispatch as of, e.g. 2026-11-27T07:00:00Z (default: now)")
	dry := fs.Bool("dry-run", false, "only print what is due; change nothing, send nothing")
	force := fs.Bool("force", false, "allow --now more than a day after the current time (a dry run needs none)")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return usageErr("--now %q: use RFC 3339, e.g. 2026-11-27T07:00:00Z", *nowFlag)
		}
		if ahead := t.Sub(now); ahead > maxAhead && !*force && !*dry {
			return usageErr("--now %s is %s after the current time (%s): a pass as of then would move every schedule there and count the real occurrences in between as missed; add --force if that is what you want",
				*nowFlag, ahead.Round(time.Minute), now.UTC().Format(time.RFC3339))
		}
		now = t
	}
	cfg, log, err := e.loadConfig(*db)
	if err != nil {
		return err
	}
	if !*dry {
		if err := cfg.ValidateSlack(); err != nil {
			return usageErr("%v", err)
		}
	}
	lib, err := library(cfg.PlaybooksDir)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	sl := slack.New(slack.Config{BotToken: cfg.BotToken, AppToken: cfg.AppToken, APIURL: cfg.APIURL, SendRate: cfg.SendRate, Logger: log})
	co := coach.New(lib, store, sl, cfg.DefaultLang, log.With("component", "coach"))
	co.Now = func() time.Time { return now }
	co.Holidays = calendar.New()
	disp := &schedule.Dispatcher{Store: store, Messenger: sl, Coach: co, Logger: log.With("component", "schedule")}

	if *dry {
		due, pending, err := disp.DryRun(ctx, now)
		if err != nil {
			return err
		}
		for _, s := range due {
			fmt.Fprintf(e.stdout, "due      %s %s %s occurrence %s at %s\n", s.Team, s.User, coach.KindCheckin, s.Occurrence, s.NextDueAt.Format(time.RFC3339))
		}
		for _, d := range pending {
			fmt.Fprintf(e.stdout, "pending  %s %s %s occurrence %s delivery %s\n", d.Team, d.User, d.Kind, d.Occurrence, d.ID)
		}
		fmt.Fprintf(e.stdout, "dry run as of %s: %d due, %d pending; nothing sent\n", now.UTC().Format(time.RFC3339), len(due), len(pending))
		return nil
	}
	if err := sl.Open(ctx); err != nil {
		return err
	}
	r, err := disp.Pass(ctx, now, true)
	for _, s := range r.Sends {
		status := "sent"
		if s.Err != nil {
			status = trustbot.ErrorCode(s.Err)
		}
		fmt.Fprintf(e.stdout, "%-11s %s %s %s occurrence %s delivery %s %s\n", status, s.Delivery.Team, s.Delivery.User,
			s.Delivery.Kind, s.Delivery.Occurrence, s.Delivery.ID, s.Posted.TS)
	}
	fmt.Fprintf(e.stdout, "dispatched as of %s: %d claimed, %d sent, %d missed, %d reconciled, %d requeued, %d unreachable, %d uncertain, %d failed\n",
		now.UTC().Format(time.RFC3339), r.Claimed, r.Sent, r.Missed, r.Reconciled, r.Requeued, r.Unreachable, r.Uncertain, r.Failed)
	return err
}
