-- One row that the readiness check writes now and then: a write that goes
-- through says the file, its directory and the disk take writes.
CREATE TABLE probe (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL
) STRICT;
