package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/pgtest"
	"github.com/trustbot/trustbot/internal/postgres"
	"github.com/trustbot/trustbot/internal/store/storetest"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestMigrateData moves a populated SQLite installation, notes sealed
// with a key, into an empty PostgreSQL database through the program: the
// copy is verified, reads back in clear with the same key, never shows
// the URL's password, and a second run into the now full database is
// refused. A source at an older schema version is refused too.
func TestMigrateData(t *testing.T) {
	ctx := context.Background()
	dsn, password := pgWithPassword(t)

	const key = "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f"
	env := map[string]string{"TRUSTBOT_ENCRYPTION_KEY": key}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trustbot.db")
	src := testdb.OpenAt(t, file)
	src.Keys = cfg.Keys
	users := []trustbot.UserKey{{Team: "T1", User: "UALICE"}, {Team: "T1", User: "UBOB"}, {Team: "T2", User: "UCAROL"}}
	for _, k := range users {
		storetest.SeedUser(t, src.DB, k, "メモ "+k.User)
	}
	src.Close()

	code, out, stderr := runCmd(t, env, "", "migrate-data", "--from", file, "--to", dsn)
	if code != 0 {
		t.Fatalf("migrate-data: exit %d\n%s\n%s", code, out, stderr)
	}
	if strings.Contains(out+stderr, password) {
		t.Fatalf("the password is shown:\n%s\n%s", out, stderr)
	}
	if !strings.Contains(out, "the exports of all 3 users are the same") || !strings.Contains(out, "reflections") {
		t.Fatalf("summary:\n%s", out)
	}

	dst, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	dst.Keys = cfg.Keys
	for _, k := range users {
		d, err := dst.Export(ctx, k)
		if err != nil || len(d.Reflections) != 1 || d.Reflections[0].Note != "メモ "+k.User || len(d.Journeys) != 1 || d.Schedule == nil || len(d.Subscribed) != 1 {
			t.Fatalf("%s in PostgreSQL: %+v %v", k.User, d, err)
		}
	}
	var sealed int
	if err := pgSQL(t, dsn).QueryRowContext(ctx, `SELECT count(*) FROM reflections WHERE sealed AND note LIKE 'enc1:%'`).Scan(&sealed); err != nil || sealed != 3 {
		t.Fatalf("sealed notes in PostgreSQL: %d %v", sealed, err)
	}

	code, out, stderr = runCmd(t, env, "", "migrate-data", "--from", file, "--to", dsn)
	if code != 1 || !strings.Contains(stderr, "already holds data") || strings.Contains(out+stderr, password) {
		t.Fatalf("second copy: exit %d\n%s\n%s", code, out, stderr)
	}

	old := filepath.Join(t.TempDir(), "old.db")
	raw := rawSQLite(t, old)
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL); INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	code, _, stderr = runCmd(t, env, "", "migrate-data", "--from", old, "--to", pgtest.URL(t))
	if code != 1 || !strings.Contains(stderr, "trustbot migrate --db "+old) {
		t.Fatalf("an older source: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runCmd(t, env, "", "migrate-data", "--from", file); code != 2 || !strings.Contains(stderr, "--to") {
		t.Fatalf("without --to: exit %d\n%s", code, stderr)
	}
}

func pgSQL(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func rawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
