// Command trustbot is the trust-building coach: it serves Slack over Socket
// Mode, runs the same coach in a terminal, migrates its database and checks
// its content. This is the only package that knows every other one; it
// reads the configuration and wires them together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	// Time zone data inside the binary: a bare container has none.
	_ "time/tzdata"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/playbooks"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a subcommand runs with: the process's arguments, environment
// and standard streams, injected so that tests run the real program.
type env struct {
	args   []string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

const usage = `trustbot: a coach for building trust at work, in Slack.

Usage:
  trustbot [serve]                 connect to Slack over Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)
  trustbot console [flags]         try the coach in this terminal, without Slack
  trustbot migrate                 create or upgrade the database, then exit
  trustbot dispatch [--now T] [--dry-run]  send the check-ins due at T (RFC 3339), once; T more than a day ahead needs --force
  trustbot backup FILE             write a consistent copy of the database while it runs
  trustbot export --team T --user U [--out FILE]   a user's data as JSON
  trustbot rekey                   re-seal stored notes with TRUSTBOT_ENCRYPTION_KEY
  trustbot playbooks lint [DIR]    check the content (the embedded one, or DIR)
  trustbot playbooks stats [--json] [DIR]  count the content
  trustbot version                 print the version

Run "trustbot COMMAND --help" for a command's flags. Configuration is read
from the environment: see the README's configuration table.
`

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{args: args, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, e.args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, e)
	case "console":
		err = consoleCmd(ctx, e)
	case "migrate":
		err = migrate(ctx, e)
	case "dispatch":
		err = dispatch(ctx, e)
	case "backup":
		err = backup(ctx, e)
	case "export":
		err = export(ctx, e)
	case "rekey":
		err = rekey(ctx, e)
	case "playbooks":
		err = playbooksCmd(e)
	case "version":
		fmt.Fprintln(stdout, "trustbot", versionString())
	case "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "trustbot: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "trustbot:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "trustbot:", err)
		return 1
	}
}

// errUsage marks errors in how trustbot was called (exit status 2).
var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// flags returns a flag set for a subcommand that prints its help to stdout.
func (e env) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: trustbot %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func (e env) parse(fs *flag.FlagSet) error {
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	return nil
}

// loadConfig reads the environment; db overrides TRUSTBOT_DB when set.
func (e env) loadConfig(db string) (Config, *slog.Logger, error) {
	cfg, err := LoadConfig(e.getenv)
	if err != nil {
		return cfg, nil, usageErr("%v", err)
	}
	if db != "" {
		cfg.DB = db
	}
	return cfg, newLogger(e.stderr, cfg.LogLevel, cfg.LogFormat), nil
}

// library loads the content: the embedded playbooks, or the folder named
// by TRUSTBOT_PLAYBOOKS_DIR, which is refused with its lint report when it
// has problems.
func library(dir string) (*playbook.Library, error) {
	var fsys fs.FS = playbooks.FS
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("TRUSTBOT_PLAYBOOKS_DIR: %w", err)
		}
		fsys = os.DirFS(dir)
	}
	lib, err := playbook.Load(fsys)
	if err != nil {
		if dir != "" {
			return nil, fmt.Errorf("TRUSTBOT_PLAYBOOKS_DIR=%s is refused: %w", dir, err)
		}
		return nil, err
	}
	return lib, nil
}

func migrate(ctx context.Context, e env) error {
	fs := e.flags("migrate", "migrate [--db FILE]")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, _, store, err := e.openConfigured(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: schema version %d\n", cfg.DB, v)
	return nil
}

// dbFlag adds the --db flag every command that opens the database has.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "SQLite file (default: $TRUSTBOT_DB or "+DefaultDB+")")
}

// openConfigured reads the configuration (db overriding TRUSTBOT_DB) and
// opens the database; the caller closes it.
func (e env) openConfigured(ctx context.Context, db string) (Config, *slog.Logger, *sqlite.DB, error) {
	cfg, log, err := e.loadConfig(db)
	if err != nil {
		return cfg, nil, nil, err
	}
	store, err := openStore(ctx, cfg)
	return cfg, log, store, err
}

// openStore opens the database with the configured encryption keys.
func openStore(ctx context.Context, cfg Config) (*sqlite.DB, error) {
	store, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	store.Keys = cfg.Keys
	return store, nil
}

func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
