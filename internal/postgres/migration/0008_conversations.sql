-- Where messages to a user (or a channel) go on a platform that cannot
-- address them by ID alone (Teams): the conversation reference taken from
-- the platform's own activities. One row per user or channel.
CREATE TABLE conversations (
	team         TEXT NOT NULL,
	"user"       TEXT NOT NULL,
	conversation TEXT NOT NULL,
	service_url  TEXT NOT NULL,
	bot          TEXT NOT NULL,
	channel      BOOLEAN NOT NULL DEFAULT FALSE,
	updated_at   BIGINT NOT NULL, -- Unix milliseconds
	PRIMARY KEY (team, "user")
);
