package audit_test

import (
	"context"
	"testing"

	"marketplace/internal/audit"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
)

func TestAuditLog(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, audit.Schema)
	ctx := context.Background()
	actor := &web.Identity{UserID: 0, Email: "admin@example.com"}
	if err := audit.Record(ctx, db, actor, "licence.suspend", "licence", "LIC-1", map[string]string{"status": "active"}, map[string]string{"status": "suspended"}, "unpaid royalties"); err != nil {
		t.Fatal(err)
	}
	t.Run("ListsTheEntry", func(t *testing.T) {
		entries, err := audit.List(ctx, db, audit.Filter{Entity: "licence", EntityID: "LIC-1"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("entries = %v, %v", entries, err)
		}
		e := entries[0]
		if e.Action != "licence.suspend" || e.ActorEmail != "admin@example.com" || string(e.After) != `{"status": "suspended"}` || e.Note != "unpaid royalties" {
			t.Fatalf("entry = %+v", e)
		}
	})
	t.Run("UpdateIsRefused", func(t *testing.T) {
		if _, err := db.Exec(ctx, "UPDATE audit_log SET note = 'edited'"); err == nil {
			t.Fatal("update of the audit log succeeded")
		}
	})
	t.Run("DeleteIsRefused", func(t *testing.T) {
		if _, err := db.Exec(ctx, "DELETE FROM audit_log"); err == nil {
			t.Fatal("delete from the audit log succeeded")
		}
	})
}
