package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/slack"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// DefaultDB is the SQLite file used when TRUSTBOT_DB is not set, relative
// to the working directory.
const DefaultDB = "trustbot.db"

// Config is everything trustbot reads from its environment.
type Config struct {
	BotToken string
	AppToken string
	// SigningSecret, without an app token, takes Slack's requests over
	// HTTP on the public address instead of Socket Mode.
	SigningSecret string
	// ClientID and ClientSecret, with the signing secret and no bot
	// token, install trustbot in many workspaces through "Add to Slack"
	// (OAuth v2): each workspace's token comes from its installation.
	ClientID     string
	ClientSecret string
	AuthorizeURL string // where the install button sends the browser
	APIURL       string
	DB           string
	HTTPAddr     string
	PlaybooksDir string
	DefaultLang  trustbot.Lang
	TZ           string // the installation's IANA zone, for users whose platform gives none
	LogLevel     slog.Level
	LogFormat    string
	SendRate     float64  // scheduled messages per second across the workspace
	Admins       []string // user IDs who alone may change a channel's tip of the week; empty: any member
	Keys         *secret.Keyring
	Retention    time.Duration // reflections and finished journeys older than this are deleted; 0: kept

	// PublicAddr is where platforms reach trustbot (Teams posts to
	// /api/messages there); HTTPAddr stays internal (metrics, probes).
	PublicAddr string
	// PublicURL is how people's browsers reach PublicAddr (links to
	// files); by default the host Teams posts to, over https.
	PublicURL string

	TeamsAppID       string
	TeamsAppPassword string
	// TeamsTenantID is the tenant of a single-tenant bot, or
	// "botframework.com" for a multi-tenant one.
	TeamsTenantID  string
	TeamsOpenIDURL string // the Bot Framework's OpenID metadata
	TeamsTokenURL  string // where the bot's own token comes from
	// TeamsDev is the local development mode: no inbound token, plain
	// http service URLs, only on loopback and without credentials.
	TeamsDev bool
}

// Defaults of the Teams endpoints.
const (
	defaultOpenIDURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	multiTenant      = "botframework.com"
)

var (
	errNoPlatform    = errors.New("no platform is configured: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET and TRUSTBOT_PUBLIC_ADDR) for Slack, or TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID and TRUSTBOT_PUBLIC_ADDR for Teams (both may be set); to try trustbot without either, run: trustbot console")
	errNoTokens      = errors.New("SLACK_BOT_TOKEN is needed with either SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET and TRUSTBOT_PUBLIC_ADDR (HTTP mode) to serve Slack; to try trustbot without Slack, run: trustbot console")
	errTwoModes      = errors.New("SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are both set: keep SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET for HTTP mode, not both")
	errHTTPAddr      = errors.New("SLACK_SIGNING_SECRET (Slack's HTTP mode) needs TRUSTBOT_PUBLIC_ADDR, the address Slack's requests reach through your proxy")
	errNoBotToken    = errors.New("SLACK_BOT_TOKEN (or Teams' TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID) must be set to send messages; --dry-run shows what would be sent without them")
	errBotToken      = errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…)")
	errOAuthBotToken = errors.New("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET install trustbot through \"Add to Slack\", where each workspace's token comes from its installation: unset SLACK_BOT_TOKEN, or unset both to serve one workspace with its token")
	errOAuthClient   = errors.New("installing through \"Add to Slack\" needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (the app's Basic Information page)")
	errOAuthHTTP     = errors.New("installing through \"Add to Slack\" takes Slack's requests over HTTP: set SLACK_SIGNING_SECRET and unset SLACK_APP_TOKEN")
	errOAuthKey      = errors.New("installing through \"Add to Slack\" stores each workspace's token: set TRUSTBOT_ENCRYPTION_KEY so that they are sealed at rest")
	errAppToken      = errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope")
)

// secrets can also be read from a file named by <NAME>_FILE (the
// container and systemd-credentials convention). TRUSTBOT_DB is one: a
// PostgreSQL URL may hold a password.
var secrets = []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "TEAMS_APP_PASSWORD", "TRUSTBOT_ENCRYPTION_KEY", "TRUSTBOT_ENCRYPTION_OLD_KEYS", "TRUSTBOT_DB"}

// withSecretFiles returns a getenv that answers a secret from its _FILE
// when the variable itself is unset. A file that cannot be read is an
// error that names the variable, never the content.
func withSecretFiles(getenv func(string) string) (func(string) string, error) {
	values := map[string]string{}
	var errs []error
	for _, name := range secrets {
		file := getenv(name + "_FILE")
		if file == "" {
			continue
		}
		if getenv(name) != "" {
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set: use one", name, name))
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: cannot read %s", name, file))
			continue
		}
		values[name] = strings.TrimSpace(string(b))
	}
	return func(k string) string {
		if v, ok := values[k]; ok {
			return v
		}
		return getenv(k)
	}, errors.Join(errs...)
}

// LoadConfig reads the configuration from getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
	getenv, fileErr := withSecretFiles(getenv)
	c := Config{
		BotToken:      strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken:      strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		SigningSecret: strings.TrimSpace(getenv("SLACK_SIGNING_SECRET")),
		ClientID:      strings.TrimSpace(getenv("SLACK_CLIENT_ID")),
		ClientSecret:  strings.TrimSpace(getenv("SLACK_CLIENT_SECRET")),
		AuthorizeURL:  strings.TrimSpace(getenv("SLACK_AUTHORIZE_URL")),
		APIURL:        getenv("SLACK_API_URL"),
		DB:            getenv("TRUSTBOT_DB"),
		HTTPAddr:      getenv("TRUSTBOT_HTTP_ADDR"),
		PlaybooksDir:  getenv("TRUSTBOT_PLAYBOOKS_DIR"),
		LogFormat:     strings.ToLower(getenv("LOG_FORMAT")),

		PublicAddr:       strings.TrimSpace(getenv("TRUSTBOT_PUBLIC_ADDR")),
		PublicURL:        strings.TrimSpace(getenv("TRUSTBOT_PUBLIC_URL")),
		TeamsAppID:       strings.TrimSpace(getenv("TEAMS_APP_ID")),
		TeamsAppPassword: strings.TrimSpace(getenv("TEAMS_APP_PASSWORD")),
		TeamsTenantID:    strings.TrimSpace(getenv("TEAMS_TENANT_ID")),
		TeamsOpenIDURL:   strings.TrimSpace(getenv("TEAMS_OPENID_METADATA_URL")),
		TeamsTokenURL:    strings.TrimSpace(getenv("TEAMS_TOKEN_URL")),
	}
	if c.TeamsOpenIDURL == "" {
		c.TeamsOpenIDURL = defaultOpenIDURL
	}
	if c.TeamsTokenURL == "" && c.TeamsTenantID != "" {
		c.TeamsTokenURL = "https://login.microsoftonline.com/" + url.PathEscape(c.TeamsTenantID) + "/oauth2/v2.0/token"
	}
	if c.APIURL == "" {
		c.APIURL = "https://slack.com/api/"
	}
	if c.AuthorizeURL == "" {
		c.AuthorizeURL = slack.DefaultAuthorizeURL
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if c.DB == "" {
		c.DB = DefaultDB
	}
	errs := []error{fileErr, checkDB("TRUSTBOT_DB", c.DB)}
	c.SendRate = slack.DefaultSendRate
	c.DefaultLang = trustbot.Japanese
	if v := getenv("TRUSTBOT_DEFAULT_LANG"); v != "" {
		l, ok := trustbot.ParseLang(v)
		if !ok {
			errs = append(errs, fmt.Errorf("TRUSTBOT_DEFAULT_LANG=%q: use ja or en", v))
		}
		c.DefaultLang = l
	}
	c.TZ = coach.DefaultZone
	if v := strings.TrimSpace(getenv("TRUSTBOT_TZ")); v != "" {
		// Only a name with a "/" (Asia/Tokyo) or UTC: LoadLocation also
		// takes "Local" and file paths, which mean nothing to users.
		if _, err := time.LoadLocation(v); err != nil || v == "Local" || (!strings.Contains(v, "/") && v != "UTC") {
			errs = append(errs, fmt.Errorf("TRUSTBOT_TZ=%q: not an IANA time zone; use a name such as Asia/Tokyo, Europe/London or UTC", v))
		}
		c.TZ = v
	}
	if v := getenv("TRUSTBOT_SEND_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 1000 {
			errs = append(errs, fmt.Errorf("TRUSTBOT_SEND_RATE=%q: messages per second, above 0 and at most 1000", v))
		}
		c.SendRate = r
	}
	var current []byte
	if v := getenv("TRUSTBOT_ENCRYPTION_KEY"); v != "" {
		k, err := secret.ParseKey(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTBOT_ENCRYPTION_KEY: %w", err))
		}
		current = k
	}
	var old [][]byte
	for i, v := range strings.FieldsFunc(getenv("TRUSTBOT_ENCRYPTION_OLD_KEYS"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		k, err := secret.ParseKey(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTBOT_ENCRYPTION_OLD_KEYS: key %d: %w", i+1, err))
			continue
		}
		old = append(old, k)
	}
	if keys, err := secret.NewKeyring(current, old...); err != nil {
		errs = append(errs, err)
	} else {
		c.Keys = keys
	}
	if v := getenv("TRUSTBOT_RETENTION"); v != "" {
		d, err := parseDays(v)
		if err != nil || d < 24*time.Hour {
			errs = append(errs, fmt.Errorf("TRUSTBOT_RETENTION=%q: a number of days such as 730d (at least 1d)", v))
		}
		c.Retention = d
	}
	switch v := getenv("TEAMS_DEV"); v {
	case "", "0", "false":
	case "1", "true":
		c.TeamsDev = true
	default:
		errs = append(errs, fmt.Errorf("TEAMS_DEV=%q: use 1 to turn the development mode on", v))
	}
	c.Admins = strings.FieldsFunc(getenv("TRUSTBOT_ADMINS"), func(r rune) bool { return r == ',' || r == ' ' })
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: use debug, info, warn or error", v))
		}
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT=%q: use text or json", c.LogFormat))
	}
	return c, errors.Join(errs...)
}

// parseDays reads "730d" or "730" (days), or a Go duration such as "48h".
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err == nil {
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// DBKind is the kind of database TRUSTBOT_DB names.
type DBKind string

const (
	SQLite   DBKind = "sqlite"
	Postgres DBKind = "postgres"
)

// Database returns the kind of database the configuration names and how
// to reach it: a postgres:// or postgresql:// URL is PostgreSQL, anything
// else the path of a SQLite file, taken as it is.
func (c Config) Database() (DBKind, string) { return dbKind(c.DB), c.DB }

// DBName names the database for logs and errors: a SQLite path as it is,
// a PostgreSQL URL with its password hidden. Nothing else may show c.DB.
func (c Config) DBName() string { return redactDB(c.DB) }

func dbKind(db string) DBKind {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// hidden replaces a password in a URL shown in logs and errors.
const hidden = "xxxxx"

// redactDB keeps a PostgreSQL URL's user, host, port, database and
// options, and hides its password and any password option. A URL that
// cannot be read is hidden whole but for its scheme.
func redactDB(db string) string {
	if dbKind(db) != Postgres {
		return db
	}
	u, ok := dbURL(db)
	if !ok {
		scheme, _, _ := strings.Cut(db, "://")
		return scheme + "://" + hidden
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), hidden)
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q[k] = []string{hidden}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// dbURL parses a PostgreSQL URL. One with an "@" outside its user part is
// refused: a password with an unescaped "/", "?" or "#" leaves one there,
// and which part is the password can then not be told.
func dbURL(db string) (*url.URL, bool) {
	u, err := url.Parse(db)
	if err != nil || strings.Contains(u.Path+u.RawQuery+u.Fragment, "@") || (u.User == nil && strings.Contains(db, "@")) {
		return nil, false
	}
	return u, true
}

// checkDB refuses a PostgreSQL URL that cannot be used: one that does not
// parse or names no host (in the URL or its host option). The error shows
// the URL without its password.
func checkDB(name, db string) error {
	if dbKind(db) != Postgres {
		return nil
	}
	if u, ok := dbURL(db); !ok || (u.Host == "" && u.Query().Get("host") == "") {
		return fmt.Errorf("%s=%s: not a PostgreSQL URL trustbot can read; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE, with any special character in the password percent-encoded (/ as %%2F, @ as %%40)", name, redactDB(db))
	}
	return nil
}

// Slack reports whether Slack is configured: a bot token is set, or the
// installations come through OAuth.
func (c Config) Slack() bool { return c.BotToken != "" || c.SlackOAuth() }

// SlackOAuth reports whether trustbot is installed in workspaces through
// "Add to Slack": the client's ID and secret, and no bot token.
func (c Config) SlackOAuth() bool {
	return c.ClientID != "" && c.ClientSecret != "" && c.BotToken == ""
}

// SlackHTTP reports whether Slack's requests come over HTTP: a signing
// secret and no app token.
func (c Config) SlackHTTP() bool { return c.SigningSecret != "" && c.AppToken == "" }

// Teams reports whether Teams is configured: an app ID, a password or a
// tenant is set, or the development mode is on.
func (c Config) Teams() bool {
	return c.TeamsAppID != "" || c.TeamsAppPassword != "" || c.TeamsTenantID != "" || c.TeamsDev
}

// ValidateTeams checks what Teams needs: all three credentials and the
// public address, or, in the development mode, a loopback public address
// and no password.
func (c Config) ValidateTeams(listen bool) error {
	var errs []error
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || u.Scheme != "https" && !(c.TeamsDev && u.Scheme == "http") || u.Host == "") {
		errs = append(errs, fmt.Errorf("TRUSTBOT_PUBLIC_URL=%q: the https URL people reach the public address at, such as https://trustbot.example.com", c.PublicURL))
	}
	if c.TeamsDev {
		if c.TeamsAppPassword != "" {
			errs = append(errs, errors.New("TEAMS_DEV=1 is refused while TEAMS_APP_PASSWORD is set: the development mode takes no credentials"))
		}
		if listen && !loopback(c.PublicAddr) {
			errs = append(errs, fmt.Errorf("TEAMS_DEV=1 needs TRUSTBOT_PUBLIC_ADDR on a loopback address (such as 127.0.0.1:3978), not %q: it accepts activities without a token", c.PublicAddr))
		}
		return errors.Join(errs...)
	}
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"TEAMS_APP_ID", c.TeamsAppID}, {"TEAMS_APP_PASSWORD", c.TeamsAppPassword}, {"TEAMS_TENANT_ID", c.TeamsTenantID}, {"TRUSTBOT_PUBLIC_ADDR", c.PublicAddr},
	} {
		if v.value == "" && (listen || v.name != "TRUSTBOT_PUBLIC_ADDR") {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("Teams needs %s as well (set: TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID and TRUSTBOT_PUBLIC_ADDR)", strings.Join(missing, ", ")))
	}
	for _, v := range []struct{ name, value string }{{"TEAMS_OPENID_METADATA_URL", c.TeamsOpenIDURL}, {"TEAMS_TOKEN_URL", c.TeamsTokenURL}} {
		if u, err := url.Parse(v.value); v.value != "" && (err != nil || u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Host))) {
			errs = append(errs, fmt.Errorf("%s=%q: an https URL", v.name, v.value))
		}
	}
	return errors.Join(errs...)
}

// loopback reports whether a host:port (or host) names only this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Platforms returns the platforms serve runs: each one configured, each
// configured in full. Half a configuration is refused, naming what is
// missing; so is none.
func (c Config) Platforms() ([]trustbot.Platform, error) {
	var (
		ps   []trustbot.Platform
		errs []error
	)
	if c.BotToken != "" || c.AppToken != "" || c.SigningSecret != "" || c.ClientID != "" || c.ClientSecret != "" {
		ps = append(ps, trustbot.Slack)
		errs = append(errs, c.ValidateSlack())
	}
	if c.Teams() {
		ps = append(ps, trustbot.Teams)
		errs = append(errs, c.ValidateTeams(true))
	}
	if len(ps) == 0 {
		return nil, errNoPlatform
	}
	if c.PublicAddr != "" && c.PublicAddr == c.HTTPAddr {
		errs = append(errs, errors.New("TRUSTBOT_PUBLIC_ADDR and TRUSTBOT_HTTP_ADDR must differ: the public address must never serve /metrics"))
	}
	return ps, errors.Join(errs...)
}

// ValidateBot checks what posting messages needs: Slack's bot token,
// Teams' credentials, or both.
func (c Config) ValidateBot() error {
	var errs []error
	switch {
	case c.BotToken == "" && !c.Teams() && !c.SlackOAuth():
		return errNoBotToken
	case c.BotToken != "" && !strings.HasPrefix(c.BotToken, "xoxb-"):
		errs = append(errs, errBotToken)
	}
	if c.Teams() {
		errs = append(errs, c.ValidateTeams(false))
	}
	return errors.Join(errs...)
}

// ValidateSlack checks what serve needs to take Slack's requests: the
// bot token and either the app token (Socket Mode) or the signing secret
// and the public address (HTTP mode).
func (c Config) ValidateSlack() error {
	if c.AppToken != "" && c.SigningSecret != "" {
		return errTwoModes
	}
	if c.ClientID != "" || c.ClientSecret != "" {
		return c.validateOAuth()
	}
	if c.BotToken == "" || c.AppToken == "" && c.SigningSecret == "" {
		return errNoTokens
	}
	var errs []error
	if !strings.HasPrefix(c.BotToken, "xoxb-") {
		errs = append(errs, errBotToken)
	}
	if c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-") {
		errs = append(errs, errAppToken)
	}
	if c.SlackHTTP() && c.PublicAddr == "" {
		errs = append(errs, errHTTPAddr)
	}
	return errors.Join(errs...)
}

// validateOAuth checks what installing through "Add to Slack" needs.
func (c Config) validateOAuth() error {
	var errs []error
	switch {
	case c.BotToken != "":
		errs = append(errs, errOAuthBotToken)
	case c.ClientID == "" || c.ClientSecret == "":
		errs = append(errs, errOAuthClient)
	}
	if c.AppToken != "" || c.SigningSecret == "" {
		errs = append(errs, errOAuthHTTP)
	}
	if c.PublicAddr == "" {
		errs = append(errs, errHTTPAddr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Host)) {
		errs = append(errs, fmt.Errorf("TRUSTBOT_PUBLIC_URL=%q: installing through \"Add to Slack\" needs the https URL browsers reach the public address at (such as https://trustbot.example.com); Slack sends them back to it + %s", c.PublicURL, slack.CallbackPath))
	}
	if u, err := url.Parse(c.AuthorizeURL); err != nil || u.Host == "" || u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Host)) {
		errs = append(errs, fmt.Errorf("SLACK_AUTHORIZE_URL=%q: an https URL", c.AuthorizeURL))
	}
	if !c.Keys.Sealing() {
		errs = append(errs, errOAuthKey)
	}
	return errors.Join(errs...)
}

// LogValue logs the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	return slog.GroupValue(
		slog.String("slack_bot_token", set(c.BotToken)),
		slog.String("slack_app_token", set(c.AppToken)),
		slog.String("slack_signing_secret", set(c.SigningSecret)),
		slog.String("slack_client_id", c.ClientID),
		slog.String("slack_client_secret", set(c.ClientSecret)),
		slog.String("slack_api_url", c.APIURL),
		slog.String("db", c.DBName()),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("public_addr", c.PublicAddr),
		slog.String("public_url", c.PublicURL),
		slog.String("teams_app_id", c.TeamsAppID),
		slog.String("teams_app_password", set(c.TeamsAppPassword)),
		slog.String("teams_tenant_id", c.TeamsTenantID),
		slog.Bool("teams_dev", c.TeamsDev),
		slog.String("playbooks_dir", c.PlaybooksDir),
		slog.String("default_lang", string(c.DefaultLang)),
		slog.String("tz", c.TZ),
		slog.Float64("send_rate", c.SendRate),
		slog.Bool("encryption", c.Keys.Sealing()),
		slog.Duration("retention", c.Retention),
	)
}
