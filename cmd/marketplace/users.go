package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"flag"
	"fmt"
	"io"
	"strings"

	"marketplace/internal/auth"
	"marketplace/internal/web"
)

func usersCommand(ctx context.Context, m *Main, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("users: want create or apikey\n%s", usage)
	}
	fs := flag.NewFlagSet("users "+args[0], flag.ContinueOnError)
	email := fs.String("email", "", "the user's e-mail address")
	switch args[0] {
	case "create":
		role := fs.String("role", "", "fan, seller, licensee, analyst or admin")
		password := fs.String("password", "", "a password of at least 10 characters (without it, one is generated and printed once)")
		licensee := fs.Int64("licensee", 0, "the licensee a licensee user belongs to")
		seller := fs.Int64("seller", 0, "the seller a seller user belongs to (default: a new independent seller)")
		country := fs.String("country", "FR", "country of the new independent seller")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		generated := false
		switch *password {
		case DemoPassword:
			return fmt.Errorf("users create: --password: %q is the demo's published password; choose another (or leave --password out to have one generated)", DemoPassword)
		case "":
			*password, generated = newPassword(), true
		}
		if err := m.Run(ctx, RunOptions{}); err != nil {
			return err
		}
		nu := auth.NewUser{Email: *email, Password: *password, Role: web.Role(*role), LicenseeID: *licensee, SellerID: *seller}
		if nu.Role == web.RoleSeller && nu.SellerID == 0 {
			id, err := m.newIndependentSeller(ctx, *email, *country)
			if err != nil {
				return err
			}
			nu.SellerID = id
		}
		u, err := m.Auth.CreateUser(ctx, nu)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created user %d: %s (%s)\n", u.ID, u.Email, u.Role)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n(shown once: keep it, or sign in and change it)\n", *password)
		}
		return nil
	case "apikey":
		name := fs.String("name", "command line", "a name that says what the key is for")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := m.Run(ctx, RunOptions{}); err != nil {
			return err
		}
		u, err := m.Auth.UserByEmail(ctx, *email)
		if err != nil {
			return describe(err)
		}
		key, _, err := m.Auth.CreateAPIKey(ctx, u.ID, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
		return nil
	default:
		return fmt.Errorf("users: unknown command %q\n%s", args[0], usage)
	}
}

// newPassword is a random password for a user created without one: 20 characters of
// base32, 100 bits, shown once by users create.
func newPassword() string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}
