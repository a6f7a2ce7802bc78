package trustbot_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/trustbot/trustbot"

// allowed lists, for every package of the module, the module packages it
// may import. The domain imports none; the coach only the domain and the
// content; adapters only the domain and never each other; cmd/trustbot
// wires everything. A package missing here fails the test, so a new one
// has to take its place in the picture on purpose.
var allowed = map[string][]string{
	"internal/trustbot":          {},
	"internal/tone":              {},
	"internal/playbook":          {"internal/trustbot", "internal/tone"},
	"internal/coach":             {"internal/trustbot", "internal/playbook", "internal/tone"},
	"internal/store":             {"internal/trustbot", "internal/secret"},
	"internal/store/storetest":   {"internal/trustbot", "internal/secret", "internal/store"},
	"internal/sqlite":            {"internal/trustbot", "internal/store"},
	"internal/sqlite/sqlitetest": {"internal/sqlite"},
	"internal/postgres":          {"internal/trustbot", "internal/store"},
	"internal/secret":            {},
	"internal/metrics":           {"internal/trustbot"},
	"internal/slack":             {"internal/trustbot"},
	"internal/console":           {"internal/trustbot"},
	"internal/schedule":          {"internal/trustbot"},
	"internal/calendar":          {"internal/trustbot"},
	"internal/conntrack":         {},
	"internal/fakeslack":         {"internal/conntrack"},
	"internal/teams":             {"internal/trustbot"},
	"internal/pgtest":            {},
	"internal/testdb":            {"internal/store", "internal/sqlite", "internal/sqlite/sqlitetest", "internal/postgres", "internal/pgtest"},
	"internal/fakebf":            {"internal/conntrack"},
	"playbooks":                  {},
	"tools/teamsapp":             {},
	"tools/acklog":               {},
	"cmd/trustbot": {
		"internal/trustbot", "internal/playbook", "internal/tone", "internal/coach", "internal/store", "internal/sqlite", "internal/postgres",
		"internal/slack", "internal/console", "internal/schedule", "internal/calendar", "internal/secret", "internal/metrics", "internal/teams", "playbooks",
	},
}

// thirdParty lists the outside modules each package may use; the rest of
// the module must not reach for them directly (cmd never touches slack-go
// or the SQLite driver: the adapters hide them).
var thirdParty = map[string][]string{
	"internal/tone":      {"golang.org/x/text"},
	"internal/playbook":  {"go.yaml.in/yaml/v3", "golang.org/x/text"},
	"internal/coach":     {"golang.org/x/text"},
	"internal/sqlite":    {"modernc.org/sqlite"},
	"internal/slack":     {"github.com/slack-go/slack", "github.com/gorilla/websocket", "golang.org/x/time"},
	"internal/schedule":  {"github.com/robfig/cron/v3"},
	"internal/calendar":  {"github.com/rickar/cal/v2"},
	"internal/metrics":   {"github.com/prometheus/client_golang"},
	"internal/fakeslack": {"github.com/gorilla/websocket"},
	"internal/teams":     {"github.com/golang-jwt/jwt/v5", "golang.org/x/time"},
	"internal/fakebf":    {"github.com/golang-jwt/jwt/v5"},
	"internal/pgtest":    {"github.com/jackc/pgx/v5"},
	"internal/postgres":  {"github.com/jackc/pgx/v5"},
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func TestDependencyDirection(t *testing.T) {
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		rules, known := allowed[pkg]
		if !known {
			t.Errorf("package %s has no place in the dependency rules of deps_test.go", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
				if !slices.Contains(rules, rest) {
					t.Errorf("%s imports %s: not allowed by the architecture", pkg, rest)
				}
				continue
			}
			if !strings.Contains(strings.Split(imp, "/")[0], ".") {
				continue // standard library
			}
			if !slices.ContainsFunc(thirdParty[pkg], func(p string) bool { return imp == p || strings.HasPrefix(imp, p+"/") }) {
				t.Errorf("%s imports %s: third-party libraries belong to the adapter that wraps them", pkg, imp)
			}
		}
	}
}

func TestDomainIsStandardLibraryOnly(t *testing.T) {
	for _, dep := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./internal/trustbot") {
		if dep != "" && dep != module+"/internal/trustbot" {
			t.Errorf("the domain depends on %s", dep)
		}
	}
}
