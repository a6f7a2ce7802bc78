-- One row that the readiness check writes now and then: a write that goes
-- through says the database takes writes.
CREATE TABLE probe (
	id INTEGER PRIMARY KEY,
	at BIGINT NOT NULL
);
