package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/trustbot/trustbot/internal/calendar"
	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/console"
	"github.com/trustbot/trustbot/internal/metrics"
	"github.com/trustbot/trustbot/internal/schedule"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// serve connects to Slack and answers until ctx ends. Things are opened in
// order and closed in reverse.
func serve(ctx context.Context, e env) error {
	fs := e.flags("serve", "serve [--db FILE]")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, log, err := e.loadConfig(*db)
	if err != nil {
		return err
	}
	if err := cfg.ValidateSlack(); err != nil {
		return usageErr("%v", err)
	}
	log.Info("starting", "version", versionString(), "config", cfg)

	lib, err := library(cfg.PlaybooksDir)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()

	met := metrics.New()
	sl := slack.New(slack.Config{
		Metrics:  met,
		BotToken: cfg.BotToken,
		AppToken: cfg.AppToken,
		APIURL:   cfg.APIURL,
		SendRate: cfg.SendRate,
		BusyText: lib.T(cfg.DefaultLang, "slack.busy"),
		Logger:   log,
	})
	if err := sl.Open(ctx); err != nil {
		return err
	}
	co := coach.New(lib, store, sl, cfg.DefaultLang, log.With("component", "coach"))
	co.Holidays, co.Metrics = calendar.New(), met
	co.Channels, co.Admins = sl, cfg.Admins
	disp := &schedule.Dispatcher{Store: store, Messenger: sl, Coach: co, Logger: log.With("component", "schedule"), Metrics: met}
	co.Kick = disp.Kick
	sl.SetHandler(co)

	if cfg.HTTPAddr != "" {
		stop, err := serveHTTP(cfg.HTTPAddr, store, sl, met.Handler(), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		disp.Run(ctx)
	}()
	if cfg.Retention > 0 {
		go retain(ctx, store, cfg.Retention, log)
	}
	err = sl.Run(ctx)
	log.Info("stopping: finishing in-flight work")
	cancel()
	select {
	case <-dispatched:
	case <-time.After(shutdownTime):
		log.Warn("dispatcher did not stop in time; deliveries left sending are reconciled at the next start")
	}
	log.Info("stopped")
	return err
}

// shutdownTime bounds how long serve waits for in-flight sends once
// asked to stop (SIGTERM, SIGINT): well under a typical 30 s grace period.
const shutdownTime = 20 * time.Second

// serveHTTP serves /healthz (the process is alive), /readyz (the database
// answers and the Slack socket is connected) and /metrics (Prometheus).
func serveHTTP(addr string, store *sqlite.DB, sl *slack.Client, metricsHandler http.Handler, log interface {
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
		switch {
		case store.Ping(ctx) != nil:
			http.Error(w, "database not ready", http.StatusServiceUnavailable)
		case !sl.Connected():
			http.Error(w, "slack not connected", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
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

// consoleCmd runs the coach in the terminal on the same SQLite store.
func consoleCmd(ctx context.Context, e env) error {
	fs := e.flags("console", "console [--user ID] [--team ID] [--lang ja|en] [--db FILE]")
	user := fs.String("user", "UCONSOLE", "the user ID you act as")
	team := fs.String("team", "TCONSOLE", "the workspace ID")
	lang := fs.String("lang", "", "your locale as Slack would report it (ja or en); default $TRUSTBOT_DEFAULT_LANG")
	tz := fs.String("tz", "", "your IANA time zone as Slack would report it (default $TZ, else Asia/Tokyo)")
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
	if *lang != "" {
		if _, ok := trustbot.ParseLang(*lang); !ok {
			return usageErr("--lang %q: use ja or en", *lang)
		}
	}
	zone := *tz
	if zone == "" {
		zone = e.getenv("TZ")
	}
	if zone == "" {
		zone = "Asia/Tokyo"
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return usageErr("--tz %q: not an IANA time zone", zone)
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
	co := coach.New(lib, store, console.Directory{Locale: *lang, TZ: zone}, cfg.DefaultLang, log)
	co.Holidays = calendar.New()
	uiLang := co.Language(ctx, k)
	c := &console.Console{
		Handler: co,
		User:    k,
		In:      e.stdin,
		Out:     e.stdout,
		T:       func(key string, args ...string) string { return lib.T(uiLang, key, args...) },
	}
	if f, ok := e.stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			c.Prompt = "trust> "
		}
	}
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
		fmt.Fprintln(e.stdout, lib.T(uiLang, "console.shared_db", "db", cfg.DB))
		close(dispatched)
	} else {
		disp := &schedule.Dispatcher{Store: store, Messenger: &console.Messenger{Console: c}, Coach: co, Logger: log.With("component", "schedule")}
		c.After = func(ctx context.Context) {
			if _, err := disp.Pass(ctx, time.Now(), false); err != nil {
				log.Warn("dispatch pass failed", "err", err)
			}
		}
		go func() {
			defer close(dispatched)
			disp.Run(ctx)
		}()
	}
	err = c.Run(ctx)
	cancel()
	<-dispatched
	return err
}

// retain deletes what is older than the retention period, at start and
// then daily.
func retain(ctx context.Context, store *sqlite.DB, keep time.Duration, log *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		n, err := store.Purge(ctx, time.Now().Add(-keep))
		if err != nil && ctx.Err() == nil {
			log.Error("retention purge failed", "err", err)
		} else if n > 0 {
			log.Info("retention purge", "rows", n, "older_than", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
