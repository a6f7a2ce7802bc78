package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

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
	LogLevel     slog.Level
	LogFormat    string
	SendRate     float64  // scheduled messages per second across the workspace
	Admins       []string // user IDs who alone may change a channel's tip of the week; empty: any member
}

var (
	errNoTokens = errors.New("SLACK_BOT_TOKEN and SLACK_APP_TOKEN must both be set to connect to Slack; to try trustbot without Slack, run: trustbot console")
	errBotToken = errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…)")
	errAppToken = errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope")
)

// LoadConfig reads the configuration from getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
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
	var errs []error
	c.DefaultLang = trustbot.Japanese
	if v := getenv("TRUSTBOT_DEFAULT_LANG"); v != "" {
		l, ok := trustbot.ParseLang(v)
		if !ok {
			errs = append(errs, fmt.Errorf("TRUSTBOT_DEFAULT_LANG=%q: use ja or en", v))
		}
		c.DefaultLang = l
	}
	if v := getenv("TRUSTBOT_SEND_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 1000 {
			errs = append(errs, fmt.Errorf("TRUSTBOT_SEND_RATE=%q: messages per second, above 0 and at most 1000", v))
		}
		c.SendRate = r
	}
	for _, id := range strings.FieldsFunc(getenv("TRUSTBOT_ADMINS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		c.Admins = append(c.Admins, id)
	}
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
		slog.Float64("send_rate", c.SendRate),
	)
}
