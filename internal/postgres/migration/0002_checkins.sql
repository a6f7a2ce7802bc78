-- Reflection check-ins: each user's rules for when trustbot may write,
-- their cadence, one row per delivery (unique per occurrence) and their
-- answers.

ALTER TABLE settings ADD COLUMN workdays INTEGER NOT NULL DEFAULT 62; -- Monday to Friday, bit per time.Weekday
ALTER TABLE settings ADD COLUMN quiet_start INTEGER NOT NULL DEFAULT -1; -- minutes after midnight, -1: none
ALTER TABLE settings ADD COLUMN quiet_end INTEGER NOT NULL DEFAULT -1;
ALTER TABLE settings ADD COLUMN holidays TEXT NOT NULL DEFAULT '';
ALTER TABLE settings ADD COLUMN paused_until BIGINT NOT NULL DEFAULT 0; -- unix seconds, 0: not paused

CREATE TABLE schedules (
	team        TEXT NOT NULL,
	"user"      TEXT NOT NULL,
	cadence     TEXT NOT NULL,
	weekday     INTEGER NOT NULL,
	month_day   INTEGER NOT NULL,
	week        INTEGER NOT NULL,
	minute      INTEGER NOT NULL,
	anchor      TEXT NOT NULL DEFAULT '',
	active      BOOLEAN NOT NULL,
	stopped     TEXT NOT NULL DEFAULT '',
	occurrence  TEXT NOT NULL DEFAULT '',
	next_due_at BIGINT, -- unix seconds UTC; NULL while inactive
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (team, "user")
);

-- The dispatcher's question every minute: what is due? Only active rows are
-- in the index, so its cost grows with what is due, not with the users.
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE deliveries (
	id         TEXT PRIMARY KEY,
	team       TEXT NOT NULL,
	"user"     TEXT NOT NULL,
	kind       TEXT NOT NULL,
	occurrence TEXT NOT NULL,
	state      TEXT NOT NULL,
	attempt    TEXT NOT NULL DEFAULT '',
	attempts   INTEGER NOT NULL DEFAULT 0,
	due_at     BIGINT NOT NULL,
	claimed_at BIGINT NOT NULL,
	sending_at BIGINT NOT NULL DEFAULT 0,
	sent_at    BIGINT NOT NULL DEFAULT 0,
	channel    TEXT NOT NULL DEFAULT '',
	ts         TEXT NOT NULL DEFAULT '',
	error      TEXT NOT NULL DEFAULT '',
	missed     INTEGER NOT NULL DEFAULT 0,
	UNIQUE (team, "user", kind, occurrence)
);

CREATE INDEX deliveries_work ON deliveries (state, due_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_user ON deliveries (team, "user", kind, occurrence);

CREATE TABLE reflections (
	delivery_id TEXT PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
	team        TEXT NOT NULL,
	"user"      TEXT NOT NULL,
	occurrence  TEXT NOT NULL,
	choices     TEXT NOT NULL DEFAULT '{}', -- JSON: question ID -> choice ID
	note        TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL DEFAULT '',
	answered_at BIGINT NOT NULL
);

CREATE INDEX reflections_user ON reflections (team, "user", occurrence);
