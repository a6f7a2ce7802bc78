-- Settings, cached platform profiles and the tips each user has seen.
-- Every row is keyed by workspace (team) and user.

CREATE TABLE settings (
	team       TEXT NOT NULL,
	user       TEXT NOT NULL,
	lang       TEXT NOT NULL DEFAULT 'auto',
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (team, user)
) STRICT;

CREATE TABLE profiles (
	team       TEXT NOT NULL,
	user       TEXT NOT NULL,
	tz         TEXT NOT NULL DEFAULT '',
	locale     TEXT NOT NULL DEFAULT '',
	fetched_at INTEGER NOT NULL,
	PRIMARY KEY (team, user)
) STRICT;

CREATE TABLE tips_shown (
	team     TEXT NOT NULL,
	user     TEXT NOT NULL,
	tip_id   TEXT NOT NULL,
	shown_at INTEGER NOT NULL
) STRICT;

CREATE INDEX tips_shown_user ON tips_shown (team, user, shown_at DESC);
