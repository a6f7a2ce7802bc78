-- Files waiting behind a single-use link that expires (a user's export in
-- Teams), kept here so that the download works on whichever replica it
-- reaches. A row is keyed by the hash of its link's secret, never the
-- secret; its data is sealed with the encryption key (sealed says so). It
-- goes when the link is used, once it has expired, or when its user is
-- forgotten. Instants are Unix milliseconds.
CREATE TABLE file_links (
	token_hash TEXT PRIMARY KEY,
	team       TEXT NOT NULL,
	"user"     TEXT NOT NULL,
	name       TEXT NOT NULL,
	data       TEXT NOT NULL,
	sealed     BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE INDEX file_links_user ON file_links (team, "user");
CREATE INDEX file_links_expires ON file_links (expires_at);
