package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Installations of the Slack app and the OAuth states of the install
// flow. A workspace's tokens are sealed at rest like free text; an
// uninstall empties them and keeps the row, so that a reinstall is
// recorded as the same installation. The users' own data is not touched:
// it stays until they ask to forget it.

// installationID keys an installation: an organisation-wide install has
// no team.
func installationID(enterprise, team string) string { return enterprise + "/" + team }

const installationColumns = `enterprise, team, app_id, bot_user, scopes, bot_token, refresh_token, expires_at,
	installer, installed_at, updated_at, disabled_at, sealed`

// SaveInstallation records an installation made (or made again) through
// the OAuth flow: a reinstall keeps the first installed_at and enables it
// again.
func (db *DB) SaveInstallation(ctx context.Context, in trustbot.Installation) error {
	if in.Team == "" && in.Enterprise == "" {
		return trustbot.Errorf(trustbot.EINVALID, "an installation names a team or an enterprise")
	}
	tokens, sealed, err := db.seal(in.BotToken, in.RefreshToken)
	if err != nil {
		return err
	}
	now := db.Now().Unix()
	_, err = db.exec(ctx, `INSERT INTO installations (id, `+installationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
		ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id, bot_user = excluded.bot_user, scopes = excluded.scopes,
			bot_token = excluded.bot_token, refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
			installer = excluded.installer, updated_at = excluded.updated_at, disabled_at = 0, sealed = excluded.sealed`,
		installationID(in.Enterprise, in.Team), in.Enterprise, in.Team, in.AppID, in.BotUser, in.Scopes, tokens[0], tokens[1],
		unixOrZero(in.ExpiresAt), in.Installer, now, now, sealed)
	return err
}

// Installation returns the installation of a workspace (team): its own,
// or else that of the Enterprise Grid organisation installed for all its
// workspaces that the workspace belongs to (AddOrgWorkspace), an enabled
// one before a disabled one. With team empty it returns the
// organisation-wide installation of enterprise. A disabled installation
// comes without tokens. ENOTFOUND when there is none.
func (db *DB) Installation(ctx context.Context, enterprise, team string) (trustbot.Installation, error) {
	if team == "" {
		in, err := db.scanInstallation(db.read.QueryRowContext(ctx, `SELECT `+installationColumns+` FROM installations WHERE id = ?`, installationID(enterprise, "")))
		return in, db.formatError(err)
	}
	own, err := db.scanInstallation(db.read.QueryRowContext(ctx,
		`SELECT `+installationColumns+` FROM installations WHERE team = ? ORDER BY disabled_at, updated_at DESC LIMIT 1`, team))
	if err == nil && !own.Disabled() || err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		return own, db.formatError(err)
	}
	org, orgErr := db.scanInstallation(db.read.QueryRowContext(ctx, `SELECT `+installationColumns+` FROM installations
		WHERE id = (SELECT enterprise || '/' FROM org_workspaces WHERE team = ?)`, team))
	switch {
	case orgErr == nil && (!org.Disabled() || err != nil):
		return org, nil
	case orgErr != nil && trustbot.ErrorCode(orgErr) != trustbot.ENOTFOUND:
		return org, db.formatError(orgErr)
	}
	return own, db.formatError(err)
}

// RotatingInstallations returns the enabled installations whose tokens
// expire (the app rotates them), each with its tokens.
func (db *DB) RotatingInstallations(ctx context.Context) ([]trustbot.Installation, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+installationColumns+` FROM installations
		WHERE disabled_at = 0 AND expires_at > 0 AND refresh_token <> '' ORDER BY expires_at`)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var out []trustbot.Installation
	for rows.Next() {
		in, err := db.scanInstallation(rows)
		if err != nil {
			return out, err
		}
		out = append(out, in)
	}
	return out, db.formatError(rows.Err())
}

// AddOrgWorkspace records that a workspace belongs to an organisation
// installed for all its workspaces, whose installation it then uses. It
// reports whether the workspace was not recorded so before.
func (db *DB) AddOrgWorkspace(ctx context.Context, enterprise, team string) (bool, error) {
	if enterprise == "" || team == "" {
		return false, trustbot.Errorf(trustbot.EINVALID, "an organisation's workspace names both")
	}
	n, err := db.exec(ctx, `INSERT INTO org_workspaces (team, enterprise, added_at) VALUES (?, ?, ?)
		ON CONFLICT (team) DO UPDATE SET enterprise = excluded.enterprise, added_at = excluded.added_at
		WHERE org_workspaces.enterprise <> excluded.enterprise`, team, enterprise, db.Now().Unix())
	return n > 0, err
}

// RemoveOrgWorkspace records that an organisation's app was taken from
// one of its workspaces (team_access_revoked): the workspace no longer
// uses the organisation's installation, and its deliveries waiting to be
// sent are canceled unless it has an installation of its own. It reports
// whether the workspace was the organisation's.
func (db *DB) RemoveOrgWorkspace(ctx context.Context, enterprise, team string) (bool, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM org_workspaces WHERE team = ? AND enterprise = ?`, team, enterprise)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', error = 'uninstalled' WHERE team = ? AND state = 'pending'
			AND NOT EXISTS (SELECT 1 FROM installations WHERE installations.team = ? AND disabled_at = 0)`, team, team)
		return err
	})
	return n > 0, err
}

func (db *DB) scanInstallation(row scanner) (trustbot.Installation, error) {
	var (
		in                                    trustbot.Installation
		expires, installed, updated, disabled int64
		sealed                                sql.NullBool
	)
	err := row.Scan(&in.Enterprise, &in.Team, &in.AppID, &in.BotUser, &in.Scopes, &in.BotToken, &in.RefreshToken, &expires,
		&in.Installer, &installed, &updated, &disabled, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return in, trustbot.Errorf(trustbot.ENOTFOUND, "no installation")
	}
	if err != nil {
		return in, err
	}
	for _, v := range []*string{&in.BotToken, &in.RefreshToken} {
		if *v, err = db.reveal(sealed, *v); err != nil {
			return trustbot.Installation{}, unreadable("installations", installationID(in.Enterprise, in.Team), err)
		}
	}
	in.ExpiresAt, in.InstalledAt, in.UpdatedAt, in.DisabledAt = timeOrZero(expires), timeOrZero(installed), timeOrZero(updated), timeOrZero(disabled)
	return in, nil
}

// RefreshInstallation renews a workspace's expiring token once, however
// many processes ask at once: in one transaction that holds the row (a
// row lock where writers run side by side), it calls refresh only when
// the token stored still expires before the given instant, and stores
// what refresh returns. Another process that waited for the row reads the
// token already renewed. It returns the installation as stored after.
func (db *DB) RefreshInstallation(ctx context.Context, enterprise, team string, before time.Time, refresh func(trustbot.Installation) (trustbot.Installation, error)) (trustbot.Installation, error) {
	var out trustbot.Installation
	err := db.Tx(ctx, func(tx *Tx) error {
		in, err := db.scanInstallation(tx.QueryRowContext(ctx, `SELECT `+installationColumns+` FROM installations WHERE id = ? `+db.d.RowLock,
			installationID(enterprise, team)))
		if err != nil {
			return err
		}
		out = in
		if in.Disabled() || in.RefreshToken == "" || in.ExpiresAt.IsZero() || in.ExpiresAt.After(before) {
			return nil
		}
		next, err := refresh(in)
		if err != nil {
			return err
		}
		tokens, sealed, err := db.seal(next.BotToken, next.RefreshToken)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE installations SET bot_token = ?, refresh_token = ?, expires_at = ?, updated_at = ?, sealed = ? WHERE id = ?`,
			tokens[0], tokens[1], unixOrZero(next.ExpiresAt), db.Now().Unix(), sealed, installationID(enterprise, team)); err != nil {
			return err
		}
		out.BotToken, out.RefreshToken, out.ExpiresAt, out.UpdatedAt = next.BotToken, next.RefreshToken, next.ExpiresAt, db.Now().UTC().Truncate(time.Second)
		return nil
	})
	return out, err
}

// DisableInstallation records an uninstall (or revoked tokens): the
// tokens are deleted, and the workspace's deliveries waiting to be sent
// are canceled (failed, "uninstalled"), since nothing could send them;
// for an organisation (team empty), those of every workspace that used
// its installation.
// It reports whether an enabled installation was disabled.
func (db *DB) DisableInstallation(ctx context.Context, enterprise, team string) (bool, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE installations SET bot_token = '', refresh_token = '', expires_at = 0, disabled_at = ?, updated_at = ?
			WHERE id = ? AND disabled_at = 0`, db.Now().Unix(), db.Now().Unix(), installationID(enterprise, team))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if team == "" {
			// The organisation's: every workspace that used its
			// installation rather than one of its own.
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', error = 'uninstalled' WHERE state = 'pending'
				AND team IN (SELECT team FROM org_workspaces WHERE enterprise = ?)
				AND NOT EXISTS (SELECT 1 FROM installations WHERE installations.team = deliveries.team AND disabled_at = 0)`, enterprise)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', error = 'uninstalled' WHERE team = ? AND state = 'pending'`, team)
		return err
	})
	return n > 0, err
}

// SaveOAuthState records a state handed out (its hash) with the hash of
// the browser's secret, until expires; states expired a day ago go.
func (db *DB) SaveOAuthState(ctx context.Context, state, browser string, expires time.Time) error {
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at < ?`, db.Now().Add(-24*time.Hour).Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_states (state, browser, expires_at) VALUES (?, ?, ?)`, state, browser, expires.Unix())
		return err
	})
}

// ConsumeOAuthState takes a state back, once: it is deleted whatever the
// outcome, so that it can never be used again. It returns
// trustbot.ErrStateUnknown, trustbot.ErrStateExpired or trustbot.ErrStateBrowser when the state
// cannot be used.
func (db *DB) ConsumeOAuthState(ctx context.Context, state, browser string, now time.Time) error {
	var (
		stored  string
		expires int64
		found   bool
	)
	err := db.Tx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM oauth_states WHERE state = ? RETURNING browser, expires_at`, state).Scan(&stored, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	switch {
	case err != nil:
		return err
	case !found:
		return trustbot.ErrStateUnknown
	case now.Unix() >= expires:
		return trustbot.ErrStateExpired
	case stored != browser:
		return trustbot.ErrStateBrowser
	}
	return nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
