package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/console"
	"github.com/trustbot/trustbot/internal/metrics"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/teams"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// serve connects to the platforms configured and answers until ctx ends. Things are opened in
// order and closed in reverse.
func serve(ctx context.Context, e env) error {
	fs := e.flags("serve", "")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, log, err := e.loadConfig(*db)
	if err != nil {
		return err
	}
	if _, err := cfg.Platforms(); err != nil {
		return usageErr("%v", err)
	}
	log.Info("starting", "version", versionString(), "gomaxprocs", runtime.GOMAXPROCS(0), "config", cfg)

	// The lock first: a second trustbot on the file is refused at once.
	unlock, err := lockDB(cfg, "serve")
	if err != nil {
		return err
	}
	defer unlock()
	lib, err := library(cfg.PlaybooksDir)
	if err != nil {
		return err
	}
	store, err := openLocked(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()

	b := &bot{cfg: cfg, log: log, lib: lib, store: store, met: metrics.New(metricNames())}
	if err := b.wire(true); err != nil {
		return err
	}
	if err := b.open(ctx); err != nil {
		return err
	}
	// A clock far from Slack's would send at the wrong times: refuse to
	// start rather than run on it (Run stops passing if it drifts later).
	if apart, off := b.disp.ClockSkewed(ctx); apart {
		b.met.Fault(trustbot.FaultClockSkew)
		log.Error("this host's clock and the platform's disagree: not starting", "platform_ahead_by", off.Round(time.Second).String(), "limit", schedule.MaxSkew.String())
		way := "ahead of"
		if off > 0 {
			way = "behind"
		}
		return fmt.Errorf("this host's clock is %s %s Slack's, more than %s: set it right (NTP) and start again",
			off.Abs().Round(time.Second), way, schedule.MaxSkew)
	}
	// The public port listens before /readyz can say ready: a replica
	// reported ready takes the platforms' traffic at once.
	if b.public() {
		stop, err := servePublic(cfg.PublicAddr, b.publicRoutes(), log)
		if err != nil {
			return err
		}
		defer stop()
		if cfg.TeamsDev {
			log.Warn("TEAMS DEVELOPMENT MODE: activities are taken WITHOUT a token from this machine, and messages go to plain-http service URLs on it; never use this beside real users", "public_addr", cfg.PublicAddr)
		}
	}
	if cfg.HTTPAddr != "" {
		stop, err := serveHTTP(cfg.HTTPAddr, store, b.connected, b.disp.ReplicaID, b.met.Handler(), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	return b.run(ctx)
}

// servePublic serves the platforms' traffic (Teams' POST /api/messages,
// links to files, Slack's requests in HTTP mode) on the public address:
// never /metrics or the probes.
func servePublic(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TRUSTBOT_PUBLIC_ADDR: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("public server failed", "err", err)
		}
	}()
	log.Info("public address listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// metricNames are the only label values the metrics take.
func metricNames() metrics.Names {
	return metrics.Names{
		Commands: coach.MetricNames(),
		Kinds:    coach.Kinds(),
		States: []string{"sent", trustbot.EUNREACHABLE, trustbot.EUNCERTAIN, trustbot.ECANCELED,
			trustbot.EINVALID, trustbot.EINTERNAL, trustbot.ENOTFOUND, trustbot.ECONFLICT, trustbot.EUNAVAILABLE, trustbot.ENOTINSTALLED},
		Methods: slices.Concat(slack.Methods, teams.Methods),
		Errors:  slices.Concat(slack.ErrorLabels(), teams.ErrorLabels()),
		Refused: slack.RefusedReasons(),
	}
}

// shutdownTime bounds how long serve waits for in-flight sends once
// asked to stop (SIGTERM, SIGINT): well under a typical 30 s grace period.
const shutdownTime = 20 * time.Second

// serveHTTP serves /healthz (the process is alive), /readyz (the database
// takes writes and every platform connection is up: connected says which
// is not; the answer names this replica) and /metrics (Prometheus).
func serveHTTP(addr string, store interface{ Ready(context.Context) error }, connected, replica func() string, metricsHandler http.Handler, log interface {
	Info(string, ...any)
	Error(string, ...any)
}) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TRUSTBOT_HTTP_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		name := "replica " + replica()
		if replica() == "" {
			name = "replica (not registered yet)"
		}
		switch err := store.Ready(ctx); {
		case err != nil:
			http.Error(w, name+": database not ready: "+err.Error(), http.StatusServiceUnavailable)
		case connected() != "":
			http.Error(w, name+": "+connected(), http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, name+": ready")
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server failed", "err", err)
		}
	}()
	log.Info("http listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// consoleChannel is the team channel the console's commands are typed in.
const consoleChannel = "CCONSOLE"

// consoleCmd runs the coach in the terminal on the same SQLite store, with
// a clock of its own that "advance" moves forward.
func consoleCmd(ctx context.Context, e env) error {
	fs := e.flags("console", "The language follows --lang, else the terminal's locale (LC_ALL, LC_MESSAGES, LANG),\nelse TRUSTBOT_DEFAULT_LANG; \"lang en\" or \"lang ja\" switches it. Type \"advance 3d\" to\nmove the console's clock forward and see what comes due meanwhile.")
	user := fs.String("user", "UCONSOLE", "the user ID you act as")
	team := fs.String("team", "TCONSOLE", "the workspace ID")
	lang := fs.String("lang", "", "your locale as Slack would report it (ja or en); default: the terminal's locale")
	tz := fs.String("tz", "", "your IANA time zone as Slack would report it (default $TZ, else $TRUSTBOT_TZ, else Asia/Tokyo)")
	nowFlag := fs.String("now", "", "start the console's clock at this time, e.g. 2026-12-01T09:00 (in --tz) or RFC 3339; default: now")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, log, err := e.loadConfig(*db)
	if err != nil {
		return err
	}
	if e.getenv("LOG_LEVEL") == "" {
		// The console is a conversation: only warnings interrupt it.
		log = newLogger(e.stderr, slog.LevelWarn, cfg.LogFormat)
	}
	k := trustbot.UserKey{Team: *team, User: *user}
	if !k.Valid() {
		return usageErr("--user and --team take IDs of letters, digits, '-', '_' and '.'")
	}
	locale := *lang
	if locale != "" {
		if _, ok := trustbot.ParseLang(locale); !ok {
			return usageErr("--lang %q: use ja or en", locale)
		}
	} else {
		locale = terminalLang(e.getenv)
	}
	zone := *tz
	if zone == "" {
		zone = e.getenv("TZ")
	}
	if zone == "" {
		zone = cfg.TZ
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return usageErr("--tz %q: not an IANA time zone", zone)
	}
	clock, err := newClock(*nowFlag, loc)
	if err != nil {
		return err
	}
	lib, err := library(cfg.PlaybooksDir)
	if err != nil {
		return err
	}
	// The console delivers DMs like serve: one of them at a time per file.
	unlock, err := lockDB(cfg, "console")
	if err != nil {
		return err
	}
	defer unlock()
	store, err := openLocked(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	// The flags and the locale are this session's "Slack profile": they
	// apply at once, not when a cached one expires.
	if err := store.SaveProfile(ctx, trustbot.Profile{UserKey: k, Locale: locale, TZ: zone, FetchedAt: clock.now()}); err != nil {
		return err
	}
	co := coach.New(lib, store, console.Directory{Locale: locale, TZ: zone}, cfg.DefaultLang, log)
	co.Holidays, co.DefaultTZ = calendar.New(), cfg.TZ
	co.Now = clock.now
	c := &console.Console{
		Handler: co,
		User:    k,
		In:      e.stdin,
		Out:     e.stdout,
		Channel: consoleChannel,
		Zone:    loc,
		// The user's language as it is now: "lang en" applies at once.
		T: func(key string, args ...string) string {
			return lib.T(co.Language(context.WithoutCancel(ctx), k), key, args...)
		},

		ExportDir: console.DefaultExportDir(e.getenv),
		Home:      e.getenv("HOME"),
	}
	if isTerminal(e.stdin) {
		c.Prompt = "trust> "
	}
	c.Color = isTerminal(e.stdout) && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
	// Check-ins arrive in the console as DMs, from the same dispatcher
	// that serves Slack: only on a database of the console's own, never on
	// one that holds Slack users' check-ins.
	shared, err := store.OtherTeams(ctx, *team)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dispatched := make(chan struct{})
	if shared {
		c.Welcome(clock.now())
		fmt.Fprintln(e.stdout, c.T("console.shared_db", "db", cfg.DBName()))
		close(dispatched)
	} else {
		// Only errors interrupt the conversation: a catch-up after
		// "advance" is expected here, not a warning.
		quiet := log.With("component", "schedule")
		if e.getenv("LOG_LEVEL") == "" {
			quiet = newLogger(e.stderr, slog.LevelError, cfg.LogFormat)
		}
		disp := &schedule.Dispatcher{Store: store, Messenger: &console.Messenger{Console: c, Now: clock.now}, Coach: co, Logger: quiet}
		pass := func(ctx context.Context, stale bool) {
			if _, err := disp.Pass(ctx, clock.now(), stale); err != nil && ctx.Err() == nil {
				log.Warn("dispatch pass failed", "err", err)
			}
		}
		c.After = func(ctx context.Context) { pass(ctx, false) }
		c.Advance = func(ctx context.Context, d time.Duration) time.Time {
			// In steps, so that each check-in, follow-up and post comes at
			// its own time, as it would while the bot runs.
			end := clock.now().Add(d)
			for ctx.Err() == nil {
				now := clock.now()
				step := min(now.Truncate(time.Hour).Add(time.Hour).Sub(now), end.Sub(now))
				if step <= 0 {
					break
				}
				clock.advance(step)
				pass(ctx, false)
			}
			return clock.now()
		}
		c.Welcome(clock.now())
		pass(ctx, true)
		go func() {
			defer close(dispatched)
			t := time.NewTicker(time.Minute)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					pass(ctx, false)
				}
			}
		}()
	}
	err = c.Run(ctx)
	cancel()
	<-dispatched
	return err
}

// terminalLang is the language of the terminal's locale: LC_ALL, else
// LC_MESSAGES, else LANG, as POSIX orders them. "C" and "POSIX" speak
// English; a language trustbot does not have leaves the choice to
// TRUSTBOT_DEFAULT_LANG.
func terminalLang(getenv func(string) string) string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		base, _, _ := strings.Cut(v, ".")
		if base == "C" || base == "POSIX" {
			return string(trustbot.English)
		}
		if l, ok := trustbot.ParseLang(base); ok {
			return string(l)
		}
		return ""
	}
	return ""
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// clock is the console's time: the wall clock, shifted by --now and by
// every "advance".
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func newClock(start string, loc *time.Location) (*clock, error) {
	c := &clock{}
	if start == "" {
		return c, nil
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04", start, loc)
	}
	if err != nil {
		return nil, usageErr("--now %q: use 2026-12-01T09:00 (in --tz) or RFC 3339", start)
	}
	c.offset = time.Until(t)
	return c, nil
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// retentionEvery is how often retention runs after the pass at start.
const retentionEvery = 24 * time.Hour

// purger is what retention needs of the store.
type purger interface {
	Purge(ctx context.Context, before time.Time) (int64, error)
}

// retain deletes what is older than keep, at start and then every
// interval. A panic in a pass is recovered, logged and counted, and the
// next pass runs as usual: retention never takes the process down.
func retain(ctx context.Context, store purger, keep, every time.Duration, met trustbot.Metrics, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		retainOnce(ctx, store, keep, met, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func retainOnce(ctx context.Context, store purger, keep time.Duration, met trustbot.Metrics, log *slog.Logger) {
	defer func() {
		if v := recover(); v != nil {
			met.Fault(trustbot.FaultPanic)
			log.Error("panic recovered in the retention purge", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	n, err := store.Purge(ctx, time.Now().Add(-keep))
	if err != nil && ctx.Err() == nil {
		log.Error("retention purge failed", "err", err)
	} else if n > 0 {
		log.Info("retention purge", "rows", n, "older_than", keep)
	}
}
