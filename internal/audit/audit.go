// Package audit is the append-only log of who changed what: licence changes, analyst
// decisions, takedowns. Entries are written in the same transaction as the change they record,
// so a change without its entry cannot happen.
package audit

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the audit log's table.
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "audit", FS: sub}
}()

// Entry is one change. Before and After are marshalled to JSON (nil for none).
type Entry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    int64           `json:"actor_id,omitempty"`
	ActorEmail string          `json:"actor_email,omitempty"`
	Action     string          `json:"action"`    // "licence.suspend", "case.decide", …
	Entity     string          `json:"entity"`    // "licence", "listing", …
	EntityID   string          `json:"entity_id"` // the entity's id or number
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	Note       string          `json:"note,omitempty"`
}

// Execer is a transaction or a pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Record writes one entry; pass the transaction of the change it records. actor may be nil
// for changes made by the system (jobs, the command line).
func Record(ctx context.Context, tx Execer, actor *web.Identity, action, entity, entityID string, before, after any, note string) error {
	b, err := marshal(before)
	if err != nil {
		return err
	}
	a, err := marshal(after)
	if err != nil {
		return err
	}
	var actorID *int64
	email := "system"
	if actor != nil {
		actorID, email = &actor.UserID, actor.Email
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor_id, actor_email, action, entity, entity_id, before, after, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, actorID, email, action, entity, entityID, b, a, note)
	return err
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// Querier is a transaction or a pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Filter narrows a listing of the log; zero fields match everything.
type Filter struct {
	Entity   string
	EntityID string
	Limit    int
}

// List returns entries, newest first.
func List(ctx context.Context, q Querier, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := q.Query(ctx, `SELECT id, at, coalesce(actor_id, 0), actor_email, action, entity, entity_id, before, after, note
		FROM audit_log WHERE ($1 = '' OR entity = $1) AND ($2 = '' OR entity_id = $2)
		ORDER BY at DESC, id DESC LIMIT $3`, f.Entity, f.EntityID, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorEmail, &e.Action, &e.Entity, &e.EntityID, &e.Before, &e.After, &e.Note)
		return e, err
	})
}
