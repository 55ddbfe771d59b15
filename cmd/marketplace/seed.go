package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"marketplace/catalog"
	"marketplace/internal/auth"
	"marketplace/internal/fault"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// DemoPassword is every demo account's password; `make run` prints it with the accounts.
const DemoPassword = "olympic-demo-2028"

// demoAccount is one account of the demo world.
type demoAccount struct {
	Email      string
	Role       web.Role
	LicenseeID int64
}

// Seed loads the demo world; running it again changes nothing that is already there. The
// demo catalogue is as big as m.Demo says (zero: demo.Small, a handful of products for the
// tests; `marketplace seed` loads demo.Full).
func (m *Main) Seed(ctx context.Context, stdout io.Writer) error {
	if err := m.refuseRealData(ctx); err != nil {
		return err
	}
	registry, err := licensing.Seed(ctx, m.Licensing)
	if err != nil {
		return err
	}
	accounts := []demoAccount{
		{"admin@demo.olympics.test", web.RoleAdmin, 0},
		{"analyst@demo.olympics.test", web.RoleAnalyst, 0},
		{"fan@demo.olympics.test", web.RoleFan, 0},
		{"licensee@demo.olympics.test", web.RoleLicensee, registry.LicenseeID("Maison Bleue Textiles")},
	}
	for _, a := range accounts {
		if err := m.ensureUser(ctx, auth.NewUser{Email: a.Email, Password: DemoPassword, Role: a.Role, LicenseeID: a.LicenseeID}); err != nil {
			return err
		}
	}
	cat, err := m.seedCatalogue(ctx, registry, stdout)
	if err != nil {
		return err
	}
	sellers, err := m.seedSellers(ctx, cat)
	if err != nil {
		return err
	}
	accounts = append(accounts, sellers...)
	fmt.Fprintln(stdout, "Demo accounts (password "+DemoPassword+"):")
	for _, a := range accounts {
		fmt.Fprintf(stdout, "  %-9s %s\n", a.Role, a.Email)
	}
	return nil
}

// demoDomain is the domain of every demo account's e-mail address.
const demoDomain = "@demo.olympics.test"

// refuseRealData keeps the demo, and its published password, out of a real install: seeding
// runs only on an empty database or one that holds the demo alone. The error says what the
// database holds and how to go on.
func (m *Main) refuseRealData(ctx context.Context) error {
	found, err := licensing.NotDemo(ctx, m.Licensing)
	if err != nil {
		return err
	}
	// Users belong to no slice's registry; their addresses say whether they are the demo's.
	rows, err := m.DB.Query(ctx, `SELECT email FROM users WHERE email NOT LIKE '%'||$1 ORDER BY id`, demoDomain)
	if err != nil {
		return err
	}
	emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(emails) > 0 {
		shown := emails[:min(len(emails), 3)]
		more := ""
		if len(emails) > len(shown) {
			more = ", …"
		}
		noun := "users"
		if len(emails) == 1 {
			noun = "user"
		}
		found = append([]string{fmt.Sprintf("%d %s (%s%s)", len(emails), noun, strings.Join(shown, ", "), more)}, found...)
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("seed: this database is not a demo: it holds %s.\n"+
		"seed loads the demo world, whose accounts share a published password, so it runs only on an empty database or one that holds the demo alone.\n"+
		"For a real install, do not seed: create the first admin with `marketplace users create --email E --role admin --password P` and register properties, licensees and licences as that admin.\n"+
		"For a demo, point DATABASE_URL at an empty database (`marketplace devdb start --dir DIR` makes one)", strings.Join(found, ", "))
}

// ensureUser creates the account unless its e-mail address is taken.
func (m *Main) ensureUser(ctx context.Context, nu auth.NewUser) error {
	if _, err := m.Auth.UserByEmail(ctx, nu.Email); err == nil {
		return nil
	} else if !fault.Is(err, fault.NotFound) {
		return err
	}
	_, err := m.Auth.CreateUser(ctx, nu)
	return err
}

// describe turns a validation error into one readable line per field for the command line.
func describe(err error) error {
	e, ok := fault.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	msg := e.Message
	for _, f := range e.Fields {
		msg += fmt.Sprintf("\n  --%s: %s", f.Field, f.Message)
	}
	return fmt.Errorf("%s", msg)
}

// newIndependentSeller makes a seller account for `users create --role seller`.
func (m *Main) newIndependentSeller(ctx context.Context, email, country string) (int64, error) {
	seller, err := m.Catalog.CreateSeller(ctx, catalog.NewSeller{Kind: catalog.SellerIndependent, Name: email, Country: country, ContactEmail: email})
	return seller.ID, err
}
