package licensing

import (
	"context"
	"testing"
	"time"

	"marketplace/internal/fault"
)

// coverageWorld is a registry where each licensee stands for one case of the table.
type coverageWorld struct {
	ok, expired, future, world, suspended, terminated Licensee
}

func buildCoverageWorld(t *testing.T, svc *Service) coverageWorld {
	t.Helper()
	ctx := context.Background()
	w := coverageWorld{
		ok: mustLicensee(t, svc, "Current"), expired: mustLicensee(t, svc, "Expired"), future: mustLicensee(t, svc, "Future"),
		world: mustLicensee(t, svc, "World"), suspended: mustLicensee(t, svc, "Suspended"), terminated: mustLicensee(t, svc, "Terminated"),
	}
	mustLicence(t, svc, w.ok.ID, goodLicence("OK-1")) // PARIS2024 apparel FR BE, a year either side
	in := goodLicence("EXP-1")
	in.ValidFrom, in.ValidTo = day(-400), day(-1)
	mustLicence(t, svc, w.expired.ID, in)
	in = goodLicence("FUT-1")
	in.ValidFrom, in.ValidTo = day(1), day(400)
	mustLicence(t, svc, w.future.ID, in)
	in = goodLicence("WLD-1")
	in.Territories, in.RoyaltyBPS = []string{"WORLD"}, 800
	mustLicence(t, svc, w.world.ID, in)
	mustLicence(t, svc, w.suspended.ID, goodLicence("SUS-1"))
	mustLicence(t, svc, w.terminated.ID, goodLicence("TER-1"))
	if _, err := svc.SetLicenceStatus(ctx, testAdmin, "SUS-1", StatusSuspended, "unpaid royalties"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetLicenceStatus(ctx, testAdmin, "TER-1", StatusTerminated, "counterfeiting"); err != nil {
		t.Fatal(err)
	}
	// Seller 500 resells World's goods in FR and DE only; 501 resells Suspended's; 502 was
	// authorised by World and revoked.
	for _, a := range []struct {
		licensee, seller int64
		territories      []string
	}{{w.world.ID, 500, []string{"FR", "DE"}}, {w.suspended.ID, 501, []string{"FR"}}, {w.world.ID, 502, []string{"WORLD"}}} {
		if _, err := svc.AuthoriseReseller(ctx, testAdmin, a.licensee, a.seller, a.territories); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.RevokeReseller(ctx, testAdmin, w.world.ID, 502, "contract ended"); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCoverage(t *testing.T) {
	svc, _ := newTestService(t)
	w := buildCoverageWorld(t, svc)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)

	q := func(seller, licensee int64, property, category, country string) CoverageQuery {
		return CoverageQuery{SellerID: seller, LicenseeID: licensee, Property: property, Category: category, Country: country}
	}
	cases := []struct {
		name    string
		q       CoverageQuery
		allowed bool
		reason  string
		licence string // the deciding licence's number, "" for none
	}{
		{"LicenseeSellsUnderItsLicence", q(1, w.ok.ID, "PARIS2024", "apparel", "FR"), true, ReasonLicensee, "OK-1"},
		{"ExpiredYesterday", q(2, w.expired.ID, "PARIS2024", "apparel", "FR"), false, ReasonLicenceExpired, "EXP-1"},
		{"ValidOnItsLastDay", func() CoverageQuery {
			c := q(2, w.expired.ID, "PARIS2024", "apparel", "FR")
			c.On = day(-1).Add(23 * time.Hour)
			return c
		}(), true, ReasonLicensee, "EXP-1"},
		{"ValidFromTomorrow", q(3, w.future.ID, "PARIS2024", "apparel", "FR"), false, ReasonLicenceNotYetValid, "FUT-1"},
		{"ValidFromTomorrowAskedTomorrow", func() CoverageQuery { c := q(3, w.future.ID, "PARIS2024", "apparel", "FR"); c.On = day(1); return c }(), true, ReasonLicensee, "FUT-1"},
		{"WorldCoversAnyCountry", q(4, w.world.ID, "PARIS2024", "apparel", "JP"), true, ReasonLicensee, "WLD-1"},
		{"Suspended", q(5, w.suspended.ID, "PARIS2024", "apparel", "FR"), false, ReasonLicenceSuspended, "SUS-1"},
		{"Terminated", q(6, w.terminated.ID, "PARIS2024", "apparel", "FR"), false, ReasonLicenceTerminated, "TER-1"},
		{"CategoryNotCovered", q(1, w.ok.ID, "PARIS2024", "toys", "FR"), false, ReasonCategoryNotCovered, "OK-1"},
		{"TerritoryNotCovered", q(1, w.ok.ID, "PARIS2024", "apparel", "DE"), false, ReasonTerritoryNotCovered, "OK-1"},
		{"NoLicenceForTheProperty", q(1, w.ok.ID, "LA28", "apparel", "FR"), false, ReasonNoLicence, ""},
		{"NoLicenceForAnIndependentSeller", q(99, 0, "PARIS2024", "apparel", "FR"), false, ReasonNoLicence, ""},
		{"ResellerInsideItsTerritories", q(500, 0, "PARIS2024", "apparel", "DE"), true, ReasonAuthorisedReseller, "WLD-1"},
		{"ResellerTerritoriesNarrowerThanTheLicence", q(500, 0, "PARIS2024", "apparel", "JP"), false, ReasonTerritoryNotCovered, ""},
		{"ResellerOfASuspendedLicence", q(501, 0, "PARIS2024", "apparel", "FR"), false, ReasonLicenceSuspended, "SUS-1"},
		{"RevokedReseller", q(502, 0, "PARIS2024", "apparel", "FR"), false, ReasonNoLicence, ""},
		{"LicenseeThatIsAlsoAReseller", q(500, w.ok.ID, "PARIS2024", "apparel", "DE"), true, ReasonAuthorisedReseller, "WLD-1"},
		{"OwnLicenceComesFirst", q(500, w.ok.ID, "PARIS2024", "apparel", "FR"), true, ReasonLicensee, "OK-1"},
	}
	paths := []struct {
		name string
		ask  func(context.Context, CoverageQuery) (CoverageAnswer, error)
	}{{"Snapshot", svc.Coverage}, {"Database", svc.CoverageFromDatabase}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range paths {
				t.Run(p.name, func(t *testing.T) {
					a, err := p.ask(context.Background(), c.q)
					if err != nil {
						t.Fatal(err)
					}
					number := ""
					if a.Licence != nil {
						number = a.Licence.Number
					}
					if a.Allowed != c.allowed || a.Reason != c.reason || number != c.licence || a.Detail == "" {
						t.Fatalf("answer = %v %s %q (licence %s), want %v %s (licence %s)", a.Allowed, a.Reason, a.Detail, number, c.allowed, c.reason, c.licence)
					}
					if a.Allowed && (a.Licence.RoyaltyBPS == 0 || a.Licence.LicenseeID == 0) {
						t.Fatalf("allowed without royalty terms: %+v", a.Licence)
					}
				})
			}
		})
	}
	for _, c := range []struct {
		name  string
		q     CoverageQuery
		field string
	}{
		{"ErrUnknownProperty", q(1, w.ok.ID, "ATHENS2004", "apparel", "FR"), "property"},
		{"ErrUnknownCategory", q(1, w.ok.ID, "PARIS2024", "fireworks", "FR"), "category"},
		{"ErrBadCountry", q(1, w.ok.ID, "PARIS2024", "apparel", "XX"), "country"},
		{"ErrWorldIsNotADestination", q(1, w.ok.ID, "PARIS2024", "apparel", "WORLD"), "country"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range paths {
				_, err := p.ask(context.Background(), c.q)
				wantFieldError(t, err, fault.Invalid, c.field)
			}
		})
	}
}

// TestCoverageSnapshotFollowsChanges proves the snapshot sees a change at once in the process
// that made it, and through NOTIFY in another process (whose poll is too slow to be the cause).
func TestCoverageSnapshotFollowsChanges(t *testing.T) {
	writer, pool := newTestService(t)
	ctx := context.Background()
	a := mustLicensee(t, writer, "A")
	mustLicence(t, writer, a.ID, goodLicence("A-1"))
	other := NewService(pool, WithClock(func() time.Time { return testNow }), WithPollInterval(time.Hour))
	for _, s := range []*Service{writer, other} {
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
	}
	q := CoverageQuery{SellerID: 9, LicenseeID: a.ID, Property: "PARIS2024", Category: "apparel", Country: "FR"}
	ask := func(s *Service) CoverageAnswer {
		ans, err := s.Coverage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	if !ask(other).Allowed {
		t.Fatal("not allowed before the suspension")
	}
	if _, err := writer.SetLicenceStatus(ctx, testAdmin, "A-1", StatusSuspended, "audit"); err != nil {
		t.Fatal(err)
	}
	t.Run("WriterSeesItAtOnce", func(t *testing.T) {
		if got := ask(writer); got.Reason != ReasonLicenceSuspended {
			t.Fatalf("reason = %s, want %s", got.Reason, ReasonLicenceSuspended)
		}
	})
	t.Run("OtherProcessHearsTheNotify", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for ask(other).Reason != ReasonLicenceSuspended {
			if time.Now().After(deadline) {
				t.Fatal("the other process did not see the suspension within 5s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("NewAuthorisationReachesTheSnapshot", func(t *testing.T) {
		b := mustLicensee(t, writer, "B")
		mustLicence(t, writer, b.ID, goodLicence("B-1"))
		if _, err := writer.AuthoriseReseller(ctx, testAdmin, b.ID, 9, []string{"FR"}); err != nil {
			t.Fatal(err)
		}
		if got := ask(writer); got.Reason != ReasonAuthorisedReseller || got.Licence.Number != "B-1" {
			t.Fatalf("answer = %+v", got)
		}
	})
	t.Run("StoppedServiceAsksTheDatabase", func(t *testing.T) {
		other.Close()
		if got := ask(other); got.Reason != ReasonAuthorisedReseller {
			t.Fatalf("reason = %s, want %s", got.Reason, ReasonAuthorisedReseller)
		}
	})
}
