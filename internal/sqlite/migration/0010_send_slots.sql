-- The send rate shared by every trustbot on the database: one row per
-- platform and workspace (and method), holding the next free slot and a
-- pause asked for by a 429's Retry-After, both in Unix microseconds of
-- the database's clock. One process runs on a SQLite file and paces in
-- memory; the table keeps both schemas alike.
CREATE TABLE send_slots (
	key           TEXT PRIMARY KEY,
	next_at       INTEGER NOT NULL,
	blocked_until INTEGER NOT NULL DEFAULT 0
) STRICT;
