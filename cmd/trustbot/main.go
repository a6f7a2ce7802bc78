// Command trustbot is the trust-building coach: it serves Slack (over Socket
// Mode or HTTP) and Teams, runs the same coach in a terminal, migrates its
// database and checks its content. This is the only package that knows
// every other one; it reads the configuration and wires them together.
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
	"strings"
	"sync"
	"syscall"
	// Time zone data inside the binary: a bare container has none.
	_ "time/tzdata"

	"github.com/trustbot/trustbot/internal/playbook"
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
	setProcs(os.Getenv, hostRoot())
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

// command is one subcommand: its name, its arguments as the synopsis
// shows them, one line saying what it does, and what runs it.
type command struct {
	name, args, summary string
	run                 func(context.Context, env) error
}

// commands lists every subcommand, in the order the help shows them. It
// is set in init: each subcommand's help reads it.
var commands []command

func init() {
	commands = []command{
		{"serve", "[--db FILE]", "answer in Slack (SLACK_BOT_TOKEN with SLACK_APP_TOKEN for Socket Mode, or with SLACK_SIGNING_SECRET and TRUSTBOT_PUBLIC_ADDR for HTTP; SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead of the bot token for many workspaces through \"Add to Slack\") and/or Teams (TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID, TRUSTBOT_PUBLIC_ADDR); the default", serve},
		{"console", "[--user ID] [--team ID] [--lang ja|en] [--tz ZONE] [--now T] [--db FILE]", "try the coach in this terminal, without Slack or Teams", consoleCmd},
		{"migrate", "[--db FILE]", "create or upgrade the database, then exit", migrate},
		{"migrate-data", "--from FILE --to URL", "copy an installation from its SQLite file into an empty PostgreSQL database, and verify the copy", migrateData},
		{"dispatch", "[--now T] [--force] [--dry-run] [--db FILE]", "one pass: send what is due at T (needs SLACK_BOT_TOKEN or Teams' credentials; --dry-run needs neither)", dispatch},
		{"backup", "[--db FILE] FILE", "write a consistent copy of the database while the bot runs", backup},
		{"export", "--team T --user U [--out FILE] [--db FILE]", "one user's data as JSON", export},
		{"rekey", "[--db FILE]", "re-seal stored notes with TRUSTBOT_ENCRYPTION_KEY", rekey},
		{"playbooks lint", "[DIR]", "check the content (the built-in one, or DIR); every problem as FILE:LINE", playbooksCmd},
		{"playbooks stats", "[--json] [DIR]", "count the content", playbooksCmd},
		{"playbooks tone-eval", "[--split train|dev|retired|fresh|holdout|all] [--misses] [--rules-only] [DIR]", "measure the tone check on its labelled corpus", playbooksCmd},
		{"playbooks tone-train", "[--threshold P] [DIR]", "train the tone check's learned part on its corpus", playbooksCmd},
		{"playbooks tone-check", "[--dir DIR] DRAFT", "show every cue the tone check finds in a draft", playbooksCmd},
		{"version", "", "print the version (also --version)", printVersion},
		{"help", "", "this list (also --help, -h)", nil}, // run prints usage: it lists commands
	}
}

// lookup finds a subcommand by name ("playbooks lint" or its first word).
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	for _, c := range commands {
		if first, _, _ := strings.Cut(c.name, " "); first == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is the program's help: every subcommand on one line.
func usage() string {
	var b strings.Builder
	b.WriteString("trustbot: a coach for building trust at work, in Slack and Microsoft Teams.\n\nUsage: trustbot [COMMAND] [flags]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nRun \"trustbot COMMAND --help\" for a command's flags. Configuration is read\n" +
		"from the environment: see the README's configuration table and\ndeploy/trustbot.env.example.\n")
	return b.String()
}

func printVersion(_ context.Context, e env) error {
	fmt.Fprintln(e.stdout, "trustbot", versionString())
	return nil
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{args: args, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			name, e.args = "help", nil
		case a == "-version" || a == "--version":
			name, e.args = "version", nil
		case a != "" && a[0] != '-':
			name, e.args = a, args[1:]
		}
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "trustbot: unknown command %q\n\n%s", name, usage())
		return 2
	}
	if cmd.run == nil {
		fmt.Fprint(stdout, usage())
		return 0
	}
	err := cmd.run(ctx, e)
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

// flags returns a flag set for a subcommand that prints its help to
// stdout: the synopsis and summary from commands, then detail, then the
// flags.
func (e env) flags(name, detail string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	fs.Usage = func() {
		if c, ok := lookup(name); ok && c.name == name {
			fmt.Fprintf(e.stdout, "Usage: trustbot %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
		} else {
			fmt.Fprintf(e.stdout, "Usage: trustbot %s\n", name)
		}
		if detail != "" {
			fmt.Fprintf(e.stdout, "\n%s\n", detail)
		}
		fmt.Fprintln(e.stdout)
		fs.PrintDefaults()
	}
	return fs
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
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
		if err := checkDB("--db", db); err != nil {
			return cfg, nil, usageErr("%v", err)
		}
		cfg.DB = db
	}
	return cfg, newLogger(e.stderr, cfg.LogLevel, cfg.LogFormat), nil
}

// embedded is the content built into the binary, loaded once: it does not
// change, and a library is read-only.
var embedded = sync.OnceValues(func() (*playbook.Library, error) { return playbook.Load(playbooks.FS) })

// library loads the content: the embedded playbooks, or the folder named
// by TRUSTBOT_PLAYBOOKS_DIR, which is refused with its lint report when it
// has problems.
func library(dir string) (*playbook.Library, error) {
	if dir == "" {
		return embedded()
	}
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
	fs := e.flags("migrate", "Refused while trustbot runs on the database: its schema must not change\nunder a running bot.")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, log, err := e.loadConfig(*db)
	if err != nil {
		return err
	}
	unlock, err := lockDB(cfg, "migrate")
	if err != nil {
		return err
	}
	defer unlock()
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: schema version %d\n", cfg.DBName(), v)
	return nil
}

// dbFlag adds the --db flag every command that opens the database has.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "SQLite file, or postgres:// URL (default: $TRUSTBOT_DB, $TRUSTBOT_DB_FILE or "+DefaultDB+")")
}

// openConfigured reads the configuration (db overriding TRUSTBOT_DB) and
// opens the database; the caller closes it.
func (e env) openConfigured(ctx context.Context, db string) (Config, *slog.Logger, database, error) {
	cfg, log, err := e.loadConfig(db)
	if err != nil {
		return cfg, nil, nil, err
	}
	store, err := openStore(ctx, cfg, log)
	return cfg, log, store, err
}

func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
