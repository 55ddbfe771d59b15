package licensing

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

// SerialRangeInput is what an admin gives to register hologram serials.
type SerialRangeInput struct {
	ProductSKU string `json:"product_sku"`
	Prefix     string `json:"prefix"`
	First      int64  `json:"first"`
	Last       int64  `json:"last"`
}

// A prefix ends in a letter or hyphen, so a serial splits cleanly into prefix and number.
var serialPrefix = regexp.MustCompile(`^[A-Z0-9-]{0,15}[A-Z-]$`)

// maxSerial keeps numbers well inside bigint and serials readable (15 digits).
const maxSerial = 999_999_999_999_999

// RegisterSerialRange records a range of hologram serials for one of the licensee's products.
// Returns NotFound for an unknown licensee, Invalid naming the bad field, and Conflict naming
// "first" and "last" when the range overlaps one registered under the same prefix.
func (s *Service) RegisterSerialRange(ctx context.Context, actor *web.Identity, licenseeID int64, in SerialRangeInput) (_ SerialRange, err error) {
	defer fault.Annotate(&err, "licensing.RegisterSerialRange(%d)", licenseeID)
	var bad fault.Fields
	in.ProductSKU = strings.TrimSpace(in.ProductSKU)
	in.Prefix = strings.ToUpper(strings.TrimSpace(in.Prefix))
	switch {
	case in.ProductSKU == "":
		bad.Add("product_sku", "is required")
	case len(in.ProductSKU) > 64:
		bad.Add("product_sku", "must be at most 64 characters")
	}
	if !serialPrefix.MatchString(in.Prefix) {
		bad.Add("prefix", "1 to 16 upper-case letters, digits and hyphens, ending in a letter or hyphen (such as PAR24-)")
	}
	if in.First < 0 || in.First > maxSerial {
		bad.Add("first", "must be between 0 and %d", int64(maxSerial))
	}
	if in.Last < in.First || in.Last > maxSerial {
		bad.Add("last", "must be at least first (%d) and at most %d", in.First, int64(maxSerial))
	}
	if err := bad.Err("the serial range is not valid"); err != nil {
		return SerialRange{}, err
	}
	var r SerialRange
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := getLicensee(ctx, tx, licenseeID, false); err != nil {
			return err
		}
		// Ranges under one prefix are checked and inserted one at a time.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('serial_prefix:' || $1))", in.Prefix); err != nil {
			return err
		}
		var clash SerialRange
		clash, err := scanSerialRange(tx.QueryRow(ctx, "SELECT "+serialColumns+` FROM serial_ranges
			WHERE prefix = $1 AND first <= $3 AND last >= $2 ORDER BY first LIMIT 1`, in.Prefix, in.First, in.Last))
		if err == nil {
			msg := "overlaps the range " + clash.Prefix + itoa(clash.First) + " to " + clash.Prefix + itoa(clash.Last) + " (product " + clash.ProductSKU + ")"
			return &fault.Error{Code: fault.Conflict, Message: "the serial range overlaps one already registered",
				Fields: []fault.FieldError{fault.Field("first", "%s", msg), fault.Field("last", "%s", msg)}}
		}
		if err != pgx.ErrNoRows {
			return err
		}
		if r, err = scanSerialRange(tx.QueryRow(ctx, `INSERT INTO serial_ranges (licensee_id, product_sku, prefix, first, last)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+serialColumns, licenseeID, in.ProductSKU, in.Prefix, in.First, in.Last)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, "serial_range.register", "serial_range", itoa(r.ID), nil, r, "")
	})
	return r, postgres.Err(err, "serial range")
}

// SerialRanges lists a licensee's serial ranges.
func (s *Service) SerialRanges(ctx context.Context, licenseeID int64) (_ []SerialRange, err error) {
	defer fault.Annotate(&err, "licensing.SerialRanges(%d)", licenseeID)
	return listSerialRanges(ctx, s.db, licenseeID)
}

// The results of a serial check.
const (
	SerialGenuine    = "genuine"
	SerialUnknown    = "unknown"
	SerialSuspicious = "suspicious"
)

// SerialVerdict is the answer to a fan checking a hologram serial.
type SerialVerdict struct {
	Serial    string
	Result    string // genuine, unknown or suspicious
	Reason    string // a sentence for the fan
	Range     *SerialRange
	Licensee  *Licensee
	Checks    int // checks of this serial within the policy's window, this one included
	Countries int // distinct known countries those checks came from
}

// ParseSerial splits a serial into its prefix and number ("PAR24-000123" → "PAR24-", 123).
// Returns Invalid on "serial" when it is not a prefix followed by digits.
func ParseSerial(serial string) (string, int64, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(serial), ""))
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	prefix, digits := s[:i], s[i:]
	n, err := strconv.ParseInt(digits, 10, 64)
	if digits == "" || len(digits) > 18 || err != nil || n > maxSerial || !serialPrefix.MatchString(prefix) {
		return "", 0, fault.Validation("the serial is not valid", fault.Field("serial",
			"a hologram serial is letters followed by digits, such as PAR24-000123"))
	}
	return prefix, n, nil
}

// VerifySerial checks a hologram serial seen from country (ISO 3166-1 alpha-2, or empty when
// unknown) and records the check. The serial is genuine when a registered range holds it,
// suspicious when it is also checked from too many countries or too often (SerialPolicy), and
// unknown otherwise. Returns Invalid on "serial" for text that is not a serial at all.
func (s *Service) VerifySerial(ctx context.Context, serial, country string) (_ SerialVerdict, err error) {
	defer fault.Annotate(&err, "licensing.VerifySerial(%q, %q)", serial, country)
	prefix, n, err := ParseSerial(serial)
	if err != nil {
		return SerialVerdict{}, err
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if !IsCountry(country) {
		country = ""
	}
	// Fans type leading zeros or not; checks are grouped by prefix and number.
	v := SerialVerdict{Serial: prefix + strconv.FormatInt(n, 10), Result: SerialUnknown}
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		r, err := scanSerialRange(tx.QueryRow(ctx, "SELECT "+serialColumns+` FROM serial_ranges
			WHERE prefix = $1 AND first <= $2 AND last >= $2`, prefix, n))
		var rangeID *int64
		switch {
		case err == nil:
			v.Range, rangeID = &r, &r.ID
			l, err := getLicensee(ctx, tx, r.LicenseeID, false)
			if err != nil {
				return err
			}
			v.Licensee = &l
		case err != pgx.ErrNoRows:
			return err
		}
		since := s.now().Add(-s.serials.Window)
		if err := tx.QueryRow(ctx, `SELECT count(*) + 1, count(DISTINCT country) FILTER (WHERE country <> '')
			FROM serial_checks WHERE serial = $1 AND at > $2`, v.Serial, since).Scan(&v.Checks, &v.Countries); err != nil {
			return err
		}
		if country != "" {
			var seen bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM serial_checks WHERE serial = $1 AND at > $2 AND country = $3)`,
				v.Serial, since, country).Scan(&seen); err != nil {
				return err
			}
			if !seen {
				v.Countries++
			}
		}
		days := int(s.serials.Window.Hours() / 24)
		switch {
		case v.Range == nil:
			v.Reason = "No licensee has registered this serial. The label may be fake, or the serial mistyped."
		case v.Countries >= s.serials.Countries:
			v.Result = SerialSuspicious
			v.Reason = "This serial was registered, but it has been checked from " + strconv.Itoa(v.Countries) +
				" countries in the last " + strconv.Itoa(days) + " days: the hologram is probably copied."
		case v.Checks >= s.serials.Checks:
			v.Result = SerialSuspicious
			v.Reason = "This serial was registered, but it has been checked " + strconv.Itoa(v.Checks) +
				" times in the last " + strconv.Itoa(days) + " days, far more than one item would be: the hologram is probably copied."
		default:
			v.Result = SerialGenuine
			v.Reason = "This serial belongs to product " + r.ProductSKU + " of " + v.Licensee.Name + ", an official licensee."
		}
		_, err = tx.Exec(ctx, "INSERT INTO serial_checks (serial, range_id, country, result, at) VALUES ($1, $2, $3, $4, $5)",
			v.Serial, rangeID, country, v.Result, s.now())
		return err
	})
	return v, err
}

// LicenceVerdict is the public answer about a licence number.
type LicenceVerdict struct {
	Valid   bool   // active and in its term today
	Status  Status // the licence's status today: expired once its term has ended
	Licence Licence
	Reason  string
}

// VerifyLicence tells the public whether a licence number is valid today. Returns NotFound for
// an unknown number.
func (s *Service) VerifyLicence(ctx context.Context, number string) (_ LicenceVerdict, err error) {
	defer fault.Annotate(&err, "licensing.VerifyLicence(%q)", number)
	l, err := s.LicenceByNumber(ctx, number)
	if err != nil {
		return LicenceVerdict{}, err
	}
	now := s.now()
	v := LicenceVerdict{Licence: l, Valid: l.InForce(now), Status: l.StatusOn(now)}
	switch {
	case l.Status != StatusActive:
		v.Reason = "This licence is " + string(l.Status) + "."
	case dayOf(now) < dayOf(l.ValidFrom):
		v.Reason = "This licence starts on " + l.ValidFrom.Format(time.DateOnly) + "."
	case dayOf(now) > dayOf(l.ValidTo):
		v.Reason = "This licence expired on " + l.ValidTo.Format(time.DateOnly) + "."
	default:
		v.Reason = "This licence is valid until " + l.ValidTo.Format(time.DateOnly) + "."
	}
	return v, nil
}
