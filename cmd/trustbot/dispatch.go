package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// maxAhead is how far after the current time dispatch --now may go
// without --force.
const maxAhead = 24 * time.Hour

// dispatch runs one dispatch pass as of --now against the configured
// database and Slack, and prints what it sent (or, with --dry-run, what it
// would send).
func dispatch(ctx context.Context, e env) error {
	fs := e.flags("dispatch", "Reconciles deliveries a crash left sending, claims the check-ins, journey\nfollow-ups and channel posts due at --now (default: the current time) and\nsends them. A --now more than a day ahead of the clock, or a clock more\nthan 5 minutes from Slack's, needs --force.\n--dry-run lists what a pass would send, by kind, and changes nothing.\nA pass is refused while another trustbot sends from the database (serve):\nstop it first; --dry-run runs beside it.")
	nowFlag := fs.String("now", "", "the instant to dispatch as of, e.g. 2026-11-27T07:00:00Z (default: now)")
	dry := fs.Bool("dry-run", false, "list what a pass would send, by kind; change nothing, send nothing, need no token")
	force := fs.Bool("force", false, "allow --now more than a day after the current time, or a clock more than 5 minutes from Slack's (a dry run needs none)")
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
	lib, err := library(cfg.PlaybooksDir)
	if err != nil {
		return err
	}
	if *dry {
		return dryRun(ctx, e, cfg, lib, now, log)
	}
	// One pass only posts messages: it needs the bot token, never the app
	// token of the socket.
	if err := cfg.ValidateBot(); err != nil {
		return usageErr("%v", err)
	}
	// A pass sends: never beside a running serve or another pass.
	unlock, err := lockDB(cfg, "dispatch")
	if err != nil {
		return err
	}
	defer unlock()
	store, err := openLocked(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	b := &bot{cfg: cfg, log: log, lib: lib, store: store}
	if err := b.wire(false); err != nil {
		return err
	}
	b.coach.Now = func() time.Time { return now }
	if err := b.open(ctx); err != nil {
		return err
	}
	disp := b.disp
	if apart, off := disp.ClockSkewed(ctx); apart {
		// What is sent is recorded at this host's time, which the search
		// after a crash relies on: only with --force (the search then
		// allows for the offset while it lasts).
		if !*force {
			return fmt.Errorf("this host's clock and Slack's are %s apart, more than %s: set the clock right (NTP), or add --force to send anyway",
				off.Abs().Round(time.Second), schedule.MaxSkew)
		}
		log.Warn("this host's clock and Slack's disagree; sending anyway (--force)",
			"slack_ahead_by", off.Round(time.Second).String(), "limit", schedule.MaxSkew.String())
	}
	defer disp.Release(context.WithoutCancel(ctx))
	r, err := disp.Pass(ctx, now, true)
	for _, s := range r.Sends {
		status := "sent"
		if s.Err != nil {
			status = trustbot.ErrorCode(s.Err)
		}
		fmt.Fprintf(e.stdout, "%-11s %-8s %s %s occurrence %s delivery %s %s\n", status, s.Delivery.Kind, s.Delivery.Team, s.Delivery.User,
			s.Delivery.Occurrence, s.Delivery.ID, s.Posted.TS)
	}
	fmt.Fprintf(e.stdout, "dispatched as of %s: %d claimed, %d sent, %d missed, %d reconciled, %d requeued, %d unreachable, %d uncertain, %d failed\n",
		now.UTC().Format(time.RFC3339), r.Claimed, r.Sent, r.Missed, r.Reconciled, r.Requeued, r.Unreachable, r.Uncertain, r.Failed)
	return err
}

// kinds names each kind of delivery, in the order a dry run lists them.
var kinds = []struct{ kind, title string }{
	{coach.KindCheckin, "check-ins"},
	{coach.KindJourney, "journey follow-ups"},
	{coach.KindWeekly, "channel posts (tip of the week)"},
	{coach.KindTryit, "\"try this\" follow-ups"},
	{coach.KindNotice, "notices to subscribers"},
}

// dryRun shows everything a real pass at now would send, grouped by kind,
// and changes nothing: the same pass runs on a private copy of the
// database, with a messenger that only records. A SQLite file is copied
// next to itself (that volume has room for it); a PostgreSQL database is
// copied, row by row, into a SQLite file in the temporary directory,
// created 0600 and removed after.
func dryRun(ctx context.Context, e env, cfg Config, lib *playbook.Library, now time.Time, log *slog.Logger) error {
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	kind, _ := cfg.Database()
	var dir string
	if kind == Postgres {
		dir, err = os.MkdirTemp("", "trustbot-dry-run-")
	} else {
		dir, err = os.MkdirTemp(filepath.Dir(cfg.DB), ".dry-run-")
	}
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cp := cfg
	cp.DB = filepath.Join(dir, "copy.db")
	var copyDB database
	if kind == Postgres {
		if copyDB, err = openStore(ctx, cp, log); err != nil {
			return err
		}
		defer copyDB.Close()
		if _, err := store.Shared().CopyTo(ctx, copyDB.Shared()); err != nil {
			return fmt.Errorf("dry run: copying the database: %w", err)
		}
	} else {
		if err := store.(*sqlite.DB).Backup(ctx, cp.DB); err != nil {
			return err
		}
	}
	stale, err := store.StaleSending(ctx, now.Add(time.Second), time.Now(), 10_000)
	if err != nil {
		return err
	}
	if copyDB == nil {
		if copyDB, err = openStore(ctx, cp, log); err != nil {
			return err
		}
		defer copyDB.Close()
	}
	// No directory: languages and zones come from the profiles stored.
	co := coach.New(lib, copyDB, nil, cfg.DefaultLang, nil)
	co.Now = func() time.Time { return now }
	co.Holidays, co.DefaultTZ = calendar.New(), cfg.TZ
	rec := &dryMessenger{}
	disp := &schedule.Dispatcher{Store: copyDB, Messenger: rec, Coach: co}
	r, err := disp.Pass(ctx, now, false)
	if err != nil {
		return err
	}
	groups := map[string][]trustbot.Delivery{}
	for _, s := range r.Sends {
		groups[s.Delivery.Kind] = append(groups[s.Delivery.Kind], s.Delivery)
	}
	order := make([]string, 0, len(kinds))
	titles := map[string]string{}
	for _, k := range kinds {
		order, titles[k.kind] = append(order, k.kind), k.title
	}
	for k := range groups {
		if _, ok := titles[k]; !ok {
			order, titles[k] = append(order, k), k
		}
	}
	slices.Sort(order[len(kinds):])
	total := 0
	for _, k := range order {
		ds := groups[k]
		slices.SortFunc(ds, func(a, b trustbot.Delivery) int {
			return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.Team, b.Team), cmp.Compare(a.User, b.User), cmp.Compare(a.Occurrence, b.Occurrence))
		})
		fmt.Fprintf(e.stdout, "%s: %d\n", titles[k], len(ds))
		for _, d := range ds {
			fmt.Fprintf(e.stdout, "  %s %s %s occurrence %s due %s\n", d.Kind, d.Team, d.User, d.Occurrence, d.DueAt.UTC().Format(time.RFC3339))
		}
		total += len(ds)
	}
	if len(stale) > 0 {
		fmt.Fprintf(e.stdout, "left sending by an earlier run, looked for in Slack before any resend: %d\n", len(stale))
		for _, d := range stale {
			fmt.Fprintf(e.stdout, "  %s %s %s occurrence %s delivery %s\n", d.Kind, d.Team, d.User, d.Occurrence, d.ID)
		}
	}
	fmt.Fprintf(e.stdout, "dry run as of %s: %d to send (%d missed occurrences), %d left sending; nothing sent, nothing changed\n",
		now.UTC().Format(time.RFC3339), total, r.Missed, len(stale))
	return nil
}

// dryMessenger records what would be posted. It cannot look in Slack, so
// deliveries left sending stay as they are in the copy.
type dryMessenger struct {
	mu sync.Mutex
	n  int
}

func (m *dryMessenger) PostDM(_ context.Context, to trustbot.UserKey, _ trustbot.Reply, _ string) (trustbot.Posted, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return trustbot.Posted{Channel: to.User, TS: "dry-run." + strconv.Itoa(m.n)}, nil
}

func (m *dryMessenger) FindDMs(context.Context, trustbot.UserKey, []string, time.Time) (map[string]trustbot.Posted, bool, error) {
	return nil, false, errors.New("dry run: Slack is not asked")
}
