# trustbot: make help lists the targets.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 30s

.PHONY: help build run test test-faults tone-model test-tone test-pg bench-pg test-replicas test-crash test-browser test-playground lint depcheck fuzz bench golden cards-check teams-package teams-icons clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## Build a static binary into dist/trustbot, version stamped
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o dist/trustbot ./cmd/trustbot

run: ## Build and run the bot: Slack when SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET) are set, else the console
	@case "$${LC_ALL:-$${LC_MESSAGES:-$$LANG}}" in \
		ja*) echo "trustbot をビルドしています。初回だけは SQLite（純 Go のドライバ）のコンパイルに数分かかり、その間は何も表示されません。2 回目からは数秒です。" ;; \
		*) echo "Building trustbot. Only the first build takes a few minutes, silently, while it compiles SQLite (a pure-Go driver); later builds take seconds." ;; \
	esac
	@if [ -n "$$SLACK_BOT_TOKEN" ] && [ -n "$$SLACK_APP_TOKEN$$SLACK_SIGNING_SECRET" ]; then \
		go run ./cmd/trustbot serve; \
	else \
		go run ./cmd/trustbot console; \
	fi

# The race detector also turns on checkptr, which checks every unsafe
# pointer conversion. trustbot has none; the SQLite driver, C translated
# to Go, makes them by the million, and checking them was a fifth of the
# suite's CPU time. It stays on for trustbot's packages.
# The race detector instruments every package but a few that share
# nothing unsynchronized with trustbot's code: inside the standard
# library's regexp, which is safe for concurrent use and reads only the
# strings it is given, and the YAML decoder, which fills fresh values
# before anything shares them, the checks were close to half of the tone
# check's and the content's loading time; inside SQLite's C translated to
# Go (modernc.org/sqlite/lib, with its libc and memory allocator, which
# work in memory of their own, outside Go's heap) they were about half of
# the CPU time of every test that opens a database. The driver's Go side
# (modernc.org/sqlite), through which trustbot's values pass, is still
# instrumented, and every access trustbot's own code makes is still
# checked.
RACEFLAGS := -race -gcflags='modernc.org/...=-d=checkptr=0' -gcflags='modernc.org/sqlite/lib=-race=false' -gcflags='modernc.org/libc/...=-race=false' -gcflags='modernc.org/memory=-race=false' -gcflags='regexp/...=-race=false' -gcflags='go.yaml.in/...=-race=false'

# The browser test runs in make test-browser only: it needs Chromium, and
# takes half a minute. The process faults (a full or read-only disk, a
# kill, a SIGTERM, a second instance, a busy database: the race-built
# binary run as child processes, some 45 s of tests) run in make
# test-faults, which CI runs too. Four tests of a package, and four packages, run at
# once where they allow it (go test's default is one of each per core):
# many of the end-to-end tests mostly wait, on child processes or on
# Teams' pacing of a conversation's messages, and so do whole packages
# (the schedule's, the store's), which would hold both places on two
# cores.
FAULT_TESTS := TestFullDiskWhileDMsGoOut|TestFullDiskDuringServe|TestReadOnlyDatabaseAtStart|TestWritesRefusedDuringServe|TestDispatchSurvivesAKill|TestSIGTERMDuringFanOut|TestOneInstancePerDatabase|TestSlackBusyDatabase

test: ## Run every test with the race detector (each fuzz target's seed corpus included), but the browser's and the process faults'
	go test $(RACEFLAGS) -count=1 -p 4 -parallel 4 -skip '^(TestInstallPagesInBrowser|$(FAULT_TESTS))$$' ./...

test-faults: ## The process faults with the race detector: a full disk and a read-only one, writes refused, a SIGKILL and a SIGTERM during a fan-out, a second instance on one database, a busy database
	go test $(RACEFLAGS) -count=1 -parallel 4 -run '^($(FAULT_TESTS))$$' ./cmd/trustbot

tone-model: ## Train the tone check's learned part again (playbooks/tone/model-*.json) from the corpus's train, dev and retired drafts and the examples
	go run ./cmd/trustbot playbooks tone-train playbooks

# The tone corpus sweeps take minutes under the race detector, which adds
# nothing to them: they are built without -race only and run here (CI runs
# it); make test reads every twentieth corpus draft and example where it reads
# them.
test-tone: ## The tone check on its whole corpus: the committed models are the trainer's output, the lint of the built-in content with every example, the retired part's floors, every example through the coach, no repeat ask answered with a way to ask, the learned part only adds
	go test -count=1 -run '^(TestToneModelUpToDate|TestEmbeddedContent|TestRetiredTargets|TestNoWayToAskAfterANo|TestLearnedPartOnlyAdds|TestCheck)$$' ./internal/playbook ./internal/tone ./internal/coach

# The packages whose tests use internal/pgtest, directly or through a
# helper (internal/testdb opens every test's database).
PG_PACKAGES ?= $$(go list -test -f '{{if .ForTest}}{{.ForTest}} {{join .Deps " "}}{{end}}' ./... | awk '$$0 ~ /github.com\/trustbot\/trustbot\/internal\/pgtest( |$$)/ {print $$1}' | sort -u)

test-pg: ## Run the tests of every package that opens a database on PostgreSQL, a throwaway cluster started for them (needs Debian's postgresql package)
	@pkgs="$(PG_PACKAGES)"; echo "PostgreSQL tests in:" $$pkgs; \
		TRUSTBOT_TEST_STORE=postgres TRUSTBOT_TEST_PG_REQUIRED=1 tools/pgcluster/pgcluster run go test $(RACEFLAGS) -count=1 -skip '^TestInstallPagesInBrowser$$' $$pkgs

test-replicas: ## Three trustbot processes on one PostgreSQL database (a throwaway cluster): the shared send rate and 429 pause, kills and a rolling restart during a fan-out, a replica stopped (SIGSTOP) past its lease and resumed
	TRUSTBOT_REPLICAS_TEST=1 TRUSTBOT_TEST_PG_REQUIRED=1 tools/pgcluster/pgcluster run go test -count=1 -timeout 20m -run '^TestReplicas' -v ./cmd/trustbot

test-crash: ## The long crash loop: SIGKILL during fan-outs, restarts; counts lost and duplicate messages
	TRUSTBOT_CRASH_TEST=1 go test -count=1 -timeout 30m -run '^(TestDispatchSurvivesKills|TestTeamsDispatchSurvivesKills)$$' -v ./cmd/trustbot

SCREENSHOTS ?= $(CURDIR)/dist/screenshots

test-browser: ## The install page and the pages after Slack's, in headless Chromium (Debian's chromium), Japanese and English; screenshots in SCREENSHOTS (dist/screenshots)
	TRUSTBOT_BROWSER_REQUIRED=1 TRUSTBOT_SCREENSHOTS=$(SCREENSHOTS) go test $(RACEFLAGS) -count=1 -run '^TestInstallPagesInBrowser$$' -v ./cmd/trustbot

fuzz: ## Run each fuzz target for FUZZTIME (default 30s; CI runs this); tools/fuzzrun fails on any finding
	tools/fuzzrun/fuzzrun ./internal/coach FuzzParse $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/coach FuzzHandle $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/tone FuzzCheck $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/tone FuzzNormalizeMapped $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/tone FuzzDecodeModel $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzTranslateSlash $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzTranslateInteraction $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzTranslateEvent $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzFrame $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/secret FuzzOpenLegacy $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzUserTextNeverMentions $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzEncodeMessage $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzHTTPRequest $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/slack FuzzVerify $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/teams FuzzParse $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/teams FuzzUserTextShownAsTyped $(FUZZTIME)
	tools/fuzzrun/fuzzrun ./internal/teams FuzzActivity $(FUZZTIME)

test-playground: ## Teams' development mode driven by the Microsoft 365 Agents Playground, a test tool installed here only (needs Node.js and npm)
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq nodejs npm; } || \
		{ echo "make test-playground needs Node.js and npm"; exit 1; }
	cd tools/playground && npm ci --no-audit --no-fund
	TRUSTBOT_PLAYGROUND=1 go test -count=1 -run '^TestPlayground$$' -v ./cmd/trustbot

lint: ## gofmt check, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

depcheck: ## Check the dependency direction between packages
	go test -count=1 -run 'TestDependencyDirection|TestDomainIsStandardLibraryOnly' ./internal/trustbot

bench: ## Run the benchmarks (figures go to docs/benchmarks.md)
	go test -run '^$$' -bench . -benchmem ./...

bench-pg: ## Run the benchmarks that need PostgreSQL on a throwaway cluster: the due query, dispatch throughput and a burst of slash commands with 1 and 3 replicas (figures go to docs/benchmarks.md)
	tools/pgcluster/pgcluster run sh -c '\
		go test ./internal/postgres -run "^$$" -bench DueQuery -benchtime 2s -count 3 && \
		TRUSTBOT_TEST_STORE=postgres go test ./internal/schedule -run "^$$" -bench DispatchThroughput -benchtime 1x -count 3 && \
		go test ./cmd/trustbot -run "^$$" -bench ReplicasDispatch -benchtime 3x -timeout 20m && \
		go test ./cmd/trustbot -run "^$$" -bench ReplicasBurst -benchtime 2x -timeout 20m'

golden: ## Rewrite the golden files (Block Kit, Adaptive Cards) after an intended rendering change
	go test ./internal/slack -run TestRender -update
	go test ./internal/teams -run TestRenderCoach -update

cards-check: ## Validate the golden Adaptive Cards with the adaptivecards npm package (needs Node.js and npm)
	cd tools/cardcheck && npm ci --no-audit --no-fund && npm test && npm run check

teams-package: ## Build dist/trustbot-teams.zip, the Teams app package: TEAMS_APP_ID=<the bot's app ID> [TEAMS_APP_VERSION=X.Y.Z]
	go run ./tools/teamsapp package -dir deploy/teams -out dist/trustbot-teams.zip

teams-icons: ## Draw deploy/teams/color.png and outline.png again from tools/teamsapp
	go run ./tools/teamsapp icons -out deploy/teams

clean: ## Remove build output
	rm -rf dist
