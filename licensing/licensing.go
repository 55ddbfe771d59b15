// Package licensing is the licensee registry: the Olympic properties and their marks, the
// licensees, their licences (property, categories, territories, term, royalty, status), the
// resellers a licensee authorises, the hologram serial ranges it registers, and the public
// verification of licences and serials.
//
// Its one question for every other slice is Coverage: may this seller sell a product of this
// property and category, shipped to this country, on this day? The answer comes from an
// in-memory snapshot of the licences and authorisations that every process keeps fresh by
// polling a version counter and listening for NOTIFY (coverage.go).
//
// Every change is written with its audit entry in one transaction, and the hooks registered
// with OnLicenceChange and OnResellerChange run inside that transaction too.
package licensing

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/biter777/countries"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/audit"
	"marketplace/internal/auth"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the registry's tables. It needs auth.Schema (it adds the users → licensees key)
// and audit.Schema first; Schemas lists all three in order.
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "licensing", FS: sub}
}()

// Schemas is this slice's schema after the ones it depends on.
func Schemas() []postgres.Schema {
	return []postgres.Schema{auth.Schema, audit.Schema, Schema}
}

// Category is a product category a licence grants.
type Category struct {
	Code        string
	Description string
}

// Categories is the fixed list of product categories a licence may grant, in display order.
// Catalogue rows and listings name one of these codes.
var Categories = []Category{
	{"apparel", "Clothing: T-shirts, hoodies, jackets, sportswear"},
	{"headwear", "Caps, beanies, hats, headbands"},
	{"footwear", "Shoes, trainers, socks"},
	{"bags", "Backpacks, tote bags, sports bags"},
	{"accessories", "Scarves, gloves, lanyards, umbrellas, phone cases"},
	{"pins", "Enamel pins and badges"},
	{"toys", "Plush mascots, games, puzzles"},
	{"collectibles", "Medals replicas, coins, figurines, limited editions"},
	{"homeware", "Mugs, towels, kitchen and home goods"},
	{"stationery", "Notebooks, pens, posters, postcards"},
	{"jewellery", "Jewellery and watches"},
	{"sporting_goods", "Balls, equipment, fan gear"},
}

// categoryIndex maps a category code to its bit in a licence's category set.
var categoryIndex = func() map[string]uint {
	m := make(map[string]uint, len(Categories))
	for i, c := range Categories {
		m[c.Code] = uint(i)
	}
	return m
}()

// IsCategory reports whether code is one of Categories.
func IsCategory(code string) bool {
	_, ok := categoryIndex[code]
	return ok
}

// World is the territory that stands for every country.
const World = "WORLD"

// withdrawnCodes are alpha-2 codes the countries package still lists although ISO 3166-1
// withdrew them (Netherlands Antilles in 2010, Yugoslavia in 2003); new licences must not
// name them. XK (Kosovo) stays: it is user-assigned but universally used for Kosovo.
var withdrawnCodes = map[string]bool{"AN": true, "YU": true}

// countryCodes is the ISO 3166-1 alpha-2 list from github.com/biter777/countries, sorted; the
// index of a code is its bit in a territory set. countryNames holds their English names.
var countryCodes, countryIndex, countryNames = func() ([]string, map[string]int, map[string]string) {
	var codes []string
	names := map[string]string{}
	for _, c := range countries.All() {
		if a := c.Alpha2(); len(a) == 2 && !withdrawnCodes[a] {
			codes = append(codes, a)
			names[a] = c.String()
		}
	}
	sort.Strings(codes)
	codes = slices.Compact(codes)
	idx := make(map[string]int, len(codes))
	for i, c := range codes {
		idx[c] = i
	}
	return codes, idx, names
}()

// IsCountry reports whether code is an assigned ISO 3166-1 alpha-2 code (upper case).
func IsCountry(code string) bool {
	_, ok := countryIndex[code]
	return ok
}

// CountryName is the English name of an ISO 3166-1 alpha-2 code, or the code itself.
func CountryName(code string) string {
	if code == World {
		return "the whole world"
	}
	if n, ok := countryNames[code]; ok {
		return n
	}
	return code
}

// Countries lists the ISO 3166-1 alpha-2 codes a territory may name.
func Countries() []string { return slices.Clone(countryCodes) }

// ValidateTerritories checks a list of territories: each an assigned ISO 3166-1 alpha-2 code
// in upper case, or WORLD alone; at least one. Returns Invalid naming the field "territories".
func ValidateTerritories(ts []string) error {
	var bad fault.Fields
	checkTerritories("territories", ts, &bad)
	return bad.Err("the territories are not valid")
}

// normaliseTerritories trims, upper-cases, de-duplicates and sorts territories, and adds what
// is wrong with them to bad under field.
func normaliseTerritories(field string, in []string, bad *fault.Fields) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		t = strings.ToUpper(strings.TrimSpace(t))
		if t != "" {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	out = slices.Compact(out)
	checkTerritories(field, out, bad)
	return out
}

func checkTerritories(field string, ts []string, bad *fault.Fields) {
	if len(ts) == 0 {
		bad.Add(field, "name at least one territory: ISO 3166-1 alpha-2 codes such as FR, or WORLD")
		return
	}
	var unknown []string
	for _, t := range ts {
		if t == World {
			if len(ts) > 1 {
				bad.Add(field, "WORLD covers every country; name it alone")
			}
			continue
		}
		if !IsCountry(t) {
			unknown = append(unknown, t)
		}
	}
	if len(unknown) > 0 {
		bad.Add(field, "%s: not an ISO 3166-1 alpha-2 country code (use upper-case codes such as FR, US, JP)", strings.Join(unknown, ", "))
	}
}

// Status is where a licence stands.
type Status string

// The statuses of a licence. A suspended licence may be reinstated; a terminated one is final.
const (
	StatusActive     Status = "active"
	StatusSuspended  Status = "suspended"
	StatusTerminated Status = "terminated"
	// StatusExpired is never stored: it is how an active licence whose term has ended is
	// shown (StatusOn), so that the registry never calls it active.
	StatusExpired Status = "expired"
)

// StatusOn is the status to show on the day on: the stored status, except that an active
// licence whose term ended before on is expired.
func (l *Licence) StatusOn(on time.Time) Status {
	if l.Status == StatusActive && dayOf(on) > dayOf(l.ValidTo) {
		return StatusExpired
	}
	return l.Status
}

// Property is a licensable Olympic property with the marks that claim it.
type Property struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Marks []Mark `json:"marks"`
}

// Mark is a word or phrase whose use in a listing claims a property. Lang is a BCP 47 tag, or
// empty when the mark is written the same in every language.
type Mark struct {
	Property string `json:"property"`
	Text     string `json:"text"`
	Lang     string `json:"lang,omitempty"`
}

// Licensee is a company licensed to make merchandise.
type Licensee struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Country      string    `json:"country"`
	ContactEmail string    `json:"contact_email"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Licence is one grant to a licensee. ValidFrom and ValidTo are dates (midnight UTC), both
// days included. Values handed out by the service share their slices: do not modify them.
type Licence struct {
	ID              int64
	Number          string
	LicenseeID      int64
	LicenseeName    string
	Property        string
	Categories      []string
	Territories     []string
	ValidFrom       time.Time
	ValidTo         time.Time
	RoyaltyBPS      int
	Status          Status
	StatusReason    string
	StatusChangedAt *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// InForce reports whether the licence is active and on holds the day on (UTC).
func (l *Licence) InForce(on time.Time) bool {
	d := dayOf(on)
	return l.Status == StatusActive && d >= dayOf(l.ValidFrom) && d <= dayOf(l.ValidTo)
}

// Covers reports whether the licence's territories include country (WORLD includes all).
func (l *Licence) Covers(country string) bool {
	return slices.Contains(l.Territories, World) || slices.Contains(l.Territories, country)
}

// Authorisation lets a seller resell a licensee's licensed goods in some of its territories.
type Authorisation struct {
	ID           int64      `json:"id"`
	LicenseeID   int64      `json:"licensee_id"`
	SellerID     int64      `json:"seller_id"`
	Territories  []string   `json:"territories"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// SerialRange is a licensee's range of hologram serials for one product: Prefix followed by
// every number from First to Last.
type SerialRange struct {
	ID         int64     `json:"id"`
	LicenseeID int64     `json:"licensee_id"`
	ProductSKU string    `json:"product_sku"`
	Prefix     string    `json:"prefix"`
	First      int64     `json:"first"`
	Last       int64     `json:"last"`
	CreatedAt  time.Time `json:"created_at"`
}

// Size is how many serials the range holds.
func (r SerialRange) Size() int64 { return r.Last - r.First + 1 }

// LicenceChange is what a hook hears about a licence: Action is "licence.create",
// "licence.update", "licence.suspend", "licence.terminate" or "licence.reinstate"; Before is nil
// for a new licence.
type LicenceChange struct {
	Action string
	Before *Licence
	After  Licence
}

// ResellerChange is what a hook hears about an authorisation: Action is "reseller.authorise"
// or "reseller.revoke"; Before is nil for a new one.
type ResellerChange struct {
	Action string
	Before *Authorisation
	After  Authorisation
}

// LicenceHook reacts to a licence change inside the transaction that makes it; an error undoes
// the change. The catalogue hides listings of a suspended licence here, detection enqueues
// re-screening with River's InsertTx.
type LicenceHook func(ctx context.Context, tx pgx.Tx, ch LicenceChange) error

// ResellerHook reacts to an authorisation change inside its transaction, like LicenceHook.
type ResellerHook func(ctx context.Context, tx pgx.Tx, ch ResellerChange) error

// SerialPolicy says when a serial is suspicious: checked from at least Countries distinct
// countries, or at least Checks times, within Window (a genuine hologram is on one item, in
// one place, checked a few times).
type SerialPolicy struct {
	Window    time.Duration
	Countries int
	Checks    int
}

// DefaultSerialPolicy: three countries, or 20 checks, within 90 days.
var DefaultSerialPolicy = SerialPolicy{Window: 90 * 24 * time.Hour, Countries: 3, Checks: 20}

// Option changes how a Service is made.
type Option func(*Service)

// WithClock sets the service's clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithSerialPolicy sets when a serial counts as suspicious.
func WithSerialPolicy(p SerialPolicy) Option { return func(s *Service) { s.serials = p } }

// WithPollInterval sets how often the coverage snapshot checks the version counter when no
// NOTIFY arrives (the safety net for a lost listening connection).
func WithPollInterval(d time.Duration) Option { return func(s *Service) { s.poll = d } }

// WithLogger sets where the refresher reports trouble.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// Service is the registry's rules over its tables.
type Service struct {
	db      *pgxpool.Pool
	now     func() time.Time
	serials SerialPolicy
	poll    time.Duration
	log     *slog.Logger

	snap      atomic.Pointer[snapshot]
	checkedAt atomic.Int64 // unix nanoseconds when the snapshot was last known current
	running   atomic.Bool
	refreshMu sync.Mutex
	follower  *postgres.Follower // the refresher, made by Start; nil before

	hooksMu       sync.RWMutex
	licenceHooks  []LicenceHook
	resellerHooks []ResellerHook
}

// NewService returns the registry service. Call Start to answer Coverage from the in-memory
// snapshot; until then it asks the database.
func NewService(db *pgxpool.Pool, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now, serials: DefaultSerialPolicy, poll: 2 * time.Second, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// OnLicenceChange registers fn to run inside every licence change's transaction. Register
// hooks at start-up, before serving.
func (s *Service) OnLicenceChange(fn LicenceHook) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.licenceHooks = append(s.licenceHooks, fn)
}

// OnResellerChange registers fn to run inside every authorisation change's transaction.
func (s *Service) OnResellerChange(fn ResellerHook) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.resellerHooks = append(s.resellerHooks, fn)
}

func (s *Service) runLicenceHooks(ctx context.Context, tx pgx.Tx, ch LicenceChange) error {
	s.hooksMu.RLock()
	hooks := slices.Clone(s.licenceHooks)
	s.hooksMu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, tx, ch); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) runResellerHooks(ctx context.Context, tx pgx.Tx, ch ResellerChange) error {
	s.hooksMu.RLock()
	hooks := slices.Clone(s.resellerHooks)
	s.hooksMu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, tx, ch); err != nil {
			return err
		}
	}
	return nil
}

// --- Licensees ---

// LicenseeInput is what an admin gives to create or edit a licensee.
type LicenseeInput struct {
	Name         string `json:"name"`
	Country      string `json:"country"`
	ContactEmail string `json:"contact_email"`
}

func (in *LicenseeInput) validate() error {
	var bad fault.Fields
	in.Name = strings.TrimSpace(in.Name)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	in.ContactEmail = strings.ToLower(strings.TrimSpace(in.ContactEmail))
	switch {
	case in.Name == "":
		bad.Add("name", "is required")
	case len(in.Name) > 200:
		bad.Add("name", "must be at most 200 characters")
	}
	if !IsCountry(in.Country) {
		bad.Add("country", "must be an ISO 3166-1 alpha-2 country code such as FR")
	}
	if a, err := mail.ParseAddress(in.ContactEmail); err != nil || a.Address != in.ContactEmail {
		bad.Add("contact_email", "must be an e-mail address")
	}
	return bad.Err("the licensee is not valid")
}

// CreateLicensee registers a licensee. Returns Invalid naming the bad fields, and Invalid on
// "name" when another licensee has that name.
func (s *Service) CreateLicensee(ctx context.Context, actor *web.Identity, in LicenseeInput) (_ Licensee, err error) {
	defer fault.Annotate(&err, "licensing.CreateLicensee()")
	if err := in.validate(); err != nil {
		return Licensee{}, err
	}
	var l Licensee
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		if l, err = insertLicensee(ctx, tx, in); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, "licensee.create", "licensee", itoa(l.ID), nil, l, "")
	})
	return l, licenseeErr(err)
}

// UpdateLicensee changes a licensee's name, country and contact. Returns NotFound for an
// unknown id and Invalid as CreateLicensee does.
func (s *Service) UpdateLicensee(ctx context.Context, actor *web.Identity, id int64, in LicenseeInput) (_ Licensee, err error) {
	defer fault.Annotate(&err, "licensing.UpdateLicensee(%d)", id)
	if err := in.validate(); err != nil {
		return Licensee{}, err
	}
	var after Licensee
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		before, err := getLicensee(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if after, err = updateLicensee(ctx, tx, id, in); err != nil {
			return err
		}
		if before.Name != after.Name {
			// Licences carry their licensee's name into the coverage snapshot.
			v, err := bumpVersion(ctx, tx)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE licences SET version = $2 WHERE licensee_id = $1", id, v); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, actor, "licensee.update", "licensee", itoa(id), before, after, "")
	})
	if err != nil {
		return Licensee{}, licenseeErr(err)
	}
	s.refreshAfterWrite(ctx)
	return after, nil
}

func licenseeErr(err error) error {
	if fault.Is(postgres.Err(err, ""), fault.Conflict) {
		return fault.Validation("the licensee is not valid", fault.Field("name", "another licensee has this name"))
	}
	return postgres.Err(err, "licensee")
}

// Licensee returns one licensee. Returns NotFound for an unknown id.
func (s *Service) Licensee(ctx context.Context, id int64) (_ Licensee, err error) {
	defer fault.Annotate(&err, "licensing.Licensee(%d)", id)
	l, err := getLicensee(ctx, s.db, id, false)
	return l, postgres.Err(err, "licensee")
}

// LicenseeFilter narrows Licensees: Query matches the name (any part, any case).
type LicenseeFilter struct {
	Query string
	Limit int
}

// Licensees lists licensees by name.
func (s *Service) Licensees(ctx context.Context, f LicenseeFilter) (_ []Licensee, err error) {
	defer fault.Annotate(&err, "licensing.Licensees()")
	return listLicensees(ctx, s.db, f)
}

// --- Licences ---

// LicenceInput is what an admin gives to grant or edit a licence. Number is ignored on edit.
type LicenceInput struct {
	Number      string
	Property    string
	Categories  []string
	Territories []string
	ValidFrom   time.Time
	ValidTo     time.Time
	RoyaltyBPS  int
}

var licenceNumber = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,39}$`)

// validate normalises in and checks every field, so one answer names every mistake.
func (s *Service) validateLicence(ctx context.Context, q querier, in *LicenceInput, isNew bool) error {
	var bad fault.Fields
	if isNew {
		in.Number = strings.ToUpper(strings.TrimSpace(in.Number))
		if !licenceNumber.MatchString(in.Number) {
			bad.Add("number", "3 to 40 upper-case letters, digits and hyphens, such as PAR24-APP-0001")
		}
	}
	in.Property = strings.ToUpper(strings.TrimSpace(in.Property))
	if in.Property == "" {
		bad.Add("property", "is required")
	} else if ok, err := propertyExists(ctx, q, in.Property); err != nil {
		return err
	} else if !ok {
		bad.Add("property", "unknown property %q", in.Property)
	}
	cats := make([]string, 0, len(in.Categories))
	for _, c := range in.Categories {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if !IsCategory(c) {
			bad.Add("categories", "unknown category %q; the categories are %s", c, categoryList())
			continue
		}
		cats = append(cats, c)
	}
	if len(in.Categories) == 0 {
		bad.Add("categories", "name at least one category: %s", categoryList())
	}
	slices.SortFunc(cats, func(a, b string) int { return int(categoryIndex[a]) - int(categoryIndex[b]) })
	in.Categories = slices.Compact(cats)
	in.Territories = normaliseTerritories("territories", in.Territories, &bad)
	if in.ValidFrom.IsZero() {
		bad.Add("valid_from", "is required (a date such as 2024-01-01)")
	}
	if in.ValidTo.IsZero() {
		bad.Add("valid_to", "is required (a date such as 2028-12-31)")
	}
	in.ValidFrom, in.ValidTo = dateOnly(in.ValidFrom), dateOnly(in.ValidTo)
	if !in.ValidFrom.IsZero() && !in.ValidTo.IsZero() && in.ValidTo.Before(in.ValidFrom) {
		bad.Add("valid_to", "must not be before valid_from (%s)", in.ValidFrom.Format(time.DateOnly))
	}
	if in.RoyaltyBPS < 0 || in.RoyaltyBPS > 10000 {
		bad.Add("royalty_bps", "must be between 0 and 10000 basis points (0%% to 100%%)")
	}
	return bad.Err("the licence is not valid")
}

// licenceFields are a licence's fields in the order its form and API name their problems.
var licenceFields = []string{"number", "property", "categories", "territories", "valid_from", "valid_to", "royalty_bps"}

// everyProblem adds to a request's unreadable fields (parsed, an Invalid error) the problems
// the other fields of in have, so that one answer names every mistake. Each field keeps the
// first problem found: an unreadable date is not also "required".
func (s *Service) everyProblem(ctx context.Context, in LicenceInput, isNew bool, parsed error) error {
	first, ok := fault.As(parsed)
	if !ok || first.Code != fault.Invalid {
		return parsed
	}
	fields := slices.Clone(first.Fields)
	named := map[string]bool{}
	for _, f := range fields {
		named[f.Field] = true
	}
	if err := s.validateLicence(ctx, s.db, &in, isNew); err != nil {
		more, ok := fault.As(err)
		if !ok {
			return err
		}
		for _, f := range more.Fields {
			if !named[f.Field] {
				fields = append(fields, f)
			}
		}
	}
	order := func(f fault.FieldError) int {
		if i := slices.Index(licenceFields, f.Field); i >= 0 {
			return i
		}
		return len(licenceFields)
	}
	slices.SortStableFunc(fields, func(a, b fault.FieldError) int { return order(a) - order(b) })
	return fault.Validation(first.Message, fields...)
}

func categoryList() string {
	codes := make([]string, len(Categories))
	for i, c := range Categories {
		codes[i] = c.Code
	}
	return strings.Join(codes, ", ")
}

// CreateLicence grants a licence to a licensee. Returns NotFound for an unknown licensee,
// Invalid naming the bad fields (unknown property or category, bad territory, valid_to before
// valid_from, royalty out of 0..10000), Conflict on "number" when the number is taken, and
// Conflict when the licensee already holds a licence (not terminated) for the same property
// with a shared category and territory and an overlapping term.
func (s *Service) CreateLicence(ctx context.Context, actor *web.Identity, licenseeID int64, in LicenceInput) (_ Licence, err error) {
	defer fault.Annotate(&err, "licensing.CreateLicence(%d)", licenseeID)
	if err := s.validateLicence(ctx, s.db, &in, true); err != nil {
		return Licence{}, err
	}
	var l Licence
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		// Locking the licensee serialises its licence changes, so two overlapping grants
		// cannot both pass the overlap check.
		if _, err := getLicensee(ctx, tx, licenseeID, true); err != nil {
			return postgres.Err(err, "licensee")
		}
		if err := checkOverlap(ctx, tx, licenseeID, 0, in); err != nil {
			return err
		}
		v, err := bumpVersion(ctx, tx)
		if err != nil {
			return err
		}
		id, err := insertLicence(ctx, tx, licenseeID, in, v)
		if err != nil {
			if fault.Is(postgres.Err(err, ""), fault.Conflict) {
				return &fault.Error{Code: fault.Conflict, Message: "the licence number is taken",
					Fields: []fault.FieldError{fault.Field("number", "licence %s exists already", in.Number)}}
			}
			return err
		}
		if l, err = getLicence(ctx, tx, "id", id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, actor, "licence.create", "licence", l.Number, nil, l, ""); err != nil {
			return err
		}
		return s.runLicenceHooks(ctx, tx, LicenceChange{Action: "licence.create", After: l})
	})
	if err != nil {
		return Licence{}, postgres.Err(err, "licence")
	}
	s.refreshAfterWrite(ctx)
	return l, nil
}

// UpdateLicence changes a licence's property, categories, territories, term and royalty (its
// number, licensee and status stay). Returns NotFound for an unknown number, Unprocessable for
// a terminated licence, and Invalid or Conflict as CreateLicence does.
func (s *Service) UpdateLicence(ctx context.Context, actor *web.Identity, number string, in LicenceInput) (_ Licence, err error) {
	defer fault.Annotate(&err, "licensing.UpdateLicence(%q)", number)
	if err := s.validateLicence(ctx, s.db, &in, false); err != nil {
		return Licence{}, err
	}
	var after Licence
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		before, err := s.lockLicence(ctx, tx, number)
		if err != nil {
			return err
		}
		if before.Status == StatusTerminated {
			return fault.New(fault.Unprocessable, "licence %s is terminated; grant a new licence instead", before.Number)
		}
		if err := checkOverlap(ctx, tx, before.LicenseeID, before.ID, in); err != nil {
			return err
		}
		v, err := bumpVersion(ctx, tx)
		if err != nil {
			return err
		}
		if err := updateLicenceTerms(ctx, tx, before.ID, in, v); err != nil {
			return err
		}
		if after, err = getLicence(ctx, tx, "id", before.ID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, actor, "licence.update", "licence", after.Number, before, after, ""); err != nil {
			return err
		}
		return s.runLicenceHooks(ctx, tx, LicenceChange{Action: "licence.update", Before: &before, After: after})
	})
	if err != nil {
		return Licence{}, postgres.Err(err, "licence")
	}
	s.refreshAfterWrite(ctx)
	return after, nil
}

// lockLicence reads a licence and locks its licensee (see CreateLicence) and the licence.
func (s *Service) lockLicence(ctx context.Context, tx pgx.Tx, number string) (Licence, error) {
	l, err := getLicence(ctx, tx, "number", normaliseNumber(number))
	if err != nil {
		return Licence{}, postgres.Err(err, "licence")
	}
	if _, err := getLicensee(ctx, tx, l.LicenseeID, true); err != nil {
		return Licence{}, err
	}
	return getLicence(ctx, tx, "number", l.Number)
}

// SetLicenceStatus suspends, terminates or reinstates a licence, with the reason (required to
// suspend or terminate). It takes effect at once for Coverage in this process, within the
// poll interval (or at the NOTIFY) in others, and the hooks hide or re-screen listings.
// Returns NotFound for an unknown number, Invalid for an unknown status or a missing reason,
// and Unprocessable for a change from terminated or to the status the licence already has.
func (s *Service) SetLicenceStatus(ctx context.Context, actor *web.Identity, number string, status Status, reason string) (_ Licence, err error) {
	defer fault.Annotate(&err, "licensing.SetLicenceStatus(%q, %q)", number, reason)
	reason = strings.TrimSpace(reason)
	var bad fault.Fields
	switch status {
	case StatusActive, StatusSuspended, StatusTerminated:
	default:
		bad.Add("status", "must be active, suspended or terminated")
	}
	if status != StatusActive && reason == "" {
		bad.Add("reason", "say why the licence is %s", status)
	}
	if len(reason) > 1000 {
		bad.Add("reason", "must be at most 1000 characters")
	}
	if err := bad.Err("the status cannot be changed"); err != nil {
		return Licence{}, err
	}
	action := map[Status]string{StatusActive: "licence.reinstate", StatusSuspended: "licence.suspend", StatusTerminated: "licence.terminate"}[status]
	var after Licence
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		before, err := s.lockLicence(ctx, tx, number)
		if err != nil {
			return err
		}
		switch {
		case before.Status == StatusTerminated:
			return fault.New(fault.Unprocessable, "licence %s is terminated, which is final", before.Number)
		case before.Status == status:
			return fault.New(fault.Unprocessable, "licence %s is %s already", before.Number, status)
		}
		if status == StatusActive {
			// A reinstated licence must not overlap one granted while it was suspended.
			in := LicenceInput{Property: before.Property, Categories: before.Categories, Territories: before.Territories, ValidFrom: before.ValidFrom, ValidTo: before.ValidTo}
			if err := checkOverlap(ctx, tx, before.LicenseeID, before.ID, in); err != nil {
				return err
			}
		}
		v, err := bumpVersion(ctx, tx)
		if err != nil {
			return err
		}
		if err := updateLicenceStatus(ctx, tx, before.ID, status, reason, v); err != nil {
			return err
		}
		if after, err = getLicence(ctx, tx, "id", before.ID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, actor, action, "licence", after.Number, before, after, reason); err != nil {
			return err
		}
		return s.runLicenceHooks(ctx, tx, LicenceChange{Action: action, Before: &before, After: after})
	})
	if err != nil {
		return Licence{}, postgres.Err(err, "licence")
	}
	s.refreshAfterWrite(ctx)
	return after, nil
}

func normaliseNumber(n string) string { return strings.ToUpper(strings.TrimSpace(n)) }

// LicenceByNumber returns a licence. Returns NotFound for an unknown number.
func (s *Service) LicenceByNumber(ctx context.Context, number string) (_ Licence, err error) {
	defer fault.Annotate(&err, "licensing.LicenceByNumber(%q)", number)
	l, err := getLicence(ctx, s.db, "number", normaliseNumber(number))
	return l, postgres.Err(err, "licence")
}

// LicencesOf lists a licensee's licences, every status, newest term first.
func (s *Service) LicencesOf(ctx context.Context, licenseeID int64) (_ []Licence, err error) {
	defer fault.Annotate(&err, "licensing.LicencesOf(%d)", licenseeID)
	return listLicences(ctx, s.db, LicenceFilter{LicenseeID: licenseeID, Limit: 1000}, s.now())
}

// LicensesOf is LicencesOf under the spelling the wiring brief used.
func (s *Service) LicensesOf(ctx context.Context, licenseeID int64) (_ []Licence, err error) {
	defer fault.Annotate(&err, "licensing.LicensesOf(%d)", licenseeID)
	return s.LicencesOf(ctx, licenseeID)
}

// LicenceFilter narrows SearchLicences; zero fields match everything. Query matches the
// number or the licensee's name.
type LicenceFilter struct {
	Query      string
	LicenseeID int64
	Property   string
	Status     Status
	Limit      int
}

// SearchLicences lists licences matching f, newest term first.
func (s *Service) SearchLicences(ctx context.Context, f LicenceFilter) (_ []Licence, err error) {
	defer fault.Annotate(&err, "licensing.SearchLicences()")
	return listLicences(ctx, s.db, f, s.now())
}

// --- Resellers ---

// AuthoriseReseller lets a seller resell the licensee's goods in territories, each of which
// one of the licensee's licences (not terminated) must cover. Authorising the same seller
// again replaces its territories (and lifts a revocation). Returns NotFound for an unknown
// licensee, Invalid on "seller_id" or "territories".
func (s *Service) AuthoriseReseller(ctx context.Context, actor *web.Identity, licenseeID, sellerID int64, territories []string) (_ Authorisation, err error) {
	defer fault.Annotate(&err, "licensing.AuthoriseReseller(%d, %d)", licenseeID, sellerID)
	var bad fault.Fields
	if sellerID <= 0 {
		bad.Add("seller_id", "is required")
	}
	territories = normaliseTerritories("territories", territories, &bad)
	if err := bad.Err("the reseller cannot be authorised"); err != nil {
		return Authorisation{}, err
	}
	var after Authorisation
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := getLicensee(ctx, tx, licenseeID, true); err != nil {
			return postgres.Err(err, "licensee")
		}
		held, err := heldTerritories(ctx, tx, licenseeID)
		if err != nil {
			return err
		}
		if missing := notHeld(territories, held); len(missing) > 0 {
			return fault.Validation("the reseller cannot be authorised", fault.Field("territories",
				"%s: no licence of this licensee covers it", strings.Join(missing, ", ")))
		}
		before, err := getAuthorisation(ctx, tx, licenseeID, sellerID)
		if err != nil && !fault.Is(postgres.Err(err, ""), fault.NotFound) {
			return err
		}
		v, err := bumpVersion(ctx, tx)
		if err != nil {
			return err
		}
		if after, err = upsertAuthorisation(ctx, tx, licenseeID, sellerID, territories, v); err != nil {
			return err
		}
		ch := ResellerChange{Action: "reseller.authorise", After: after}
		if before.ID != 0 {
			ch.Before = &before
		}
		if err := audit.Record(ctx, tx, actor, ch.Action, "reseller", authKey(licenseeID, sellerID), ch.Before, after, ""); err != nil {
			return err
		}
		return s.runResellerHooks(ctx, tx, ch)
	})
	if err != nil {
		return Authorisation{}, postgres.Err(err, "licensee")
	}
	s.refreshAfterWrite(ctx)
	return after, nil
}

// RevokeReseller ends a seller's authorisation, with the reason. Returns NotFound when the
// seller holds no authorisation of the licensee, Invalid without a reason, Unprocessable when
// it is revoked already.
func (s *Service) RevokeReseller(ctx context.Context, actor *web.Identity, licenseeID, sellerID int64, reason string) (_ Authorisation, err error) {
	defer fault.Annotate(&err, "licensing.RevokeReseller(%d, %d, %q)", licenseeID, sellerID, reason)
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Authorisation{}, fault.Validation("the authorisation cannot be revoked", fault.Field("reason", "say why the authorisation ends"))
	}
	var after Authorisation
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		before, err := getAuthorisation(ctx, tx, licenseeID, sellerID)
		if err != nil {
			return postgres.Err(err, "authorisation")
		}
		if before.RevokedAt != nil {
			return fault.New(fault.Unprocessable, "seller %d's authorisation is revoked already", sellerID)
		}
		v, err := bumpVersion(ctx, tx)
		if err != nil {
			return err
		}
		if after, err = revokeAuthorisation(ctx, tx, before.ID, reason, v); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, actor, "reseller.revoke", "reseller", authKey(licenseeID, sellerID), before, after, reason); err != nil {
			return err
		}
		return s.runResellerHooks(ctx, tx, ResellerChange{Action: "reseller.revoke", Before: &before, After: after})
	})
	if err != nil {
		return Authorisation{}, err
	}
	s.refreshAfterWrite(ctx)
	return after, nil
}

// Resellers lists a licensee's authorisations, revoked ones last.
func (s *Service) Resellers(ctx context.Context, licenseeID int64) (_ []Authorisation, err error) {
	defer fault.Annotate(&err, "licensing.Resellers(%d)", licenseeID)
	return listAuthorisations(ctx, s.db, "licensee_id", licenseeID)
}

// AuthorisationsOf lists the authorisations a seller holds (revoked ones too).
func (s *Service) AuthorisationsOf(ctx context.Context, sellerID int64) (_ []Authorisation, err error) {
	defer fault.Annotate(&err, "licensing.AuthorisationsOf(%d)", sellerID)
	return listAuthorisations(ctx, s.db, "seller_id", sellerID)
}

func authKey(licenseeID, sellerID int64) string { return itoa(licenseeID) + "/" + itoa(sellerID) }

func notHeld(want, held []string) []string {
	if slices.Contains(held, World) {
		return nil
	}
	var missing []string
	for _, t := range want {
		if !slices.Contains(held, t) {
			missing = append(missing, t)
		}
	}
	return missing
}

// --- Audit ---

// AuditLog lists the registry's audit entries, newest first; entity is "licensee",
// "licence", "reseller", "serial_range" or "property", or empty for all of them.
func (s *Service) AuditLog(ctx context.Context, entity, entityID string, limit int) (_ []audit.Entry, err error) {
	defer fault.Annotate(&err, "licensing.AuditLog(%q, %q, %d)", entity, entityID, limit)
	return audit.List(ctx, s.db, audit.Filter{Entity: entity, EntityID: entityID, Limit: limit})
}

// --- helpers ---

// dateOnly drops the time of day, keeping the calendar date as written.
func dateOnly(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dayOf is the UTC calendar day of t, counted from 1970-01-01.
func dayOf(t time.Time) int32 {
	return int32(t.UTC().Unix() / 86400)
}
