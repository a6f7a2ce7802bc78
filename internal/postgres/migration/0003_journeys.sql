-- Journeys: a cooling-off period after being declined, a trust plan,
-- repairing trust. Their follow-ups are deliveries like check-ins, keyed
-- by journey and step.

CREATE TABLE journeys (
	id          TEXT PRIMARY KEY,
	team        TEXT NOT NULL,
	"user"      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	label       TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,              -- active, finished, stopped
	start       TEXT NOT NULL,              -- local date of day 0
	step        INTEGER NOT NULL DEFAULT 0, -- next item of the journey's timeline
	next_due_at BIGINT,                     -- unix seconds UTC; NULL when nothing is due
	data        TEXT NOT NULL DEFAULT '{}', -- JSON: signs, stage, goal, horizon, answers
	started_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

CREATE INDEX journeys_user ON journeys (team, "user", state);
CREATE INDEX journeys_due ON journeys (next_due_at) WHERE next_due_at IS NOT NULL;
