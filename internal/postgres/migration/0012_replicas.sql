-- Processes that share the database. Each running trustbot (a replica)
-- holds a lease, renewed every few seconds and ended when it stops; a
-- delivery being sent names the replica that sends it, so that another
-- can tell a sender at work from one gone. Instants are Unix milliseconds.
CREATE TABLE replicas (
	id         TEXT PRIMARY KEY,
	host       TEXT NOT NULL,
	pid        BIGINT NOT NULL,
	started_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

ALTER TABLE deliveries ADD COLUMN replica TEXT NOT NULL DEFAULT '';

-- Work one replica does at a time (the reconciliation at start, the
-- retention purge), each under a named lease. The token grows with every
-- new holder: a write fenced by it is refused once another holds the lease.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	token      BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

-- Requests from a platform already handled (an envelope or event it may
-- hand to two connections, or send again): kept a day.
CREATE TABLE handled_requests (
	key        TEXT PRIMARY KEY,
	handled_at BIGINT NOT NULL
);

CREATE INDEX handled_requests_at ON handled_requests (handled_at);
