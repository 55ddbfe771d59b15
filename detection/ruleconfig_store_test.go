package detection

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
	"marketplace/licensing"
)

var rulesAnalyst = &web.Identity{UserID: 0, Email: "analyst@example.com", Role: web.RoleAnalyst}

func newRuleStoreWorld(t *testing.T, opts ...RuleStoreOption) (*RuleStore, *licensing.Service) {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	lic := licensing.NewService(pool)
	if _, err := lic.CreateProperty(context.Background(), nil, licensing.Property{Code: "PARIS2024", Name: "Paris 2024",
		Marks: []licensing.Mark{{Text: "Paris 2024"}, {Text: "巴黎奥运", Lang: "zh"}}}); err != nil {
		t.Fatal(err)
	}
	return NewRuleStore(pool, lic, opts...), lic
}

func TestRuleStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, lic := newRuleStoreWorld(t, WithRulesMaxAge(time.Hour))

	t.Run("DefaultsUntilSaved", func(t *testing.T) {
		rs, err := store.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Config.Version != 0 || rs.Config.BlockAt != 70 || rs.marks.Len() != 2 {
			t.Fatalf("defaults: %v, %d marks", rs.Config, rs.marks.Len())
		}
		if hits := rs.FindMarks("P4ris 2024 tee", ""); len(hits) != 1 || hits[0].Property != "PARIS2024" {
			t.Fatalf("marks from the registry: %+v", hits)
		}
	})

	var saved RuleConfig
	t.Run("SaveIsAuditedVersionedAndSeenAtOnce", func(t *testing.T) {
		cfg, err := store.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Rules[RulePriceTooLow] = RuleSetting{Enabled: true, Weight: 45, Params: map[string]int{"max_share_percent": 30}}
		cfg.ReviewAt, cfg.BlockAt = 25, 60
		cfg.CounterfeitWords = append(cfg.CounterfeitWords, "bootleg")
		if saved, err = store.Save(ctx, rulesAnalyst, cfg, "tighter prices"); err != nil {
			t.Fatal(err)
		}
		if saved.Version != 1 {
			t.Fatalf("version %d", saved.Version)
		}
		rs, err := store.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Config.Version != 1 || rs.Config.Rule(RulePriceTooLow).Weight != 45 || rs.Config.Rule(RulePriceTooLow).Param("max_share_percent") != 30 || rs.Config.BlockAt != 60 {
			t.Fatalf("after the save: %+v", rs.Config)
		}
		in := plain()
		in.Title = "bootleg tee"
		if res := rs.Evaluate(in); res.RulesVersion != 1 || len(res.Reasons) != 1 || res.Reasons[0].Rule != RuleCounterfeitWords {
			t.Fatalf("the new word: %+v", res)
		}
		entries, err := audit.List(ctx, store.db, audit.Filter{Entity: "detection_rules"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "rules.update" || entries[0].EntityID != "1" || entries[0].ActorEmail != rulesAnalyst.Email || entries[0].Note != "tighter prices" {
			t.Fatalf("audit: %+v", entries)
		}
		var before, after ruleDiff
		if err := json.Unmarshal(entries[0].Before, &before); err != nil {
			t.Fatalf("audit before: %v", err)
		}
		if err := json.Unmarshal(entries[0].After, &after); err != nil {
			t.Fatalf("audit after: %v", err)
		}
		if before.Rules[RulePriceTooLow].Weight != 30 || after.Rules[RulePriceTooLow].Weight != 45 || *after.BlockAt != 60 || len(after.Rules) != 1 {
			t.Fatalf("audit diff: before %+v after %+v", before, after)
		}
		v, err := store.Version(ctx, 1)
		if err != nil || v.Rule(RulePriceTooLow).Weight != 45 {
			t.Fatalf("version 1: %+v %v", v, err)
		}
		if _, err := store.Version(ctx, 9); !fault.Is(err, fault.NotFound) {
			t.Fatalf("version 9: %v", err)
		}
	})

	t.Run("BadConfigChangesNothing", func(t *testing.T) {
		for _, edit := range []func(c *RuleConfig){
			func(c *RuleConfig) { c.Rules[RuleSellerStrikes] = RuleSetting{Enabled: true, Weight: 150} },
			func(c *RuleConfig) { c.ReviewAt, c.BlockAt = 80, 40 },
			func(c *RuleConfig) { c.HashRadius = -1 },
		} {
			cfg := saved.Clone()
			edit(&cfg)
			if _, err := store.Save(ctx, rulesAnalyst, cfg, ""); !fault.Is(err, fault.Invalid) {
				t.Fatalf("err = %v, want Invalid", err)
			}
		}
		got, err := store.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1 || got.Rule(RuleSellerStrikes).Weight != 15 || got.BlockAt != 60 {
			t.Fatalf("after refused saves: %+v", got)
		}
		entries, err := audit.List(ctx, store.db, audit.Filter{Entity: "detection_rules"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("%d audit entries, %v", len(entries), err)
		}
	})

	t.Run("ErrConflictOnStaleVersion", func(t *testing.T) {
		stale := saved.Clone()
		stale.Version = 0
		if _, err := store.Save(ctx, rulesAnalyst, stale, ""); !fault.Is(err, fault.Conflict) {
			t.Fatalf("err = %v, want Conflict", err)
		}
	})

	t.Run("HookFailureUndoesTheSave", func(t *testing.T) {
		other := NewRuleStore(store.db, lic)
		other.OnChange(func(ctx context.Context, tx pgx.Tx, before, after RuleConfig) error {
			return fault.New(fault.Unavailable, "queue down")
		})
		cfg := saved.Clone()
		cfg.HashRadius = 8
		if _, err := other.Save(ctx, rulesAnalyst, cfg, ""); !fault.Is(err, fault.Unavailable) {
			t.Fatalf("err = %v", err)
		}
		if got, err := store.Config(ctx); err != nil || got.Version != 1 || got.HashRadius != 10 {
			t.Fatalf("after a failed hook: %+v, %v", got, err)
		}
	})
}

// TestRuleStoreOtherProcess: a save through one store reaches another by NOTIFY, although
// the other's cache would last an hour.
func TestRuleStoreOtherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, lic := newRuleStoreWorld(t)
	b := NewRuleStore(a.db, lic, WithRulesMaxAge(time.Hour))
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if rs, err := b.Current(ctx); err != nil || rs.Config.Version != 0 {
		t.Fatalf("b: %v %v", rs, err)
	}
	cfg := DefaultRuleConfig()
	cfg.BlockAt = 90
	if _, err := a.Save(ctx, nil, cfg, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rs, err := b.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Config.Version == 1 && rs.Config.BlockAt == 90 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b still holds version %d", rs.Config.Version)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Versions lists the saves, newest first.
	vs, err := a.Versions(ctx, 10)
	if err != nil || len(vs) != 1 || vs[0].CreatedBy != "system" || !slices.Contains(vs[0].Config.CounterfeitWords, "replica") {
		t.Fatalf("versions %+v %v", vs, err)
	}
}
