package licensing

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/fault"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
)

// testNow is the tests' today: 1 March 2026, noon UTC.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testAdmin = &web.Identity{UserID: 1, Email: "admin@example.com", Role: web.RoleAdmin}

func day(offset int) time.Time { return dateOnly(testNow).AddDate(0, 0, offset) }

// newTestService returns a service on a fresh database with the four properties.
func newTestService(t testing.TB, opts ...Option) (*Service, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	svc := NewService(pool, append([]Option{WithClock(func() time.Time { return testNow })}, opts...)...)
	ctx := context.Background()
	for _, p := range []Property{
		{Code: "PARIS2024", Name: "Paris 2024", Marks: []Mark{{Text: "Paris 2024"}, {Text: "JO Paris 2024", Lang: "fr"}}},
		{Code: "LA28", Name: "Los Angeles 2028", Marks: []Mark{{Text: "LA28"}}},
	} {
		if _, err := svc.CreateProperty(ctx, testAdmin, p); err != nil {
			t.Fatalf("CreateProperty: %v", err)
		}
	}
	return svc, pool
}

func mustLicensee(t *testing.T, svc *Service, name string) Licensee {
	t.Helper()
	l, err := svc.CreateLicensee(context.Background(), testAdmin, LicenseeInput{Name: name, Country: "FR", ContactEmail: "contact@example.com"})
	if err != nil {
		t.Fatalf("CreateLicensee(%s): %v", name, err)
	}
	return l
}

func goodLicence(number string) LicenceInput {
	return LicenceInput{Number: number, Property: "PARIS2024", Categories: []string{"apparel"}, Territories: []string{"FR", "BE"},
		ValidFrom: day(-365), ValidTo: day(365), RoyaltyBPS: 1200}
}

func mustLicence(t *testing.T, svc *Service, licenseeID int64, in LicenceInput) Licence {
	t.Helper()
	l, err := svc.CreateLicence(context.Background(), testAdmin, licenseeID, in)
	if err != nil {
		t.Fatalf("CreateLicence(%s): %v", in.Number, err)
	}
	return l
}

// wantFieldError checks that err has code and names field.
func wantFieldError(t *testing.T, err error, code fault.Code, field string) {
	t.Helper()
	e, ok := fault.As(err)
	if !ok {
		t.Fatalf("error = %v, want a %s error naming %s", err, code, field)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v), want %s", e.Code, err, code)
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("fields = %+v, want one named %s", e.Fields, field)
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestCreateLicenceRefusesBadInput(t *testing.T) {
	svc, pool := newTestService(t)
	lic := mustLicensee(t, svc, "Maison Bleue")
	auditBefore := count(t, pool, "SELECT count(*) FROM audit_log")
	cases := []struct {
		name  string
		edit  func(*LicenceInput)
		field string
	}{
		{"ErrUnknownProperty", func(in *LicenceInput) { in.Property = "ATHENS2004" }, "property"},
		{"ErrUnknownCategory", func(in *LicenceInput) { in.Categories = []string{"apparel", "fireworks"} }, "categories"},
		{"ErrNoCategory", func(in *LicenceInput) { in.Categories = nil }, "categories"},
		{"ErrBadISOCode", func(in *LicenceInput) { in.Territories = []string{"FR", "XX"} }, "territories"},
		{"ErrNotAnISOCodeUK", func(in *LicenceInput) { in.Territories = []string{"UK"} }, "territories"},
		{"ErrWithdrawnISOCode", func(in *LicenceInput) { in.Territories = []string{"YU"} }, "territories"},
		{"ErrWorldWithCountries", func(in *LicenceInput) { in.Territories = []string{"WORLD", "FR"} }, "territories"},
		{"ErrNoTerritory", func(in *LicenceInput) { in.Territories = []string{" "} }, "territories"},
		{"ErrValidToBeforeValidFrom", func(in *LicenceInput) { in.ValidFrom, in.ValidTo = day(10), day(9) }, "valid_to"},
		{"ErrMissingValidFrom", func(in *LicenceInput) { in.ValidFrom = time.Time{} }, "valid_from"},
		{"ErrNegativeRoyalty", func(in *LicenceInput) { in.RoyaltyBPS = -1 }, "royalty_bps"},
		{"ErrRoyaltyOver10000", func(in *LicenceInput) { in.RoyaltyBPS = 10001 }, "royalty_bps"},
		{"ErrBadNumber", func(in *LicenceInput) { in.Number = "no spaces allowed" }, "number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := goodLicence("PAR24-APP-0001")
			c.edit(&in)
			_, err := svc.CreateLicence(context.Background(), testAdmin, lic.ID, in)
			wantFieldError(t, err, fault.Invalid, c.field)
			if n := count(t, pool, "SELECT count(*) FROM licences"); n != 0 {
				t.Errorf("%d licences after a refused grant, want 0", n)
			}
			if n := count(t, pool, "SELECT count(*) FROM audit_log"); n != auditBefore {
				t.Errorf("audit log grew to %d entries after a refused grant", n)
			}
		})
	}
	t.Run("ErrUnknownLicensee", func(t *testing.T) {
		_, err := svc.CreateLicence(context.Background(), testAdmin, 999, goodLicence("PAR24-APP-0001"))
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("err = %v, want NotFound", err)
		}
	})
	t.Run("RoyaltyBoundsAreAllowed", func(t *testing.T) {
		for i, bps := range []int{0, 10000} {
			in := goodLicence("PAR24-BOUND-" + itoa(int64(i)))
			in.RoyaltyBPS = bps
			in.Property = "LA28"
			in.Territories = []string{[]string{"JP", "KR"}[i]}
			mustLicence(t, svc, lic.ID, in)
		}
	})
	t.Run("NormalisesItsInput", func(t *testing.T) {
		in := goodLicence(" par24-norm-1 ")
		in.Property = "paris2024"
		in.Categories = []string{"toys", "apparel", "toys"}
		in.Territories = []string{"de", "AT", "de"}
		l := mustLicence(t, svc, lic.ID, in)
		if l.Number != "PAR24-NORM-1" || l.Property != "PARIS2024" || !slices.Equal(l.Categories, []string{"apparel", "toys"}) ||
			!slices.Equal(l.Territories, []string{"AT", "DE"}) || l.Status != StatusActive || l.LicenseeName != "Maison Bleue" {
			t.Fatalf("licence = %+v", l)
		}
	})
}

func TestCreateLicenseeRefusesBadInput(t *testing.T) {
	svc, pool := newTestService(t)
	for _, c := range []struct {
		name  string
		in    LicenseeInput
		field string
	}{
		{"ErrNoName", LicenseeInput{Name: " ", Country: "FR", ContactEmail: "a@example.com"}, "name"},
		{"ErrBadCountry", LicenseeInput{Name: "A", Country: "XX", ContactEmail: "a@example.com"}, "country"},
		{"ErrWorldIsNotACountry", LicenseeInput{Name: "A", Country: "WORLD", ContactEmail: "a@example.com"}, "country"},
		{"ErrBadEmail", LicenseeInput{Name: "A", Country: "FR", ContactEmail: "not an address"}, "contact_email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := svc.CreateLicensee(context.Background(), testAdmin, c.in)
			wantFieldError(t, err, fault.Invalid, c.field)
		})
	}
	mustLicensee(t, svc, "Maison Bleue")
	t.Run("ErrNameTaken", func(t *testing.T) {
		_, err := svc.CreateLicensee(context.Background(), testAdmin, LicenseeInput{Name: "maison bleue", Country: "FR", ContactEmail: "a@example.com"})
		wantFieldError(t, err, fault.Invalid, "name")
	})
	if n := count(t, pool, "SELECT count(*) FROM licensees"); n != 1 {
		t.Fatalf("%d licensees, want 1", n)
	}
}

func TestLicenceOverlap(t *testing.T) {
	svc, pool := newTestService(t)
	ctx := context.Background()
	a, b := mustLicensee(t, svc, "A"), mustLicensee(t, svc, "B")
	first := mustLicence(t, svc, a.ID, goodLicence("A-1"))

	t.Run("ErrSameLicenseeOverlaps", func(t *testing.T) {
		in := goodLicence("A-2")
		in.Territories = []string{"BE", "NL"}
		in.Categories = []string{"apparel", "toys"}
		_, err := svc.CreateLicence(ctx, testAdmin, a.ID, in)
		wantFieldError(t, err, fault.Conflict, "territories")
	})
	t.Run("ErrWorldOverlapsACountry", func(t *testing.T) {
		in := goodLicence("A-3")
		in.Territories = []string{"WORLD"}
		_, err := svc.CreateLicence(ctx, testAdmin, a.ID, in)
		wantFieldError(t, err, fault.Conflict, "territories")
	})
	t.Run("ErrNumberTaken", func(t *testing.T) {
		in := goodLicence("A-1")
		in.Property = "LA28"
		_, err := svc.CreateLicence(ctx, testAdmin, b.ID, in)
		wantFieldError(t, err, fault.Conflict, "number")
	})
	t.Run("AnotherLicenseeMayOverlap", func(t *testing.T) {
		mustLicence(t, svc, b.ID, goodLicence("B-1"))
	})
	t.Run("SameLicenseeOtherCategory", func(t *testing.T) {
		in := goodLicence("A-4")
		in.Categories = []string{"pins"}
		mustLicence(t, svc, a.ID, in)
	})
	t.Run("SameLicenseeOtherTerritory", func(t *testing.T) {
		in := goodLicence("A-5")
		in.Territories = []string{"DE"}
		mustLicence(t, svc, a.ID, in)
	})
	t.Run("SameLicenseeLaterTerm", func(t *testing.T) {
		in := goodLicence("A-6")
		in.ValidFrom, in.ValidTo = day(366), day(700)
		mustLicence(t, svc, a.ID, in)
	})
	t.Run("ErrEditIntoOverlap", func(t *testing.T) {
		in := goodLicence("")
		in.Territories = []string{"DE"}
		_, err := svc.UpdateLicence(ctx, testAdmin, "A-1", in)
		wantFieldError(t, err, fault.Conflict, "territories")
	})
	t.Run("TerminatedLicenceDoesNotBlock", func(t *testing.T) {
		if _, err := svc.SetLicenceStatus(ctx, testAdmin, first.Number, StatusTerminated, "breach of contract"); err != nil {
			t.Fatal(err)
		}
		mustLicence(t, svc, a.ID, goodLicence("A-7"))
	})
	if n := count(t, pool, "SELECT count(*) FROM licences WHERE licensee_id = $1", a.ID); n != 5 {
		t.Fatalf("licensee A holds %d licences, want 5", n)
	}
}

func TestSetLicenceStatus(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := context.Background()
	a := mustLicensee(t, svc, "A")
	mustLicence(t, svc, a.ID, goodLicence("A-1"))

	t.Run("ErrSuspendWithoutReason", func(t *testing.T) {
		_, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusSuspended, " ")
		wantFieldError(t, err, fault.Invalid, "reason")
	})
	t.Run("ErrUnknownStatus", func(t *testing.T) {
		_, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", "paused", "why")
		wantFieldError(t, err, fault.Invalid, "status")
	})
	t.Run("ErrUnknownNumber", func(t *testing.T) {
		_, err := svc.SetLicenceStatus(ctx, testAdmin, "NOPE-1", StatusSuspended, "why")
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("err = %v, want NotFound", err)
		}
	})
	t.Run("SuspendAndReinstateAreAudited", func(t *testing.T) {
		l, err := svc.SetLicenceStatus(ctx, testAdmin, "a-1", StatusSuspended, "unpaid royalties")
		if err != nil || l.Status != StatusSuspended || l.StatusReason != "unpaid royalties" || l.StatusChangedAt == nil {
			t.Fatalf("suspend: %+v, %v", l, err)
		}
		if _, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusSuspended, "again"); !fault.Is(err, fault.Unprocessable) {
			t.Fatalf("suspending twice: %v, want Unprocessable", err)
		}
		if l, err = svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusActive, ""); err != nil || l.Status != StatusActive {
			t.Fatalf("reinstate: %+v, %v", l, err)
		}
		entries, err := svc.AuditLog(ctx, "licence", "A-1", 10)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if !slices.Equal(actions, []string{"licence.reinstate", "licence.suspend", "licence.create"}) {
			t.Fatalf("audit actions = %v", actions)
		}
		if entries[1].Note != "unpaid royalties" || entries[1].ActorEmail != testAdmin.Email || len(entries[1].Before) == 0 || len(entries[1].After) == 0 {
			t.Fatalf("suspension entry = %+v", entries[1])
		}
	})
	t.Run("ErrTerminationIsFinal", func(t *testing.T) {
		if _, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusTerminated, "fraud"); err != nil {
			t.Fatal(err)
		}
		_, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusActive, "")
		if !fault.Is(err, fault.Unprocessable) {
			t.Fatalf("err = %v, want Unprocessable", err)
		}
		if _, err := svc.UpdateLicence(ctx, testAdmin, "A-1", goodLicence("")); !fault.Is(err, fault.Unprocessable) {
			t.Fatalf("editing a terminated licence: %v, want Unprocessable", err)
		}
	})
}

func TestLicenceHooksRunInTheTransaction(t *testing.T) {
	svc, pool := newTestService(t)
	ctx := context.Background()
	a := mustLicensee(t, svc, "A")
	mustLicence(t, svc, a.ID, goodLicence("A-1"))
	var heard []LicenceChange
	fail := false
	svc.OnLicenceChange(func(ctx context.Context, tx pgx.Tx, ch LicenceChange) error {
		// The change is visible to the hook's transaction.
		var status string
		if err := tx.QueryRow(ctx, "SELECT status FROM licences WHERE number = $1", ch.After.Number).Scan(&status); err != nil {
			return err
		}
		if status != string(ch.After.Status) {
			return errors.New("hook does not see the change")
		}
		heard = append(heard, ch)
		if fail {
			return errors.New("catalogue is down")
		}
		return nil
	})
	if _, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusSuspended, "audit"); err != nil {
		t.Fatal(err)
	}
	if len(heard) != 1 || heard[0].Action != "licence.suspend" || heard[0].Before.Status != StatusActive {
		t.Fatalf("heard %+v", heard)
	}
	t.Run("HookErrorUndoesTheChange", func(t *testing.T) {
		fail = true
		if _, err := svc.SetLicenceStatus(ctx, testAdmin, "A-1", StatusActive, ""); err == nil {
			t.Fatal("no error from a failing hook")
		}
		l, err := svc.LicenceByNumber(ctx, "A-1")
		if err != nil || l.Status != StatusSuspended {
			t.Fatalf("status = %s, want suspended (rolled back); %v", l.Status, err)
		}
		if n := count(t, pool, "SELECT count(*) FROM audit_log WHERE action = 'licence.reinstate'"); n != 0 {
			t.Fatalf("%d reinstate entries, want 0", n)
		}
	})
}

func TestAuthoriseReseller(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := context.Background()
	a := mustLicensee(t, svc, "A")
	mustLicence(t, svc, a.ID, goodLicence("A-1")) // FR, BE

	t.Run("ErrTerritoryTheLicenseeDoesNotHold", func(t *testing.T) {
		_, err := svc.AuthoriseReseller(ctx, testAdmin, a.ID, 77, []string{"FR", "DE"})
		wantFieldError(t, err, fault.Invalid, "territories")
	})
	t.Run("ErrBadISOCode", func(t *testing.T) {
		_, err := svc.AuthoriseReseller(ctx, testAdmin, a.ID, 77, []string{"F1"})
		wantFieldError(t, err, fault.Invalid, "territories")
	})
	t.Run("ErrNoSeller", func(t *testing.T) {
		_, err := svc.AuthoriseReseller(ctx, testAdmin, a.ID, 0, []string{"FR"})
		wantFieldError(t, err, fault.Invalid, "seller_id")
	})
	t.Run("AuthoriseReplaceRevoke", func(t *testing.T) {
		got, err := svc.AuthoriseReseller(ctx, testAdmin, a.ID, 77, []string{"fr"})
		if err != nil || !slices.Equal(got.Territories, []string{"FR"}) {
			t.Fatalf("authorise: %+v, %v", got, err)
		}
		if got, err = svc.AuthoriseReseller(ctx, testAdmin, a.ID, 77, []string{"FR", "BE"}); err != nil || len(got.Territories) != 2 {
			t.Fatalf("replace: %+v, %v", got, err)
		}
		if _, err := svc.RevokeReseller(ctx, testAdmin, a.ID, 77, ""); !fault.Is(err, fault.Invalid) {
			t.Fatalf("revoke without reason: %v", err)
		}
		if got, err = svc.RevokeReseller(ctx, testAdmin, a.ID, 77, "contract ended"); err != nil || got.RevokedAt == nil {
			t.Fatalf("revoke: %+v, %v", got, err)
		}
		list, err := svc.AuthorisationsOf(ctx, 77)
		if err != nil || len(list) != 1 || list[0].RevokeReason != "contract ended" {
			t.Fatalf("AuthorisationsOf = %+v, %v", list, err)
		}
		entries, err := svc.AuditLog(ctx, "reseller", authKey(a.ID, 77), 10)
		if err != nil || len(entries) != 3 {
			t.Fatalf("%d audit entries for the authorisation, want 3 (%v)", len(entries), err)
		}
	})
}

func TestSerialRanges(t *testing.T) {
	svc, pool := newTestService(t)
	ctx := context.Background()
	a := mustLicensee(t, svc, "A")
	if _, err := svc.RegisterSerialRange(ctx, testAdmin, a.ID, SerialRangeInput{ProductSKU: "TEE-1", Prefix: "par24-", First: 1000, Last: 1999}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		in    SerialRangeInput
		code  fault.Code
		field string
	}{
		{"ErrOverlapsInside", SerialRangeInput{ProductSKU: "CAP-1", Prefix: "PAR24-", First: 1500, Last: 1600}, fault.Conflict, "first"},
		{"ErrOverlapsTheEnd", SerialRangeInput{ProductSKU: "CAP-1", Prefix: "PAR24-", First: 1999, Last: 2999}, fault.Conflict, "last"},
		{"ErrCoversTheRange", SerialRangeInput{ProductSKU: "CAP-1", Prefix: "PAR24-", First: 0, Last: 5000}, fault.Conflict, "first"},
		{"ErrLastBeforeFirst", SerialRangeInput{ProductSKU: "CAP-1", Prefix: "PAR24-", First: 10, Last: 9}, fault.Invalid, "last"},
		{"ErrNegativeFirst", SerialRangeInput{ProductSKU: "CAP-1", Prefix: "PAR24-", First: -1, Last: 9}, fault.Invalid, "first"},
		{"ErrPrefixEndsInDigit", SerialRangeInput{ProductSKU: "CAP-1", Prefix: "PAR24", First: 1, Last: 9}, fault.Invalid, "prefix"},
		{"ErrNoSKU", SerialRangeInput{Prefix: "PAR24-", First: 1, Last: 9}, fault.Invalid, "product_sku"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := svc.RegisterSerialRange(ctx, testAdmin, a.ID, c.in)
			wantFieldError(t, err, c.code, c.field)
		})
	}
	t.Run("AdjacentAndOtherPrefixAreFine", func(t *testing.T) {
		for _, in := range []SerialRangeInput{
			{ProductSKU: "CAP-1", Prefix: "PAR24-", First: 2000, Last: 2999},
			{ProductSKU: "CAP-1", Prefix: "PAR24-", First: 0, Last: 999},
			{ProductSKU: "PIN-1", Prefix: "LA28-", First: 1000, Last: 1999},
		} {
			if _, err := svc.RegisterSerialRange(ctx, testAdmin, a.ID, in); err != nil {
				t.Fatalf("%+v: %v", in, err)
			}
		}
	})
	if n := count(t, pool, "SELECT count(*) FROM serial_ranges"); n != 4 {
		t.Fatalf("%d ranges, want 4", n)
	}
	if n := count(t, pool, "SELECT count(*) FROM audit_log WHERE entity = 'serial_range'"); n != 4 {
		t.Fatalf("%d audit entries for ranges, want 4", n)
	}
}

func TestVerifySerial(t *testing.T) {
	svc, pool := newTestService(t, WithSerialPolicy(SerialPolicy{Window: 30 * 24 * time.Hour, Countries: 3, Checks: 5}))
	ctx := context.Background()
	a := mustLicensee(t, svc, "Maison Bleue")
	if _, err := svc.RegisterSerialRange(ctx, testAdmin, a.ID, SerialRangeInput{ProductSKU: "TEE-1", Prefix: "PAR24-", First: 1, Last: 1000}); err != nil {
		t.Fatal(err)
	}
	t.Run("Genuine", func(t *testing.T) {
		v, err := svc.VerifySerial(ctx, "par24-000042", "FR")
		if err != nil || v.Result != SerialGenuine || v.Range.ProductSKU != "TEE-1" || v.Licensee.Name != "Maison Bleue" || v.Serial != "PAR24-42" {
			t.Fatalf("verdict = %+v, %v", v, err)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		v, err := svc.VerifySerial(ctx, "PAR24-5000", "FR")
		if err != nil || v.Result != SerialUnknown || v.Range != nil {
			t.Fatalf("verdict = %+v, %v", v, err)
		}
	})
	t.Run("ErrNotASerial", func(t *testing.T) {
		_, err := svc.VerifySerial(ctx, "hello", "FR")
		wantFieldError(t, err, fault.Invalid, "serial")
	})
	t.Run("SuspiciousFromManyCountries", func(t *testing.T) {
		for _, c := range []string{"FR", "FR", "DE"} {
			if v, err := svc.VerifySerial(ctx, "PAR24-7", c); err != nil || v.Result != SerialGenuine {
				t.Fatalf("check from %s: %s, want genuine (%v)", c, v.Result, err)
			}
		}
		v, err := svc.VerifySerial(ctx, "PAR24-7", "CN")
		if err != nil || v.Result != SerialSuspicious || v.Countries != 3 {
			t.Fatalf("verdict = %+v, %v", v, err)
		}
	})
	t.Run("SuspiciousWhenCheckedTooOften", func(t *testing.T) {
		var v SerialVerdict
		for range 5 {
			var err error
			if v, err = svc.VerifySerial(ctx, "PAR24-8", ""); err != nil {
				t.Fatal(err)
			}
		}
		if v.Result != SerialSuspicious || v.Checks != 5 {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("EveryCheckIsRecorded", func(t *testing.T) {
		if n := count(t, pool, "SELECT count(*) FROM serial_checks"); n != 11 {
			t.Fatalf("%d checks recorded, want 11", n)
		}
		if n := count(t, pool, "SELECT count(*) FROM serial_checks WHERE serial = 'PAR24-7' AND country = 'CN' AND result = 'suspicious'"); n != 1 {
			t.Fatalf("the suspicious check is not recorded with its country")
		}
	})
}

func TestPropertiesAndMarks(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := context.Background()
	// Creating again adds only the new marks.
	if _, err := svc.CreateProperty(ctx, testAdmin, Property{Code: "PARIS2024", Name: "Paris 2024", Marks: []Mark{{Text: "paris 2024"}, {Text: "Paryż 2024", Lang: "pl"}}}); err != nil {
		t.Fatal(err)
	}
	marks, err := svc.PropertyMarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range marks {
		texts = append(texts, m.Property+":"+m.Text)
	}
	want := []string{"LA28:LA28", "PARIS2024:Paris 2024", "PARIS2024:JO Paris 2024", "PARIS2024:Paryż 2024"}
	if !slices.Equal(texts, want) {
		t.Fatalf("marks = %v, want %v", texts, want)
	}
	if _, err := svc.CreateProperty(ctx, testAdmin, Property{Code: "paris 2024", Name: ""}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("bad property: %v", err)
	}
}

func TestValidateTerritories(t *testing.T) {
	for _, c := range []struct {
		in []string
		ok bool
	}{
		{[]string{"FR", "DE", "JP"}, true},
		{[]string{"WORLD"}, true},
		{[]string{"XK"}, true},
		{[]string{"fr"}, false}, // the exported check wants normalised codes
		{[]string{"UK"}, false},
		{[]string{"EU"}, false},
		{[]string{"FRA"}, false},
		{nil, false},
	} {
		err := ValidateTerritories(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ValidateTerritories(%v) = %v, want ok=%v", c.in, err, c.ok)
		}
		if err != nil {
			wantFieldError(t, err, fault.Invalid, "territories")
		}
	}
	if n := len(Countries()); n < 249 || n > 250 {
		t.Errorf("%d countries, want the 249 of ISO 3166-1 (and XK)", n)
	}
}
