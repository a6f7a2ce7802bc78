package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"

	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/sqlite"
)

// migrateData moves an installation from its SQLite file into an empty
// PostgreSQL database: the target is migrated to this trustbot's schema,
// every table is copied in one transaction, and the copy is checked by
// comparing every table's row count and every user's export on both.
func migrateData(ctx context.Context, e env) error {
	fs := e.flags("migrate-data", "Stop every trustbot that runs on the SQLite file first (the command refuses\n"+
		"while one runs). The source must be at this trustbot's schema version (run\n"+
		"\"trustbot migrate --db FILE\" with this release first); the target must hold no\n"+
		"data. TRUSTBOT_ENCRYPTION_KEY must be the key the notes were sealed with: the\n"+
		"exports are compared in clear text.")
	from := fs.String("from", "", "the SQLite file of the installation")
	to := fs.String("to", "", "the postgres:// URL of the empty target database")
	if err := e.parse(fs); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageErr("migrate-data needs --from FILE and --to URL")
	}
	if dbKind(*from) == Postgres {
		return usageErr("--from must be a SQLite file, not a URL")
	}
	if dbKind(*to) != Postgres {
		return usageErr("--to must be a postgres:// or postgresql:// URL, not %s", *to)
	}
	if err := checkDB("--to", *to); err != nil {
		return usageErr("%v", err)
	}
	if st, err := os.Stat(*from); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return fmt.Errorf("--from %s: no SQLite database there", *from)
	}
	cfg, log, err := e.loadConfig("")
	if err != nil {
		return err
	}
	target := redactDB(*to)
	unlock, err := sqlite.Lock(*from, "migrate-data")
	if err != nil {
		return err
	}
	defer unlock()
	if err := sameVersion(ctx, *from); err != nil {
		return err
	}
	src, err := sqlite.Open(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	src.Keys, src.Logger = cfg.Keys, log.With("component", "sqlite")
	dst, err := postgres.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	defer dst.Close()
	dst.Keys, dst.Logger = cfg.Keys, log.With("component", "postgres")

	v, err := dst.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "copying %s into %s (schema version %d)\n", *from, target, v)
	copied, err := src.CopyTo(ctx, dst.Shared())
	if err != nil {
		return fmt.Errorf("nothing was copied into %s: %w", target, err)
	}
	var total int64
	for _, c := range copied {
		fmt.Fprintf(e.stdout, "  %-22s %8d rows\n", c.Table, c.Rows)
		total += c.Rows
	}
	before, err := src.Counts(ctx)
	if err != nil {
		return err
	}
	after, err := dst.Counts(ctx)
	if err != nil {
		return err
	}
	if !slices.Equal(before, after) {
		return fmt.Errorf("the copy in %s does not match the source: rows per table %v there, %v in %s", target, after, before, *from)
	}
	users, differ, err := src.SameExports(ctx, dst.Shared())
	if err != nil {
		return err
	}
	if differ != nil {
		return fmt.Errorf("the copy in %s does not match the source: the export of user %s in team %s differs", target, differ.User, differ.Team)
	}
	fmt.Fprintf(e.stdout, "copied %d rows in %d tables; verified: the row counts and the exports of all %d users are the same in both\n", total, len(copied), users)
	fmt.Fprintf(e.stdout, "next: set TRUSTBOT_DB to the PostgreSQL URL and start trustbot; keep %s as a backup\n", *from)
	return nil
}

// sameVersion refuses a SQLite file whose schema is not this trustbot's:
// it is read without being migrated.
func sameVersion(ctx context.Context, path string) error {
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer raw.Close()
	var have sql.NullInt64
	if err := raw.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("--from %s: not a trustbot database: %w", path, err)
	}
	ms, err := sqlite.Migrations()
	if err != nil {
		return err
	}
	know := ms[len(ms)-1].Version
	switch {
	case int(have.Int64) < know:
		return fmt.Errorf("--from %s: its schema is at version %d, this trustbot's at %d: run \"trustbot migrate --db %s\" with this release first", path, have.Int64, know, path)
	case int(have.Int64) > know:
		return fmt.Errorf("--from %s: its schema is at version %d, newer than %d, this trustbot's: use the release that migrated it", path, have.Int64, know)
	}
	return nil
}
