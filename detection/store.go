package detection

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/detection/imagematch"
	"marketplace/internal/fault"
)

// querier is a pool, a connection or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// isImageError reports whether err is the Hasher refusing the picture itself (as opposed to
// a failure to fetch it): such a picture will never have a fingerprint.
func isImageError(err error) bool {
	return errors.Is(err, imagematch.ErrNotImage) || errors.Is(err, imagematch.ErrTooLarge) || errors.Is(err, imagematch.ErrTooManyPixels) ||
		errors.Is(err, imagematch.ErrTooSmall) || errors.Is(err, imagematch.ErrNoDetail)
}

// Fingerprint returns the fingerprint of catalogue image id, computing and storing it on
// first use (each image is hashed once, whichever process asks first). Returns
// Unprocessable when the picture cannot be fingerprinted (the reason is stored too, so it
// is not fetched again), NotFound for an unknown image, and the image source's error when
// the bytes cannot be fetched.
func (s *Service) Fingerprint(ctx context.Context, id int64) (_ *imagematch.Fingerprint, err error) {
	defer fault.Annotate(&err, "detection.Fingerprint(%d)", id)
	return s.fingerprint(ctx, s.db, id)
}

// fingerprint is Fingerprint reading and storing through q: a caller inside a transaction
// passes it, so that the read sees what the transaction sees. (The picture's bytes still
// come from the image source: they never change.)
func (s *Service) fingerprint(ctx context.Context, q querier, id int64) (*imagematch.Fingerprint, error) {
	fp, reason, found, err := storedFingerprint(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if found {
		if reason != "" {
			return nil, fault.New(fault.Unprocessable, "image %d cannot be fingerprinted: %s", id, reason)
		}
		return fp, nil
	}
	if s.images == nil {
		return nil, fault.New(fault.Unavailable, "detection: no image source to fetch image %d", id)
	}
	data, _, err := s.images.ImageBytes(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetch image %d: %w", id, err)
	}
	fp, herr := s.hasher.Fingerprint(data)
	if herr != nil && !isImageError(herr) {
		return nil, herr
	}
	if err := storeFingerprint(ctx, q, id, fp, herr); err != nil {
		return nil, err
	}
	if herr != nil {
		return nil, fault.Wrap(fault.Unprocessable, herr, "image %d cannot be fingerprinted: %s", id, herr.Error())
	}
	return fp, nil
}

func storedFingerprint(ctx context.Context, q querier, id int64) (fp *imagematch.Fingerprint, reason string, found bool, err error) {
	var data []byte
	err = q.QueryRow(ctx, `SELECT fingerprint, error FROM image_fingerprints WHERE image_id = $1`, id).Scan(&data, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	if reason != "" {
		return nil, reason, true, nil
	}
	fp = new(imagematch.Fingerprint)
	if err := fp.UnmarshalBinary(data); err != nil {
		return nil, "", false, fmt.Errorf("stored fingerprint of image %d: %w", id, err)
	}
	return fp, "", true, nil
}

// storeFingerprint records the fingerprint of image id, or herr when the picture cannot
// have one. A row already there (another process was faster) is kept.
func storeFingerprint(ctx context.Context, q querier, id int64, fp *imagematch.Fingerprint, herr error) error {
	if herr != nil {
		_, err := q.Exec(ctx, `INSERT INTO image_fingerprints (image_id, error) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, herr.Error())
		if err != nil && isForeignKey(err) {
			return fault.Wrap(fault.NotFound, err, "image %d not found", id)
		}
		return err
	}
	data, err := fp.MarshalBinary()
	if err != nil {
		return err
	}
	var ph [3]*int64
	for i, k := range [3]imagematch.Kind{imagematch.KindPHash, imagematch.KindPHashRaw, imagematch.KindPHashFill} {
		if h, ok := fp.Hash(k); ok {
			v := int64(h.Value)
			ph[i] = &v
		}
	}
	_, err = q.Exec(ctx, `INSERT INTO image_fingerprints (image_id, fingerprint, phash, phash_raw, phash_fill)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, id, data, ph[0], ph[1], ph[2])
	if err != nil && isForeignKey(err) {
		return fault.Wrap(fault.NotFound, err, "image %d not found", id)
	}
	return err
}

func isForeignKey(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// loadFingerprints reads the stored fingerprints of ids; images without one are absent.
func loadFingerprints(ctx context.Context, q querier, ids []int64) (map[int64]*imagematch.Fingerprint, error) {
	out := make(map[int64]*imagematch.Fingerprint, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT image_id, fingerprint FROM image_fingerprints WHERE image_id = ANY ($1) AND fingerprint IS NOT NULL`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		fp := new(imagematch.Fingerprint)
		if err := fp.UnmarshalBinary(data); err != nil {
			return nil, fmt.Errorf("stored fingerprint of image %d: %w", id, err)
		}
		out[id] = fp
	}
	return out, rows.Err()
}
