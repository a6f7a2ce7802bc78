package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// backup writes a consistent copy of the database while it is in use, to
// a file or, for "-", to standard output (a container without a shell
// streams it out through kubectl exec).
func backup(ctx context.Context, e env) error {
	fs := e.flags("backup", "Uses SQLite's VACUUM INTO, safe while the bot runs. FILE must not exist; with -, the copy\ngoes to standard output (made first next to the database, then removed).\nRestore by stopping the bot and putting the copy in place (docs/operations.md).")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("backup needs one file name, or - for standard output")
	}
	cfg, log, err := e.loadConfig(*db)
	if err != nil {
		return err
	}
	if err := sqliteOnly(cfg, "trustbot backup", "back it up with pg_dump (docs/operations.md)"); err != nil {
		return err
	}
	opened, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer opened.Close()
	store := opened.(*sqlite.DB)
	if fs.Arg(0) == "-" {
		return backupTo(ctx, store, cfg.DB, e.stdout)
	}
	if err := store.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	st, err := os.Stat(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s (%d bytes)\n", cfg.DBName(), fs.Arg(0), st.Size())
	return nil
}

// backupTo copies the database to w through a private folder next to it
// (the volume that holds the database has room for a copy; /tmp may not).
func backupTo(ctx context.Context, store *sqlite.DB, db string, w io.Writer) error {
	dir, err := os.MkdirTemp(filepath.Dir(db), ".backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "copy.db")
	if err := store.Backup(ctx, path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// export prints everything stored about one user as JSON.
func export(ctx context.Context, e env) error {
	fs := e.flags("export", "")
	team := fs.String("team", "", "the workspace ID")
	user := fs.String("user", "", "the user ID")
	out := fs.String("out", "", "write to this file (default: standard output)")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	k := trustbot.UserKey{Team: *team, User: *user}
	if !k.Valid() {
		return usageErr("--team and --user are required IDs")
	}
	_, _, store, err := e.openConfigured(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	data, err := store.Export(ctx, k)
	if err != nil {
		return err
	}
	b, err := coach.MarshalExport(coach.ExportOf(data))
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o600)
}

// rekey re-seals every stored note with the current key.
func rekey(ctx context.Context, e env) error {
	fs := e.flags("rekey", "Seals every stored note, label and goal with TRUSTBOT_ENCRYPTION_KEY, opening older values\nwith TRUSTBOT_ENCRYPTION_OLD_KEYS. Without a key, stores them as plain text again.")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, _, store, err := e.openConfigured(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	n, skipped, err := store.Rekey(ctx)
	if err != nil {
		return err
	}
	how := "stored as plain text (no TRUSTBOT_ENCRYPTION_KEY)"
	if cfg.Keys.Sealing() {
		how = "sealed with the current key"
	}
	fmt.Fprintf(e.stdout, "%d value(s) %s\n", n, how)
	if skipped > 0 {
		fmt.Fprintf(e.stdout, "%d row(s) could not be opened with the configured keys and were left as they are (their IDs are in the log); add the missing key to TRUSTBOT_ENCRYPTION_OLD_KEYS and run rekey again\n", skipped)
	}
	return nil
}
