package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/fakeslack"
)

func TestDatabaseKind(t *testing.T) {
	for _, tc := range []struct {
		db   string
		want DBKind
	}{
		{"", SQLite}, // the default file
		{"trustbot.db", SQLite},
		{"/var/lib/trustbot/trustbot.db", SQLite},
		{"file:trustbot.db", SQLite},
		{"postgres:trustbot.db", SQLite},
		{"data/postgres://x", SQLite},
		{"mysql://root@db/trustbot", SQLite},
		{"postgres://trustbot@db.internal:5432/trustbot", Postgres},
		{"postgresql://trustbot@db.internal/trustbot?sslmode=verify-full", Postgres},
		{"postgresql://db.internal/trustbot", Postgres},
	} {
		cfg, err := LoadConfig(func(k string) string {
			if k == "TRUSTBOT_DB" {
				return tc.db
			}
			return ""
		})
		if err != nil {
			t.Errorf("TRUSTBOT_DB=%q: %v", tc.db, err)
			continue
		}
		kind, conn := cfg.Database()
		want := tc.db
		if want == "" {
			want = DefaultDB
		}
		if kind != tc.want || conn != want {
			t.Errorf("TRUSTBOT_DB=%q: Database() = %s, %q; want %s, %q", tc.db, kind, conn, tc.want, want)
		}
		if kind == SQLite && cfg.DBName() != want {
			t.Errorf("TRUSTBOT_DB=%q: a SQLite path is logged as %q, not as it is", tc.db, cfg.DBName())
		}
	}
}

func TestDBNameHidesThePassword(t *testing.T) {
	for _, tc := range []struct {
		db, want string
		secrets  []string
	}{
		{"postgres://trustbot:Hunter2-x@db.internal:5432/trustbot?sslmode=require",
			"postgres://trustbot:xxxxx@db.internal:5432/trustbot?sslmode=require", []string{"Hunter2-x"}},
		{"postgresql://trustbot:p%40ss%2Fw%3Ard@db.internal/trustbot",
			"postgresql://trustbot:xxxxx@db.internal/trustbot", []string{"p%40ss", "p@ss", "w%3Ard", "w:rd"}},
		{"postgres://trustbot@db.internal/trustbot?password=Query-Secret&sslmode=verify-full&sslpassword=Key-Secret",
			"postgres://trustbot@db.internal/trustbot?password=xxxxx&sslmode=verify-full&sslpassword=xxxxx", []string{"Query-Secret", "Key-Secret"}},
		{"postgres://trustbot@db.internal:6432/trustbot", "postgres://trustbot@db.internal:6432/trustbot", nil},
		{"postgres:///trustbot?host=/run/postgresql", "postgres:///trustbot?host=/run/postgresql", nil},
		// Unescaped "/", "@" or "#" in a password: the password cannot be
		// told from the rest, so nothing but the scheme is shown.
		{"postgres://trustbot:12/34@db.internal/trustbot", "postgres://xxxxx", []string{"12/34", "34@"}},
		{"postgres://trustbot:ab/c@d@db.internal/trustbot", "postgres://xxxxx", []string{"ab/c", "c@d"}},
		{"postgres://trustbot:se#cret@db.internal/trustbot", "postgres://xxxxx", []string{"se#cret", "cret"}},
		{"postgres://trustbot:pa ss@db.internal:bad/trustbot", "postgres://xxxxx", []string{"pa ss"}},
	} {
		got := redactDB(tc.db)
		if got != tc.want {
			t.Errorf("redactDB(%q) = %q, want %q", tc.db, got, tc.want)
		}
		for _, s := range tc.secrets {
			if strings.Contains(got, s) {
				t.Errorf("redactDB(%q) = %q: shows %q", tc.db, got, s)
			}
		}
	}
}

func TestDBURLMustBeReadable(t *testing.T) {
	for _, db := range []string{
		"postgres://trustbot:ab/c@d@db.internal/trustbot",
		"postgres:///trustbot",
		"postgresql://trustbot:pw@db.internal:port/trustbot",
	} {
		_, err := LoadConfig(func(k string) string {
			if k == "TRUSTBOT_DB" {
				return db
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "TRUSTBOT_DB=") || !strings.Contains(err.Error(), "percent-encoded") {
			t.Errorf("TRUSTBOT_DB=%q: error %v, want one saying how to write the URL", db, err)
			continue
		}
		if strings.Contains(err.Error(), "ab/c") || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("TRUSTBOT_DB=%q: the error shows the password: %v", db, err)
		}
	}
}

func TestDBFromFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "db-url")
	const u = "postgres://trustbot:From-File-Pw@db.internal/trustbot"
	if err := os.WriteFile(file, []byte(u+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRUSTBOT_DB_FILE": file}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if kind, conn := cfg.Database(); kind != Postgres || conn != u {
		t.Errorf("from TRUSTBOT_DB_FILE: %s %q, want postgres %q", kind, conn, u)
	}
	// A SQLite path from the file follows the same rule as from the variable.
	if err := os.WriteFile(file, []byte("/var/lib/trustbot/trustbot.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := LoadConfig(func(k string) string { return env[k] }); err != nil || cfg.DB != "/var/lib/trustbot/trustbot.db" {
		t.Errorf("a path in TRUSTBOT_DB_FILE: %q, %v", cfg.DB, err)
	}

	env["TRUSTBOT_DB"] = "trustbot.db"
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "TRUSTBOT_DB and TRUSTBOT_DB_FILE are both set") {
		t.Errorf("both set: %v", err)
	}
	delete(env, "TRUSTBOT_DB")
	env["TRUSTBOT_DB_FILE"] = filepath.Join(dir, "missing")
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "TRUSTBOT_DB_FILE") {
		t.Errorf("unreadable file: %v", err)
	}
}

// TestDBPasswordNeverShown runs the program's commands on a PostgreSQL URL
// whose password is distinctive, given by variable, by file and by flag,
// against a port nothing listens on, and finds the password nowhere in
// what they print, whatever the outcome.
func TestDBPasswordNeverShown(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	const password = "Zq9-Unshown-Pw_7"
	secrets := []string{password, url.QueryEscape(password + "/@")}
	byVar := fmt.Sprintf("postgres://trustbot:%s@127.0.0.1:%d/trustbot?sslmode=disable", password, port)
	byQuery := fmt.Sprintf("postgresql://trustbot@127.0.0.1:%d/trustbot?password=%s&sslmode=disable", port, password)
	escaped := fmt.Sprintf("postgres://trustbot:%s@127.0.0.1:%d/trustbot", url.QueryEscape(password+"/@"), port)
	unreadable := fmt.Sprintf("postgres://trustbot:%s/@127.0.0.1:%d/trustbot", password, port)
	file := filepath.Join(t.TempDir(), "db-url")
	if err := os.WriteFile(file, []byte(byVar+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "LOG_LEVEL": "debug",
	}
	type source struct {
		name string
		env  map[string]string
		flag []string
	}
	sources := []source{
		{"variable", map[string]string{"TRUSTBOT_DB": byVar}, nil},
		{"query", map[string]string{"TRUSTBOT_DB": byQuery}, nil},
		{"escaped", map[string]string{"TRUSTBOT_DB": escaped, "LOG_FORMAT": "json"}, nil},
		{"unreadable", map[string]string{"TRUSTBOT_DB": unreadable}, nil},
		{"file", map[string]string{"TRUSTBOT_DB_FILE": file}, nil},
		{"flag", map[string]string{}, []string{"--db", byVar}},
		{"unreadable flag", map[string]string{}, []string{"--db", unreadable}},
	}
	commands := [][]string{
		{"serve"}, {"dispatch"}, {"dispatch", "--dry-run"}, {"migrate"},
		{"backup", filepath.Join(t.TempDir(), "copy.db")}, {"export", "--team", "T1", "--user", "U1"}, {"rekey"},
	}
	for _, src := range sources {
		// Each source must name PostgreSQL (or be refused): were it read as
		// a SQLite path instead, serve would run on and the test hang.
		if src.flag == nil {
			cfg, err := LoadConfig(func(k string) string { return src.env[k] })
			if kind, _ := cfg.Database(); err == nil && kind != Postgres {
				t.Fatalf("%s: %s names no PostgreSQL database", src.name, cfg.DBName())
			}
		}
		for _, args := range commands {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range src.env {
				env[k] = v
			}
			// Flags before the arguments, as the flag package reads them.
			cmd := append(append([]string{args[0]}, src.flag...), args[1:]...)
			code, out, stderr := runCmd(t, env, "", cmd...)
			if code == 0 {
				t.Errorf("%s, %v: exit 0 on a database that cannot be reached", src.name, cmd)
			}
			for _, s := range secrets {
				if strings.Contains(out+stderr, s) {
					t.Errorf("%s, %v: the output shows the password:\n%s%s", src.name, cmd, out, stderr)
				}
			}
			if !strings.Contains(stderr, "postgres") {
				t.Errorf("%s, %v: the error does not name the database:\n%s", src.name, cmd, stderr)
			}
		}
	}
}
