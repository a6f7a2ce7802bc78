-- Workspaces of an Enterprise Grid organisation that installed trustbot
-- for the whole organisation: a workspace here uses the organisation's
-- installation (and token) unless it has one of its own. A row comes when
-- Slack says the app was added to the workspace (team_access_granted) or
-- when a request from the workspace names the organisation's install, and
-- goes when the app is taken from it (team_access_revoked). Instants are
-- Unix seconds.
CREATE TABLE org_workspaces (
	team       TEXT PRIMARY KEY,
	enterprise TEXT NOT NULL,
	added_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX org_workspaces_enterprise ON org_workspaces (enterprise);
