-- Tip of the week: channel subscriptions, the tips each channel has had,
-- who changed what, and whether a user wants "try it" follow-ups.

CREATE TABLE subscriptions (
	team        TEXT NOT NULL,
	channel     TEXT NOT NULL,
	weekday     INTEGER NOT NULL,
	minute      INTEGER NOT NULL,
	lang        TEXT NOT NULL,
	topics      TEXT NOT NULL DEFAULT '[]', -- JSON list of topic IDs; empty: every topic for everyone
	tz          TEXT NOT NULL,
	holidays    TEXT NOT NULL DEFAULT '',
	active      BOOLEAN NOT NULL,
	stopped     TEXT NOT NULL DEFAULT '',  -- why posting stopped without anyone asking
	subscriber  TEXT NOT NULL,             -- who subscribed (a user ID)
	occurrence  TEXT NOT NULL DEFAULT '',
	next_due_at BIGINT,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (team, channel)
);

CREATE INDEX subscriptions_due ON subscriptions (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE channel_tips (
	team      TEXT NOT NULL,
	channel   TEXT NOT NULL,
	tip_id    TEXT NOT NULL,
	posted_at BIGINT NOT NULL
);

CREATE INDEX channel_tips_channel ON channel_tips (team, channel);

CREATE TABLE subscription_changes (
	team    TEXT NOT NULL,
	channel TEXT NOT NULL,
	"user"  TEXT NOT NULL,
	change  TEXT NOT NULL,
	at      BIGINT NOT NULL
);

ALTER TABLE settings ADD COLUMN tryit_followups BOOLEAN NOT NULL DEFAULT TRUE;
