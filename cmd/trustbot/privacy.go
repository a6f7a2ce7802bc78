package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// backup writes a consistent copy of the database while it is in use.
func backup(ctx context.Context, e env) error {
	fs := e.flags("backup", "backup [--db FILE] BACKUP_FILE\n\nWrites a consistent copy of the database (SQLite VACUUM INTO), safe while the bot runs.\nBACKUP_FILE must not exist. Restore by stopping the bot and putting the copy in place.")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("backup needs one file name")
	}
	cfg, _, store, err := e.openConfigured(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	st, err := os.Stat(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s (%d bytes)\n", cfg.DB, fs.Arg(0), st.Size())
	return nil
}

// export prints everything stored about one user as JSON.
func export(ctx context.Context, e env) error {
	fs := e.flags("export", "export --team T --user U [--out FILE] [--db FILE]")
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
	b, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o600)
}

// rekey re-seals every stored note with the current key.
func rekey(ctx context.Context, e env) error {
	fs := e.flags("rekey", "rekey [--db FILE]\n\nSeals every stored note, label and goal with TRUSTBOT_ENCRYPTION_KEY, opening older values\nwith TRUSTBOT_ENCRYPTION_OLD_KEYS. Without a key, stores them as plain text again.")
	db := dbFlag(fs)
	if err := e.parse(fs); err != nil {
		return err
	}
	cfg, _, store, err := e.openConfigured(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Rekey(ctx)
	if err != nil {
		return err
	}
	how := "stored as plain text (no TRUSTBOT_ENCRYPTION_KEY)"
	if cfg.Keys.Sealing() {
		how = "sealed with the current key"
	}
	fmt.Fprintf(e.stdout, "%d value(s) %s\n", n, how)
	return nil
}
