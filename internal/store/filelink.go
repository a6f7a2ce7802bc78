package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// filesKept is how many files behind links one user has at most: asking
// for more drops the oldest.
const filesKept = 3

// tokenHash is how a link's secret is stored: hashed, so that the
// database holds no working link. A secret of 128 random bits needs no
// salt.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// PutFile keeps a file behind its link, its name and data sealed, and
// drops the files whose links have expired and the owner's beyond the
// newest few.
func (db *DB) PutFile(ctx context.Context, f trustbot.LinkedFile) error {
	if f.Token == "" || !f.Owner.Valid() {
		return trustbot.Errorf(trustbot.EINVALID, "a file behind a link needs its token and its owner")
	}
	values, sealed, err := db.seal(f.Name, string(f.Data))
	if err != nil {
		return err
	}
	now := db.Now()
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM file_links WHERE expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO file_links (token_hash, team, "user", name, data, sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			tokenHash(f.Token), f.Owner.Team, f.Owner.User, values[0], values[1], sealed, ms(now), ms(f.Expires)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM file_links WHERE team = ? AND "user" = ? AND token_hash NOT IN
			(SELECT token_hash FROM file_links WHERE team = ? AND "user" = ? ORDER BY created_at DESC, token_hash LIMIT ?)`,
			f.Owner.Team, f.Owner.User, f.Owner.Team, f.Owner.User, filesKept)
		return err
	})
}

// TakeFile returns the file behind token and deletes it, whether or not
// it expired: a link works once.
func (db *DB) TakeFile(ctx context.Context, token string, now time.Time) (trustbot.LinkedFile, bool, error) {
	f := trustbot.LinkedFile{Token: token}
	var (
		name    string
		data    string
		sealed  sql.NullBool
		expires int64
		found   bool
	)
	err := db.Tx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM file_links WHERE token_hash = ? RETURNING team, "user", name, data, sealed, expires_at`,
			tokenHash(token)).Scan(&f.Owner.Team, &f.Owner.User, &name, &data, &sealed, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil || !found || ms(now) >= expires {
		return trustbot.LinkedFile{}, false, err
	}
	if f.Name, err = db.reveal(sealed, name); err == nil {
		data, err = db.reveal(sealed, data)
	}
	if err != nil {
		err = unreadable("file_links", f.Owner.User, err)
		db.skipped(err)
		return trustbot.LinkedFile{}, false, err
	}
	f.Data, f.Expires = []byte(data), time.UnixMilli(expires).UTC()
	return f, true, nil
}

// DropFile deletes the file behind token, if any.
func (db *DB) DropFile(ctx context.Context, token string) error {
	_, err := db.exec(ctx, `DELETE FROM file_links WHERE token_hash = ?`, tokenHash(token))
	return err
}

// PurgeFiles deletes the files whose links expired by now and were never
// used.
func (db *DB) PurgeFiles(ctx context.Context, now time.Time) (int64, error) {
	return db.exec(ctx, `DELETE FROM file_links WHERE expires_at <= ?`, ms(now))
}
