package licensing

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

// CoverageQuery asks whether a seller may sell a product of Property and Category shipped to
// Country on the day On. A seller may be a licensee itself (LicenseeID), an authorised
// reseller of one or several licensees (found by SellerID), both, or neither.
type CoverageQuery struct {
	SellerID   int64  // the seller; its authorisations count (0: no seller account)
	LicenseeID int64  // the seller's own licensee, 0 if none
	Property   string // such as PARIS2024
	Category   string // one of Categories
	Country    string // ISO 3166-1 alpha-2 code the product ships to
	On         time.Time
}

// The reasons a CoverageAnswer gives. The first two allow the sale.
const (
	ReasonLicensee            = "licensee"
	ReasonAuthorisedReseller  = "authorised_reseller"
	ReasonLicenceExpired      = "licence_expired"
	ReasonLicenceNotYetValid  = "licence_not_yet_valid"
	ReasonLicenceSuspended    = "licence_suspended"
	ReasonLicenceTerminated   = "licence_terminated"
	ReasonTerritoryNotCovered = "territory_not_covered"
	ReasonCategoryNotCovered  = "category_not_covered"
	ReasonNoLicence           = "no_licence"
)

// CoverageAnswer is the answer to a CoverageQuery. When the sale is refused, Reason is the
// nearest miss (a licence that matches everything but its status or term beats one for another
// category, which beats one for another territory) and Licence that licence, if any. When it
// is allowed, Licence is the licence the sale is made under: its LicenseeID is owed the
// royalty, at RoyaltyBPS. Licence shares its slices with the snapshot: do not modify them.
type CoverageAnswer struct {
	Allowed bool
	Reason  string
	Detail  string // a sentence for people
	Licence *Licence
}

// notifyChannel carries the new version at each commit of a registry change.
const notifyChannel = "licensing_changed"

// Coverage answers a CoverageQuery, the registry's question for every other slice. While the
// service is started (Start) it answers from the in-memory snapshot, which reflects a change
// made by this process when the change returns, and one made by another process after its
// NOTIFY (or, if that is lost, the next poll). If the snapshot could not be confirmed current
// for a while (the database is unreachable), or the service is not started, it asks the
// database instead. A day On is the UTC date of On (now when zero). Returns Invalid naming
// "property", "category" or "country" when one is unknown.
func (s *Service) Coverage(ctx context.Context, q CoverageQuery) (_ CoverageAnswer, err error) {
	defer fault.Annotate(&err, "licensing.Coverage()")
	if snap := s.currentSnapshot(); snap != nil {
		nq, err := s.normalise(q, snap.properties)
		if err != nil {
			return CoverageAnswer{}, err
		}
		return snap.answer(&nq), nil
	}
	return s.CoverageFromDatabase(ctx, q)
}

// CoverageFromDatabase answers like Coverage, always from the database (one round trip); the
// benchmark compares the two, and tests hold them to the same answers.
func (s *Service) CoverageFromDatabase(ctx context.Context, q CoverageQuery) (_ CoverageAnswer, err error) {
	defer fault.Annotate(&err, "licensing.CoverageFromDatabase()")
	nq, err := s.normalise(q, nil)
	if err != nil {
		return CoverageAnswer{}, err
	}
	b := &pgx.Batch{}
	var propertyOK bool
	b.Queue("SELECT EXISTS (SELECT 1 FROM properties WHERE code = $1)", nq.property).QueryRow(func(r pgx.Row) error {
		return r.Scan(&propertyOK)
	})
	var auths []*covAuth
	b.Queue("SELECT "+authColumns+" FROM reseller_authorisations WHERE seller_id = $1 AND $1 <> 0 AND revoked_at IS NULL ORDER BY licensee_id",
		q.SellerID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			a, err := scanAuthorisation(rows)
			if err != nil {
				return err
			}
			auths = append(auths, newCovAuth(&a))
		}
		return rows.Err()
	})
	byLicensee := map[int64][]*covLicence{}
	b.Queue("SELECT "+licenceColumns+` FROM licences l JOIN licensees e ON e.id = l.licensee_id
		WHERE l.property = $1 AND l.licensee_id = ANY (array_append(ARRAY(SELECT licensee_id FROM reseller_authorisations
			WHERE seller_id = $3 AND $3 <> 0 AND revoked_at IS NULL), $2::bigint))
		ORDER BY l.id`, nq.property, q.LicenseeID, q.SellerID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			l, err := scanLicence(rows)
			if err != nil {
				return err
			}
			byLicensee[l.LicenseeID] = append(byLicensee[l.LicenseeID], newCovLicence(&l))
		}
		return rows.Err()
	})
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return CoverageAnswer{}, err
	}
	if !propertyOK {
		return CoverageAnswer{}, unknownProperty(nq.property)
	}
	j := judge{q: &nq}
	if q.LicenseeID != 0 && j.licences(byLicensee[q.LicenseeID], nil) {
		return j.result(), nil
	}
	for _, a := range auths {
		if j.reseller(a, byLicensee[a.a.LicenseeID]) {
			return j.result(), nil
		}
	}
	return j.result(), nil
}

// normQuery is a checked CoverageQuery with its category, country and day as indexes.
type normQuery struct {
	CoverageQuery
	property string
	cat      uint32
	country  int
	day      int32
}

func (s *Service) normalise(q CoverageQuery, properties map[string]bool) (normQuery, error) {
	var bad fault.Fields
	nq := normQuery{CoverageQuery: q, property: strings.ToUpper(strings.TrimSpace(q.Property))}
	if ci, ok := categoryIndex[q.Category]; ok {
		nq.cat = 1 << ci
	} else {
		bad.Add("category", "unknown category %q", q.Category)
	}
	if i, ok := countryIndex[q.Country]; ok {
		nq.country = i
	} else {
		bad.Add("country", "%q is not an ISO 3166-1 alpha-2 country code", q.Country)
	}
	if properties != nil && !properties[nq.property] {
		bad.Add("property", "unknown property %q", q.Property)
	} else if nq.property == "" {
		bad.Add("property", "is required")
	}
	if err := bad.Err("the coverage question is not valid"); err != nil {
		return nq, err
	}
	on := q.On
	if on.IsZero() {
		on = s.now()
	}
	nq.day = dayOf(on)
	return nq, nil
}

func unknownProperty(p string) error {
	return fault.Validation("the coverage question is not valid", fault.Field("property", "unknown property %q", p))
}

// countrySet is a bit per entry of countryCodes.
type countrySet [4]uint64

func (c *countrySet) add(i int)      { c[i>>6] |= 1 << (i & 63) }
func (c *countrySet) has(i int) bool { return c[i>>6]&(1<<(i&63)) != 0 }
func init() {
	if len(countryCodes) > 256 {
		panic("licensing: countrySet holds 256 countries")
	}
}

// covLicence is a licence prepared for answering: categories and territories as bit sets,
// the term as day numbers.
type covLicence struct {
	l        *Licence
	cats     uint32
	world    bool
	terr     countrySet
	from, to int32
}

func newCovLicence(l *Licence) *covLicence {
	c := &covLicence{l: l, from: dayOf(l.ValidFrom), to: dayOf(l.ValidTo)}
	for _, cat := range l.Categories {
		if i, ok := categoryIndex[cat]; ok {
			c.cats |= 1 << i
		}
	}
	c.world, c.terr = territorySet(l.Territories)
	return c
}

func territorySet(ts []string) (bool, countrySet) {
	var set countrySet
	world := false
	for _, t := range ts {
		if t == World {
			world = true
		} else if i, ok := countryIndex[t]; ok {
			set.add(i)
		}
	}
	return world, set
}

// covAuth is an authorisation (not revoked) prepared for answering.
type covAuth struct {
	a     *Authorisation
	world bool
	terr  countrySet
}

func newCovAuth(a *Authorisation) *covAuth {
	c := &covAuth{a: a}
	c.world, c.terr = territorySet(a.Territories)
	return c
}

// miss ranks refusals: a licence that fails only on status or term is nearer than one for
// another category, which is nearer than one for another territory.
const (
	rankNone = iota
	rankTerritory
	rankCategory
	rankStatus
	rankAllowed
)

type verdict struct {
	rank   int
	to     int32 // the licence's last day: among equal ranks the latest licence decides
	reason string
	cl     *covLicence // the licence the verdict is about, nil for an authorisation's territory
	via    *covAuth    // the authorisation the seller sells under, nil for its own licence
}

// judge walks the candidate licences of a question and keeps the best verdict. The answer's
// sentence and licence copy are made once, for the best verdict only: the walk allocates
// nothing.
type judge struct {
	q    *normQuery
	best verdict
}

func (j *judge) offer(v verdict) {
	if v.rank > j.best.rank || (v.rank == j.best.rank && v.to > j.best.to) {
		j.best = v
	}
}

// licences considers licences of one licensee, held by the seller itself (via nil) or by a
// licensee that authorised it (via); it reports whether one of them allows the sale.
func (j *judge) licences(ls []*covLicence, via *covAuth) bool {
	for _, cl := range ls {
		if cl.l.Property != j.q.property {
			continue
		}
		v := j.check(cl, via)
		j.offer(v)
		if v.rank == rankAllowed {
			return true
		}
	}
	return false
}

// reseller considers an authorisation and its licensee's licences.
func (j *judge) reseller(a *covAuth, ls []*covLicence) bool {
	if !a.world && !a.terr.has(j.q.country) {
		for _, cl := range ls {
			if cl.l.Property == j.q.property {
				j.offer(verdict{rank: rankTerritory, to: -1 << 30, reason: ReasonTerritoryNotCovered, via: a})
				break
			}
		}
		return false
	}
	return j.licences(ls, a)
}

func (j *judge) check(cl *covLicence, via *covAuth) verdict {
	v := verdict{to: cl.to, cl: cl, via: via}
	switch {
	case !cl.world && !cl.terr.has(j.q.country):
		v.rank, v.reason = rankTerritory, ReasonTerritoryNotCovered
	case cl.cats&j.q.cat == 0:
		v.rank, v.reason = rankCategory, ReasonCategoryNotCovered
	case cl.l.Status == StatusSuspended:
		v.rank, v.reason = rankStatus, ReasonLicenceSuspended
	case cl.l.Status == StatusTerminated:
		v.rank, v.reason = rankStatus, ReasonLicenceTerminated
	case j.q.day < cl.from:
		v.rank, v.reason = rankStatus, ReasonLicenceNotYetValid
	case j.q.day > cl.to:
		v.rank, v.reason = rankStatus, ReasonLicenceExpired
	case via == nil:
		v.rank, v.reason = rankAllowed, ReasonLicensee
	default:
		v.rank, v.reason = rankAllowed, ReasonAuthorisedReseller
	}
	return v
}

// result turns the best verdict into the answer.
func (j *judge) result() CoverageAnswer {
	v, q := j.best, j.q
	if v.rank == rankNone {
		return CoverageAnswer{Reason: ReasonNoLicence, Detail: "Neither the seller nor a licensee that authorised it holds a licence for " + q.property + "."}
	}
	a := CoverageAnswer{Allowed: v.rank == rankAllowed, Reason: v.reason}
	if v.cl == nil {
		a.Detail = "The seller is authorised by licensee " + itoa(v.via.a.LicenseeID) + " to resell only in " +
			strings.Join(v.via.a.Territories, ", ") + ", not in " + CountryName(q.Country) + "."
		return a
	}
	l := *v.cl.l
	a.Licence = &l
	name := "Licence " + l.Number + " (" + l.LicenseeName + ")"
	switch v.reason {
	case ReasonTerritoryNotCovered:
		a.Detail = name + " does not cover " + CountryName(q.Country) + "."
	case ReasonCategoryNotCovered:
		a.Detail = name + " covers " + l.Property + " in " + q.Country + " but not the category " + q.Category + "."
	case ReasonLicenceSuspended:
		a.Detail = name + " is suspended: " + l.StatusReason
	case ReasonLicenceTerminated:
		a.Detail = name + " was terminated: " + l.StatusReason
	case ReasonLicenceNotYetValid:
		a.Detail = name + " starts on " + l.ValidFrom.Format(time.DateOnly) + "."
	case ReasonLicenceExpired:
		a.Detail = name + " expired on " + l.ValidTo.Format(time.DateOnly) + "."
	default:
		a.Detail = name + " grants " + l.Property + " " + q.Category + " in " + q.Country + " until " + l.ValidTo.Format(time.DateOnly)
		if v.via == nil {
			a.Detail += "; the seller is the licensee."
		} else {
			a.Detail += "; the seller is an authorised reseller of " + l.LicenseeName + "."
		}
	}
	return a
}

// snapshot is an immutable copy of the registry's licences and live authorisations. A
// refresh builds a new one from the old (copying only the maps it changes) and swaps it in.
type snapshot struct {
	version    int64
	licensees  map[int64]*licenseeCov       // by licensee id
	sellers    map[int64]map[int64]*covAuth // seller id → licensee id → authorisation
	sellerList map[int64][]*covAuth         // the same, ordered by licensee id
	properties map[string]bool
}

// licenseeCov is one licensee's licences, by id and by property.
type licenseeCov struct {
	byID       map[int64]*covLicence
	byProperty map[string][]*covLicence
}

func (lc *licenseeCov) index() {
	lc.byProperty = map[string][]*covLicence{}
	for _, cl := range lc.byID {
		lc.byProperty[cl.l.Property] = append(lc.byProperty[cl.l.Property], cl)
	}
	for _, ls := range lc.byProperty {
		slices.SortFunc(ls, func(a, b *covLicence) int { return cmp.Compare(a.l.ID, b.l.ID) })
	}
}

func (s *snapshot) licencesOf(licenseeID int64, property string) []*covLicence {
	if lc := s.licensees[licenseeID]; lc != nil {
		return lc.byProperty[property]
	}
	return nil
}

func (s *snapshot) answer(q *normQuery) CoverageAnswer {
	j := judge{q: q}
	if q.LicenseeID != 0 && j.licences(s.licencesOf(q.LicenseeID, q.property), nil) {
		return j.result()
	}
	if q.SellerID != 0 {
		// Licensee order, so the same question always gets the same deciding licence.
		for _, a := range s.sellerList[q.SellerID] {
			if j.reseller(a, s.licencesOf(a.a.LicenseeID, q.property)) {
				return j.result()
			}
		}
	}
	return j.result()
}

// apply returns a snapshot with the changed licences and authorisations put in.
func (s *snapshot) apply(version int64, licences []Licence, auths []Authorisation, properties map[string]bool) *snapshot {
	next := &snapshot{version: version, licensees: s.licensees, sellers: s.sellers, sellerList: s.sellerList, properties: properties}
	if len(licences) > 0 {
		next.licensees = maps.Clone(s.licensees)
		touched := map[int64]*licenseeCov{}
		for i := range licences {
			l := &licences[i]
			lc := touched[l.LicenseeID]
			if lc == nil {
				lc = &licenseeCov{byID: map[int64]*covLicence{}}
				if old := s.licensees[l.LicenseeID]; old != nil {
					lc.byID = maps.Clone(old.byID)
				}
				touched[l.LicenseeID] = lc
				next.licensees[l.LicenseeID] = lc
			}
			lc.byID[l.ID] = newCovLicence(l)
		}
		for _, lc := range touched {
			lc.index()
		}
	}
	if len(auths) > 0 {
		next.sellers, next.sellerList = maps.Clone(s.sellers), maps.Clone(s.sellerList)
		touched := map[int64]bool{}
		for i := range auths {
			a := &auths[i]
			m := next.sellers[a.SellerID]
			if !touched[a.SellerID] {
				m = maps.Clone(m)
				if m == nil {
					m = map[int64]*covAuth{}
				}
				touched[a.SellerID] = true
				next.sellers[a.SellerID] = m
			}
			if a.RevokedAt != nil {
				delete(m, a.LicenseeID)
			} else {
				m[a.LicenseeID] = newCovAuth(a)
			}
		}
		for id := range touched {
			if len(next.sellers[id]) == 0 {
				delete(next.sellers, id)
				delete(next.sellerList, id)
				continue
			}
			list := slices.Collect(maps.Values(next.sellers[id]))
			slices.SortFunc(list, func(a, b *covAuth) int { return cmp.Compare(a.a.LicenseeID, b.a.LicenseeID) })
			next.sellerList[id] = list
		}
	}
	return next
}

// currentSnapshot is the snapshot to answer from, or nil to ask the database: when not
// started, or when the refresher has not confirmed the snapshot current for too long.
func (s *Service) currentSnapshot() *snapshot {
	if !s.running.Load() {
		return nil
	}
	if time.Since(time.Unix(0, s.checkedAt.Load())) > s.staleAfter() {
		return nil
	}
	return s.snap.Load()
}

func (s *Service) staleAfter() time.Duration { return 5*s.poll + 10*time.Second }

// refresh brings the snapshot up to the database's version: everything on the first call,
// then only the rows whose version is newer than the snapshot's.
func (s *Service) refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	old := s.snap.Load()
	checked := time.Now()
	if old != nil {
		v, err := currentVersion(ctx, s.db)
		if err != nil {
			return err
		}
		if v == old.version {
			s.checkedAt.Store(checked.UnixNano())
			return nil
		}
	}
	// One repeatable-read transaction sees the version and the rows as of one moment.
	var (
		v          int64
		licences   []Licence
		auths      []Authorisation
		properties map[string]bool
	)
	err := postgres.TxWithOptions(ctx, s.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if v, err = currentVersion(ctx, tx); err != nil {
			return err
		}
		var since int64 = -1
		if old != nil {
			since = old.version
		}
		rows, err := tx.Query(ctx, "SELECT "+licenceColumns+" FROM licences l JOIN licensees e ON e.id = l.licensee_id WHERE l.version > $1", since)
		if err != nil {
			return err
		}
		licences, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Licence, error) { return scanLicence(r) })
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, "SELECT "+authColumns+" FROM reseller_authorisations WHERE version > $1", since)
		if err != nil {
			return err
		}
		auths, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Authorisation, error) { return scanAuthorisation(r) })
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, "SELECT code FROM properties")
		if err != nil {
			return err
		}
		codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		properties = make(map[string]bool, len(codes))
		for _, c := range codes {
			properties[c] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if old == nil {
		old = &snapshot{licensees: map[int64]*licenseeCov{}, sellers: map[int64]map[int64]*covAuth{}, sellerList: map[int64][]*covAuth{}}
	}
	s.snap.Store(old.apply(v, licences, auths, properties))
	s.checkedAt.Store(checked.UnixNano())
	return nil
}

// refreshAfterWrite brings this process's snapshot up to a change it has just committed, so
// the caller's next Coverage sees it. The change is committed whatever happens here; a failed
// refresh is left to the refresher.
func (s *Service) refreshAfterWrite(ctx context.Context) {
	if !s.running.Load() {
		return
	}
	if err := s.refresh(context.WithoutCancel(ctx)); err != nil {
		s.log.Warn("licensing: refresh after a change", "err", err)
	}
}

// Start loads the coverage snapshot and keeps it fresh until ctx ends or Close: a follower
// listens on its own connection for the NOTIFY every change sends, and polls the version
// counter every poll interval in case a notification is lost (postgres.Follower). Returns the
// error of the first load.
func (s *Service) Start(ctx context.Context) (err error) {
	defer fault.Annotate(&err, "licensing.Start()")
	if s.running.Load() {
		return errors.New("licensing: already started")
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	s.running.Store(true)
	s.follower = &postgres.Follower{
		Pool:    s.db,
		Channel: notifyChannel,
		Poll:    s.poll,
		Handle:  func(ctx context.Context, _ *pgconn.Notification) { s.refreshLogged(ctx) },
		Name:    "licensing: coverage snapshot",
		Log:     s.log,
	}
	s.follower.Start(ctx)
	return nil
}

// Close stops the refresher; Coverage then asks the database. running is cleared first, so
// that no caller trusts the snapshot while the follower winds down.
func (s *Service) Close() {
	if s.follower == nil {
		return
	}
	s.running.Store(false)
	s.follower.Close()
	s.follower = nil
}

func (s *Service) refreshLogged(ctx context.Context) {
	if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("licensing: refresh coverage snapshot", "err", err)
	}
}
