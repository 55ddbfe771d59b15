package detection

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// rulesNotifyChannel carries the new configuration version at each commit of a save.
const rulesNotifyChannel = "detection_rules"

// MarkSource lists every property's marks; licensing.Service is one.
type MarkSource interface {
	PropertyMarks(ctx context.Context) ([]licensing.Mark, error)
}

// RulesHook runs inside the transaction that saves a new rule configuration (the pipeline
// enqueues re-screening there); an error undoes the save.
type RulesHook func(ctx context.Context, tx pgx.Tx, before, after RuleConfig) error

// RuleStore keeps the rule configuration in PostgreSQL (detection_rule_config,
// detection_rule_settings, and every saved version in detection_rule_versions) and hands out
// a compiled Ruleset, cached for a few seconds. A save in this process is seen at once;
// one in another process is seen at its NOTIFY (when Start listens) or when the cache
// expires.
type RuleStore struct {
	db     *pgxpool.Pool
	marks  MarkSource
	maxAge time.Duration
	log    *slog.Logger
	now    func() time.Time

	reloadMu sync.Mutex
	cur      atomic.Pointer[cachedRules]

	hooksMu sync.RWMutex
	hooks   []RulesHook

	follower *postgres.Follower // made by Start; nil before
}

type cachedRules struct {
	rs       *Ruleset
	loadedAt time.Time
}

// RuleStoreOption configures a RuleStore.
type RuleStoreOption func(*RuleStore)

// WithRulesMaxAge sets how long a loaded configuration is used before it is read again
// (default 3 s).
func WithRulesMaxAge(d time.Duration) RuleStoreOption { return func(s *RuleStore) { s.maxAge = d } }

// WithRulesLogger sets the logger.
func WithRulesLogger(l *slog.Logger) RuleStoreOption { return func(s *RuleStore) { s.log = l } }

// NewRuleStore returns the rule configuration over db; marks gives the properties' marks
// (licensing.Service). Start is optional: it makes other processes' saves visible at once.
func NewRuleStore(db *pgxpool.Pool, marks MarkSource, opts ...RuleStoreOption) *RuleStore {
	s := &RuleStore{db: db, marks: marks, maxAge: 3 * time.Second, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// OnChange registers fn to run inside every save's transaction. Register at start-up.
func (s *RuleStore) OnChange(fn RulesHook) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// Current returns the ruleset to screen with: the saved configuration (or the defaults,
// version 0) and every property's marks, from the cache when it is fresh. When reading
// fails and an older ruleset is held, that one is returned (and the failure logged); with
// none held, the error is returned and the caller must not judge (fail closed).
func (s *RuleStore) Current(ctx context.Context) (_ *Ruleset, err error) {
	defer fault.Annotate(&err, "detection.Current()")
	if c := s.cur.Load(); c != nil && s.now().Sub(c.loadedAt) < s.maxAge {
		return c.rs, nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if c := s.cur.Load(); c != nil && s.now().Sub(c.loadedAt) < s.maxAge {
		return c.rs, nil
	}
	rs, err := s.load(ctx)
	if err != nil {
		if c := s.cur.Load(); c != nil {
			s.log.Warn("detection: reload the rule configuration; using the one held", "err", err, "version", c.rs.Config.Version)
			return c.rs, nil
		}
		return nil, err
	}
	s.cur.Store(&cachedRules{rs: rs, loadedAt: s.now()})
	return rs, nil
}

// invalidate makes the next Current read the database.
func (s *RuleStore) invalidate() { s.cur.Store(nil) }

func (s *RuleStore) load(ctx context.Context) (*Ruleset, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	var marks []Mark
	if s.marks != nil {
		ms, err := s.marks.PropertyMarks(ctx)
		if err != nil {
			return nil, err
		}
		marks = make([]Mark, len(ms))
		for i, m := range ms {
			marks[i] = Mark{Property: m.Property, Text: m.Text, Lang: m.Lang}
		}
	}
	return NewRuleset(cfg, marks), nil
}

// Config reads the saved configuration from the database: the defaults (version 0) with
// what analysts saved over them.
func (s *RuleStore) Config(ctx context.Context) (_ RuleConfig, err error) {
	defer fault.Annotate(&err, "detection.Config()")
	return loadRuleConfig(ctx, s.db)
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func loadRuleConfig(ctx context.Context, q rowQuerier) (RuleConfig, error) {
	cfg := DefaultRuleConfig()
	err := q.QueryRow(ctx, `SELECT version, review_at, block_at, hash_radius, counterfeit_words FROM detection_rule_settings`).
		Scan(&cfg.Version, &cfg.ReviewAt, &cfg.BlockAt, &cfg.HashRadius, &cfg.CounterfeitWords)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return RuleConfig{}, err
	}
	rows, err := q.Query(ctx, `SELECT rule, enabled, weight, params FROM detection_rule_config ORDER BY rule`)
	if err != nil {
		return RuleConfig{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var st RuleSetting
		if err := rows.Scan(&id, &st.Enabled, &st.Weight, &st.Params); err != nil {
			return RuleConfig{}, err
		}
		if _, known := RuleDefByID(id); known {
			cfg.Rules[id] = st
		}
	}
	if err := rows.Err(); err != nil {
		return RuleConfig{}, err
	}
	for _, d := range RuleDefs {
		cfg.Rules[d.ID] = cfg.Rule(d.ID)
	}
	return cfg, nil
}

// Save validates cfg and stores it as the next version, with its audit entry and the
// OnChange hooks, in one transaction; other processes hear of it by NOTIFY. cfg.Version must
// be the version it was edited from. Returns Invalid naming the bad fields (nothing is
// written), or Conflict when another save came first.
func (s *RuleStore) Save(ctx context.Context, actor *web.Identity, cfg RuleConfig, note string) (_ RuleConfig, err error) {
	defer fault.Annotate(&err, "detection.Save(%q)", note)
	cfg = cfg.Clone()
	if err := cfg.Validate(); err != nil {
		return RuleConfig{}, err
	}
	by := "system"
	if actor != nil {
		by = actor.Email
	}
	// The transaction may run twice (postgres.Tx): it sets cfg.Version, so it compares the
	// version the edit started from, kept here.
	editedFrom := cfg.Version
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		// One save at a time: the lock is held to the end of the transaction.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('detection_rule_settings'))`); err != nil {
			return err
		}
		before, err := loadRuleConfig(ctx, tx)
		if err != nil {
			return err
		}
		if editedFrom != before.Version {
			return fault.New(fault.Conflict, "the rules were changed (now version %d) since version %d was opened; reload and apply your changes again", before.Version, editedFrom)
		}
		cfg.Version = before.Version + 1
		for _, d := range RuleDefs {
			st := cfg.Rules[d.ID]
			params := st.Params
			if params == nil {
				params = map[string]int{}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO detection_rule_config (rule, enabled, weight, params, updated_at) VALUES ($1, $2, $3, $4, now())
				ON CONFLICT (rule) DO UPDATE SET enabled = excluded.enabled, weight = excluded.weight, params = excluded.params, updated_at = now()`,
				d.ID, st.Enabled, st.Weight, params); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO detection_rule_settings (version, review_at, block_at, hash_radius, counterfeit_words, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (only_row) DO UPDATE SET version = excluded.version, review_at = excluded.review_at, block_at = excluded.block_at,
				hash_radius = excluded.hash_radius, counterfeit_words = excluded.counterfeit_words, updated_at = now(), updated_by = excluded.updated_by`,
			cfg.Version, cfg.ReviewAt, cfg.BlockAt, cfg.HashRadius, cfg.CounterfeitWords, by); err != nil {
			return err
		}
		whole, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO detection_rule_versions (version, config, note, created_by) VALUES ($1, $2, $3, $4)`,
			cfg.Version, whole, note, by); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, actor, "rules.update", "detection_rules", strconv.FormatInt(cfg.Version, 10), changedRules(before, cfg), changedRules(cfg, before), note); err != nil {
			return err
		}
		s.hooksMu.RLock()
		hooks := slices.Clone(s.hooks)
		s.hooksMu.RUnlock()
		for _, h := range hooks {
			if err := h(ctx, tx, before, cfg); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, rulesNotifyChannel, strconv.FormatInt(cfg.Version, 10))
		return err
	})
	if err != nil {
		return RuleConfig{}, err
	}
	s.invalidate()
	return cfg, nil
}

// ruleDiff is the part of a configuration that differs from another: what the audit entry
// shows as before and after.
type ruleDiff struct {
	Version          int64                  `json:"version"`
	Rules            map[string]RuleSetting `json:"rules,omitempty"`
	ReviewAt         *int                   `json:"review_at,omitempty"`
	BlockAt          *int                   `json:"block_at,omitempty"`
	HashRadius       *int                   `json:"hash_radius,omitempty"`
	CounterfeitWords []string               `json:"counterfeit_words,omitempty"`
}

// changedRules is the settings of a that differ in b.
func changedRules(a, b RuleConfig) ruleDiff {
	d := ruleDiff{Version: a.Version}
	for _, def := range RuleDefs {
		x, y := a.Rule(def.ID), b.Rule(def.ID)
		if x.Enabled != y.Enabled || x.Weight != y.Weight || !mapsEqual(x.Params, y.Params) {
			if d.Rules == nil {
				d.Rules = map[string]RuleSetting{}
			}
			d.Rules[def.ID] = x
		}
	}
	if a.ReviewAt != b.ReviewAt {
		d.ReviewAt = &a.ReviewAt
	}
	if a.BlockAt != b.BlockAt {
		d.BlockAt = &a.BlockAt
	}
	if a.HashRadius != b.HashRadius {
		d.HashRadius = &a.HashRadius
	}
	if !slices.Equal(a.CounterfeitWords, b.CounterfeitWords) {
		d.CounterfeitWords = a.CounterfeitWords
	}
	return d
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// RuleVersion is one saved configuration.
type RuleVersion struct {
	Version   int64      `json:"version"`
	Config    RuleConfig `json:"config"`
	Note      string     `json:"note,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
}

// Versions lists the saved configurations, newest first (at most limit, 1 to 100).
func (s *RuleStore) Versions(ctx context.Context, limit int) (_ []RuleVersion, err error) {
	defer fault.Annotate(&err, "detection.Versions(%d)", limit)
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := s.db.Query(ctx, `SELECT version, config, note, created_at, created_by FROM detection_rule_versions ORDER BY version DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RuleVersion, error) {
		var v RuleVersion
		err := r.Scan(&v.Version, &v.Config, &v.Note, &v.CreatedAt, &v.CreatedBy)
		return v, err
	})
}

// Version returns one saved configuration (the one a screening used). Version 0 is the
// built-in default. Returns NotFound for a version never saved.
func (s *RuleStore) Version(ctx context.Context, version int64) (_ RuleConfig, err error) {
	defer fault.Annotate(&err, "detection.Version(%d)", version)
	if version == 0 {
		return DefaultRuleConfig(), nil
	}
	var cfg RuleConfig
	err = s.db.QueryRow(ctx, `SELECT config FROM detection_rule_versions WHERE version = $1`, version).Scan(&cfg)
	return cfg, postgres.Err(err, "rule configuration version")
}

// Start listens for other processes' saves until ctx ends or Close, so that they are used
// at once rather than when the cache expires (postgres.Follower: each notification, and each
// reconnection, empties the cache). It returns once listening has begun (or failed: the
// cache expiry still applies, and the follower keeps trying).
func (s *RuleStore) Start(ctx context.Context) (err error) {
	defer fault.Annotate(&err, "detection.Start()")
	if s.follower != nil {
		return errors.New("detection: rule store already started")
	}
	ready := make(chan struct{})
	signal := sync.OnceFunc(func() { close(ready) })
	s.follower = &postgres.Follower{
		Pool:     s.db,
		Channel:  rulesNotifyChannel,
		Handle:   func(context.Context, *pgconn.Notification) { s.invalidate() },
		OnListen: func(error) { signal() },
		Name:     "detection: rule changes (the cache expires every " + s.maxAge.String() + ")",
		Log:      s.log,
	}
	s.follower.Start(ctx)
	// Run returns without calling OnListen only when ctx ends, so waiting on ctx as well
	// keeps a cancelled Start from waiting the full five seconds.
	select {
	case <-ready:
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	return nil
}

// Close stops listening.
func (s *RuleStore) Close() {
	if s.follower == nil {
		return
	}
	s.follower.Close()
	s.follower = nil
}
