-- Slack workspaces (or, with team empty, Enterprise Grid organisations)
-- that installed trustbot through "Add to Slack": one row per
-- installation, keyed by id (enterprise + "/" + team). The tokens are
-- sealed with the encryption key (sealed says so); an uninstall empties
-- them and sets disabled_at, and a reinstall fills them again. Instants
-- are Unix seconds, 0 for none.
CREATE TABLE installations (
	id            TEXT PRIMARY KEY,
	enterprise    TEXT NOT NULL,
	team          TEXT NOT NULL,
	app_id        TEXT NOT NULL DEFAULT '',
	bot_user      TEXT NOT NULL DEFAULT '',
	scopes        TEXT NOT NULL DEFAULT '',
	bot_token     TEXT NOT NULL DEFAULT '',
	refresh_token TEXT NOT NULL DEFAULT '',
	expires_at    INTEGER NOT NULL DEFAULT 0,
	installer     TEXT NOT NULL DEFAULT '',
	installed_at  INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	disabled_at   INTEGER NOT NULL DEFAULT 0,
	sealed        INTEGER
) STRICT;

CREATE INDEX installations_team ON installations (team);

-- OAuth states handed out by the install page, each until it is used or
-- expires: the hash of the state and the hash of the secret kept in the
-- cookie of the browser that asked for it.
CREATE TABLE oauth_states (
	state      TEXT PRIMARY KEY,
	browser    TEXT NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
