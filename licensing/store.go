package licensing

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/internal/fault"
)

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// bumpVersion advances the registry's change counter inside tx and announces it at commit.
// The row lock it takes is held to the commit, so versions become visible in order.
func bumpVersion(ctx context.Context, tx pgx.Tx) (int64, error) {
	var v int64
	if err := tx.QueryRow(ctx, "UPDATE licensing_state SET version = version + 1 RETURNING version").Scan(&v); err != nil {
		return 0, err
	}
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", notifyChannel, itoa(v))
	return v, err
}

func currentVersion(ctx context.Context, q querier) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, "SELECT version FROM licensing_state").Scan(&v)
	return v, err
}

// --- properties ---

func insertProperty(ctx context.Context, tx pgx.Tx, p Property) (bool, error) {
	tag, err := tx.Exec(ctx, "INSERT INTO properties (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING", p.Code, p.Name)
	return tag.RowsAffected() == 1, err
}

// insertMarks adds the marks not there yet (compared without case) and returns those added.
func insertMarks(ctx context.Context, tx pgx.Tx, marks []Mark) ([]Mark, error) {
	var added []Mark
	for _, m := range marks {
		tag, err := tx.Exec(ctx, `INSERT INTO property_marks (property, mark, lang) VALUES ($1, $2, $3)
			ON CONFLICT (property, lower(mark)) DO NOTHING`, m.Property, m.Text, m.Lang)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 1 {
			added = append(added, m)
		}
	}
	return added, nil
}

// lockProperty reads a property with its marks and locks its row until the transaction ends.
func lockProperty(ctx context.Context, tx pgx.Tx, code string) (Property, error) {
	p := Property{Code: code, Marks: []Mark{}}
	if err := tx.QueryRow(ctx, "SELECT name FROM properties WHERE code = $1 FOR UPDATE", code).Scan(&p.Name); err != nil {
		return Property{}, err
	}
	rows, err := tx.Query(ctx, "SELECT mark, lang FROM property_marks WHERE property = $1 ORDER BY id", code)
	if err != nil {
		return Property{}, err
	}
	marks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Mark, error) {
		m := Mark{Property: code}
		err := r.Scan(&m.Text, &m.Lang)
		return m, err
	})
	if err != nil {
		return Property{}, err
	}
	p.Marks = append(p.Marks, marks...)
	return p, nil
}

// updateProperty writes p's name and, when marks, replaces its marks by p.Marks in their order.
func updateProperty(ctx context.Context, tx pgx.Tx, p Property, marks bool) error {
	if _, err := tx.Exec(ctx, "UPDATE properties SET name = $2 WHERE code = $1", p.Code, p.Name); err != nil {
		return err
	}
	if !marks {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM property_marks WHERE property = $1", p.Code); err != nil {
		return err
	}
	_, err := insertMarks(ctx, tx, p.Marks)
	return err
}

func propertyExists(ctx context.Context, q querier, code string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM properties WHERE code = $1)", code).Scan(&ok)
	return ok, err
}

func listProperties(ctx context.Context, q querier) ([]Property, error) {
	rows, err := q.Query(ctx, `SELECT p.code, p.name, coalesce(m.mark, ''), coalesce(m.lang, '')
		FROM properties p LEFT JOIN property_marks m ON m.property = p.code ORDER BY p.code, m.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Property
	for rows.Next() {
		var code, name, mark, lang string
		if err := rows.Scan(&code, &name, &mark, &lang); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Code != code {
			out = append(out, Property{Code: code, Name: name, Marks: []Mark{}})
		}
		if mark != "" {
			p := &out[len(out)-1]
			p.Marks = append(p.Marks, Mark{Property: code, Text: mark, Lang: lang})
		}
	}
	return out, rows.Err()
}

// --- licensees ---

const licenseeColumns = "id, name, country, contact_email, created_at, updated_at"

func scanLicensee(row pgx.Row) (Licensee, error) {
	var l Licensee
	err := row.Scan(&l.ID, &l.Name, &l.Country, &l.ContactEmail, &l.CreatedAt, &l.UpdatedAt)
	return l, err
}

func insertLicensee(ctx context.Context, tx pgx.Tx, in LicenseeInput) (Licensee, error) {
	return scanLicensee(tx.QueryRow(ctx, `INSERT INTO licensees (name, country, contact_email) VALUES ($1, $2, $3)
		RETURNING `+licenseeColumns, in.Name, in.Country, in.ContactEmail))
}

func updateLicensee(ctx context.Context, tx pgx.Tx, id int64, in LicenseeInput) (Licensee, error) {
	return scanLicensee(tx.QueryRow(ctx, `UPDATE licensees SET name = $2, country = $3, contact_email = $4, updated_at = now()
		WHERE id = $1 RETURNING `+licenseeColumns, id, in.Name, in.Country, in.ContactEmail))
}

// getLicensee reads a licensee; lock takes its row lock, which serialises changes to its
// licences and authorisations.
func getLicensee(ctx context.Context, q querier, id int64, lock bool) (Licensee, error) {
	sql := "SELECT " + licenseeColumns + " FROM licensees WHERE id = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	l, err := scanLicensee(q.QueryRow(ctx, sql, id))
	if err == pgx.ErrNoRows {
		return l, fault.New(fault.NotFound, "licensee %d not found", id)
	}
	return l, err
}

func listLicensees(ctx context.Context, q querier, f LicenseeFilter) ([]Licensee, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	rows, err := q.Query(ctx, "SELECT "+licenseeColumns+` FROM licensees
		WHERE $1 = '' OR name ILIKE '%' || $1 || '%' ORDER BY lower(name), id LIMIT $2`, likeEscape(f.Query), f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Licensee, error) { return scanLicensee(r) })
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(s))
}

// --- licences ---

const licenceColumns = `l.id, l.number, l.licensee_id, e.name, l.property, l.categories, l.territories,
	l.valid_from, l.valid_to, l.royalty_bps, l.status, l.status_reason, l.status_changed_at, l.created_at, l.updated_at`

func scanLicence(row pgx.Row, extra ...any) (Licence, error) {
	var l Licence
	dest := append([]any{&l.ID, &l.Number, &l.LicenseeID, &l.LicenseeName, &l.Property, &l.Categories, &l.Territories,
		&l.ValidFrom, &l.ValidTo, &l.RoyaltyBPS, &l.Status, &l.StatusReason, &l.StatusChangedAt, &l.CreatedAt, &l.UpdatedAt}, extra...)
	err := row.Scan(dest...)
	return l, err
}

// getLicence reads one licence by "id" or "number".
func getLicence(ctx context.Context, q querier, by string, key any) (Licence, error) {
	return scanLicence(q.QueryRow(ctx, "SELECT "+licenceColumns+" FROM licences l JOIN licensees e ON e.id = l.licensee_id WHERE l."+by+" = $1", key))
}

func insertLicence(ctx context.Context, tx pgx.Tx, licenseeID int64, in LicenceInput, version int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO licences (number, licensee_id, property, categories, territories, valid_from, valid_to, royalty_bps, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		in.Number, licenseeID, in.Property, in.Categories, in.Territories, in.ValidFrom, in.ValidTo, in.RoyaltyBPS, version).Scan(&id)
	return id, err
}

func updateLicenceTerms(ctx context.Context, tx pgx.Tx, id int64, in LicenceInput, version int64) error {
	_, err := tx.Exec(ctx, `UPDATE licences SET property = $2, categories = $3, territories = $4, valid_from = $5, valid_to = $6,
		royalty_bps = $7, version = $8, updated_at = now() WHERE id = $1`,
		id, in.Property, in.Categories, in.Territories, in.ValidFrom, in.ValidTo, in.RoyaltyBPS, version)
	return err
}

func updateLicenceStatus(ctx context.Context, tx pgx.Tx, id int64, status Status, reason string, version int64) error {
	_, err := tx.Exec(ctx, `UPDATE licences SET status = $2, status_reason = $3, status_changed_at = now(), version = $4,
		updated_at = now() WHERE id = $1`, id, status, reason, version)
	return err
}

// checkOverlap refuses a grant that overlaps another licence of the same licensee (except
// licence self, and terminated ones): same property, a shared category, a shared territory
// (WORLD shares every one) and overlapping terms. Different licensees may overlap freely.
func checkOverlap(ctx context.Context, tx pgx.Tx, licenseeID, self int64, in LicenceInput) error {
	var number string
	err := tx.QueryRow(ctx, `SELECT number FROM licences
		WHERE licensee_id = $1 AND id <> $2 AND property = $3 AND status <> 'terminated'
		  AND categories && $4
		  AND (territories && $5 OR 'WORLD' = ANY (territories) OR 'WORLD' = ANY ($5))
		  AND valid_from <= $7 AND valid_to >= $6
		ORDER BY valid_from LIMIT 1`,
		licenseeID, self, in.Property, in.Categories, in.Territories, in.ValidFrom, in.ValidTo).Scan(&number)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	msg := "licence " + number + " of this licensee already covers this property, a category and a territory in this term"
	return &fault.Error{Code: fault.Conflict, Message: "the licence overlaps licence " + number,
		Fields: []fault.FieldError{
			fault.Field("territories", "%s", msg),
			fault.Field("categories", "%s", msg),
		}}
}

// listLicences lists the licences matching f; an active licence whose term ended before today
// counts as expired (Licence.StatusOn), not active.
func listLicences(ctx context.Context, q querier, f LicenceFilter, today time.Time) ([]Licence, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	rows, err := q.Query(ctx, "SELECT "+licenceColumns+` FROM licences l JOIN licensees e ON e.id = l.licensee_id
		WHERE ($1 = 0 OR l.licensee_id = $1) AND ($2 = '' OR l.property = $2) AND ($3 = '' OR CASE WHEN l.status = 'active' AND l.valid_to < $6::date THEN 'expired' ELSE l.status END = $3)
		  AND ($4 = '' OR l.number ILIKE '%' || $4 || '%' OR e.name ILIKE '%' || $4 || '%')
		ORDER BY l.valid_to DESC, l.number LIMIT $5`,
		f.LicenseeID, strings.ToUpper(f.Property), string(f.Status), likeEscape(f.Query), f.Limit, dateOnly(today).Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Licence, error) { return scanLicence(r) })
}

// heldTerritories is the union of the territories of a licensee's licences that are not
// terminated.
func heldTerritories(ctx context.Context, q querier, licenseeID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT unnest(territories) FROM licences WHERE licensee_id = $1 AND status <> 'terminated'`, licenseeID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// --- authorisations ---

const authColumns = "id, licensee_id, seller_id, territories, revoked_at, revoke_reason, created_at, updated_at"

func scanAuthorisation(row pgx.Row) (Authorisation, error) {
	var a Authorisation
	err := row.Scan(&a.ID, &a.LicenseeID, &a.SellerID, &a.Territories, &a.RevokedAt, &a.RevokeReason, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

func getAuthorisation(ctx context.Context, q querier, licenseeID, sellerID int64) (Authorisation, error) {
	return scanAuthorisation(q.QueryRow(ctx, "SELECT "+authColumns+" FROM reseller_authorisations WHERE licensee_id = $1 AND seller_id = $2", licenseeID, sellerID))
}

func upsertAuthorisation(ctx context.Context, tx pgx.Tx, licenseeID, sellerID int64, territories []string, version int64) (Authorisation, error) {
	return scanAuthorisation(tx.QueryRow(ctx, `INSERT INTO reseller_authorisations (licensee_id, seller_id, territories, version)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (licensee_id, seller_id) DO UPDATE SET territories = excluded.territories, revoked_at = NULL,
			revoke_reason = '', version = excluded.version, updated_at = now()
		RETURNING `+authColumns, licenseeID, sellerID, territories, version))
}

func revokeAuthorisation(ctx context.Context, tx pgx.Tx, id int64, reason string, version int64) (Authorisation, error) {
	return scanAuthorisation(tx.QueryRow(ctx, `UPDATE reseller_authorisations SET revoked_at = now(), revoke_reason = $2,
		version = $3, updated_at = now() WHERE id = $1 RETURNING `+authColumns, id, reason, version))
}

func listAuthorisations(ctx context.Context, q querier, by string, id int64) ([]Authorisation, error) {
	rows, err := q.Query(ctx, "SELECT "+authColumns+" FROM reseller_authorisations WHERE "+by+` = $1
		ORDER BY revoked_at IS NOT NULL, seller_id, licensee_id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Authorisation, error) { return scanAuthorisation(r) })
}

// --- serial ranges ---

const serialColumns = "id, licensee_id, product_sku, prefix, first, last, created_at"

func scanSerialRange(row pgx.Row) (SerialRange, error) {
	var r SerialRange
	err := row.Scan(&r.ID, &r.LicenseeID, &r.ProductSKU, &r.Prefix, &r.First, &r.Last, &r.CreatedAt)
	return r, err
}

func listSerialRanges(ctx context.Context, q querier, licenseeID int64) ([]SerialRange, error) {
	rows, err := q.Query(ctx, "SELECT "+serialColumns+" FROM serial_ranges WHERE licensee_id = $1 ORDER BY prefix, first", licenseeID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SerialRange, error) { return scanSerialRange(r) })
}
