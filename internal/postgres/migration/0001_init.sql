-- Settings, cached platform profiles and the tips each user has seen.
-- Every row is keyed by workspace (team) and user. Instants are Unix
-- seconds (milliseconds where the column says so), as in SQLite.

CREATE TABLE settings (
	team       TEXT NOT NULL,
	"user"     TEXT NOT NULL,
	lang       TEXT NOT NULL DEFAULT 'auto',
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (team, "user")
);

CREATE TABLE profiles (
	team       TEXT NOT NULL,
	"user"     TEXT NOT NULL,
	tz         TEXT NOT NULL DEFAULT '',
	locale     TEXT NOT NULL DEFAULT '',
	fetched_at BIGINT NOT NULL,
	PRIMARY KEY (team, "user")
);

-- rowid orders records shown in the same millisecond, as SQLite's does.
CREATE TABLE tips_shown (
	rowid    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	team     TEXT NOT NULL,
	"user"   TEXT NOT NULL,
	tip_id   TEXT NOT NULL,
	shown_at BIGINT NOT NULL -- Unix milliseconds
);

CREATE INDEX tips_shown_user ON tips_shown (team, "user", shown_at DESC);
