package main

import (
	"errors"
	"fmt"
	"log/slog"
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
	BotToken     string
	AppToken     string
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
}

var (
	errNoTokens   = errors.New("SLACK_BOT_TOKEN and SLACK_APP_TOKEN must both be set to connect to Slack; to try trustbot without Slack, run: trustbot console")
	errNoBotToken = errors.New("SLACK_BOT_TOKEN must be set to send messages; --dry-run shows what would be sent without it")
	errBotToken   = errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…)")
	errAppToken   = errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope")
)

// secrets can also be read from a file named by <NAME>_FILE (the
// container and systemd-credentials convention).
var secrets = []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "TRUSTBOT_ENCRYPTION_KEY", "TRUSTBOT_ENCRYPTION_OLD_KEYS"}

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
		BotToken:     strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken:     strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		APIURL:       getenv("SLACK_API_URL"),
		DB:           getenv("TRUSTBOT_DB"),
		HTTPAddr:     getenv("TRUSTBOT_HTTP_ADDR"),
		PlaybooksDir: getenv("TRUSTBOT_PLAYBOOKS_DIR"),
		LogFormat:    strings.ToLower(getenv("LOG_FORMAT")),
	}
	if c.APIURL == "" {
		c.APIURL = "https://slack.com/api/"
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if c.DB == "" {
		c.DB = DefaultDB
	}
	errs := []error{fileErr}
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

// Slack reports whether Slack is configured: a bot token is set.
func (c Config) Slack() bool { return c.BotToken != "" }

// ValidateBot checks what posting messages needs: the bot token.
func (c Config) ValidateBot() error {
	switch {
	case c.BotToken == "":
		return errNoBotToken
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		return errBotToken
	}
	return nil
}

// ValidateSlack checks what serve needs to connect to Slack.
func (c Config) ValidateSlack() error {
	if c.BotToken == "" || c.AppToken == "" {
		return errNoTokens
	}
	var errs []error
	if !strings.HasPrefix(c.BotToken, "xoxb-") {
		errs = append(errs, errBotToken)
	}
	if !strings.HasPrefix(c.AppToken, "xapp-") {
		errs = append(errs, errAppToken)
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
		slog.String("slack_api_url", c.APIURL),
		slog.String("db", c.DB),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("playbooks_dir", c.PlaybooksDir),
		slog.String("default_lang", string(c.DefaultLang)),
		slog.String("tz", c.TZ),
		slog.Float64("send_rate", c.SendRate),
		slog.Bool("encryption", c.Keys.Sealing()),
		slog.Duration("retention", c.Retention),
	)
}
