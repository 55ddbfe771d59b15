package auth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"marketplace/internal/fault"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
)

func newService(t *testing.T) *Service {
	t.Helper()
	return NewService(pgtest.New(t, Schema), DefaultLimits)
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		user  NewUser
		field string
	}{
		{"ErrBadEmail", NewUser{Email: "not-an-address", Password: "long enough pw", Role: web.RoleFan}, "email"},
		{"ErrShortPassword", NewUser{Email: "a@example.com", Password: "short", Role: web.RoleFan}, "password"},
		{"ErrUnknownRole", NewUser{Email: "a@example.com", Password: "long enough pw", Role: "king"}, "role"},
		{"ErrLicenseeUserWithoutLicensee", NewUser{Email: "a@example.com", Password: "long enough pw", Role: web.RoleLicensee}, "licensee_id"},
		{"ErrSellerUserWithoutSeller", NewUser{Email: "a@example.com", Password: "long enough pw", Role: web.RoleSeller}, "seller_id"},
		{"ErrFanBelongingToALicensee", NewUser{Email: "a@example.com", Password: "long enough pw", Role: web.RoleFan, LicenseeID: 3}, "role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.CreateUser(ctx, c.user)
			e, ok := fault.As(err)
			if !ok || e.Code != fault.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != c.field {
				t.Fatalf("err = %v; want invalid %s", err, c.field)
			}
		})
	}
	t.Run("EmailIsCaseInsensitiveAndUnique", func(t *testing.T) {
		if _, err := s.CreateUser(ctx, NewUser{Email: "Fan@Example.com", Password: "long enough pw", Role: web.RoleFan}); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateUser(ctx, NewUser{Email: "fan@example.com", Password: "long enough pw", Role: web.RoleFan})
		if e, ok := fault.As(err); !ok || e.Code != fault.Invalid || e.Fields[0].Field != "email" {
			t.Fatalf("second account with the same address: err = %v", err)
		}
	})
	t.Run("NothingWrittenOnError", func(t *testing.T) {
		if _, err := s.UserByEmail(ctx, "a@example.com"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("a refused account exists: %v", err)
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Email: "analyst@example.com", Password: "correct horse", Role: web.RoleAnalyst})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("RightPasswordOpensASession", func(t *testing.T) {
		token, expires, got, err := s.Login(ctx, " Analyst@Example.com ", "correct horse", "10.0.0.1", "test")
		if err != nil || got.ID != u.ID || time.Until(expires) < 13*24*time.Hour {
			t.Fatalf("login = %v, %v, %v", got, expires, err)
		}
		id, err := s.SessionIdentity(ctx, token)
		if err != nil || id.UserID != u.ID || id.Role != web.RoleAnalyst {
			t.Fatalf("identity = %+v, %v", id, err)
		}
		if err := s.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionIdentity(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("session after logout: %v", err)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		if _, _, _, err := s.Login(ctx, "analyst@example.com", "wrong horse", "10.0.0.2", "test"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		if _, _, _, err := s.Login(ctx, "nobody@example.com", "correct horse", "10.0.0.3", "test"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrExpiredSession", func(t *testing.T) {
		token, _, _, err := s.Login(ctx, "analyst@example.com", "correct horse", "10.0.0.4", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(ctx, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1", digest(token)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionIdentity(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("expired session: %v", err)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	// Short delays keep the test quick; the rule is the same as with DefaultLimits.
	limits := DefaultLimits
	limits.FailureDelay, limits.MaxFailureDelay = 25*time.Millisecond, 400*time.Millisecond
	s := NewService(pgtest.New(t, Schema), limits)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, NewUser{Email: "admin@example.com", Password: "correct horse", Role: web.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	t.Run("GuessesSlowDownButTheOwnerGetsIn", func(t *testing.T) {
		const guesses = 10
		for i := range guesses {
			start := time.Now()
			if _, _, _, err := s.Login(ctx, "admin@example.com", "guess", fmt.Sprintf("10.1.0.%d", i+1), "t"); !fault.Is(err, fault.Unauthorized) {
				t.Fatalf("guess %d: %v", i+1, err)
			}
			// Guess i+1 follows i failures and waits at least their delay.
			if took, want := time.Since(start), s.failureDelay(i); took < want {
				t.Fatalf("guess %d took %v, want at least %v", i+1, took, want)
			}
		}
		start := time.Now()
		_, _, u, err := s.Login(ctx, "admin@example.com", "correct horse", "10.1.1.1", "t")
		if err != nil || u.Email != "admin@example.com" {
			t.Fatalf("the owner after %d guesses: %v, %v", guesses, u, err)
		}
		// The right password waits as a wrong one would (the wait tells a guesser nothing), and
		// no longer than the bound.
		if took := time.Since(start); took < limits.MaxFailureDelay || took > limits.MaxFailureDelay+5*time.Second {
			t.Fatalf("the owner's login took %v, want %v plus the password check", took, limits.MaxFailureDelay)
		}
	})
	t.Run("DelayGrowsPerFailureUpToTheBound", func(t *testing.T) {
		d := NewService(nil, DefaultLimits)
		if got := d.failureDelay(0); got != 0 {
			t.Fatalf("delay without failures = %v", got)
		}
		for n := 1; n < 50; n++ {
			prev, cur := d.failureDelay(n-1), d.failureDelay(n)
			if cur < prev || cur > DefaultLimits.MaxFailureDelay || (prev < DefaultLimits.MaxFailureDelay && cur == prev) {
				t.Fatalf("delay after %d failures = %v, after %d = %v (bound %v)", n-1, prev, n, cur, DefaultLimits.MaxFailureDelay)
			}
		}
		if DefaultLimits.MaxFailureDelay > 5*time.Second {
			t.Fatalf("MaxFailureDelay %v: the owner would wait too long", DefaultLimits.MaxFailureDelay)
		}
	})
	t.Run("ErrRateLimitedPerAddress", func(t *testing.T) {
		for i := range DefaultLimits.MaxFailuresAddress {
			if _, _, _, err := s.Login(ctx, "user"+string(rune('a'+i))+"@example.com", "guess", "10.2.0.1", "t"); !fault.Is(err, fault.Unauthorized) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, _, _, err := s.Login(ctx, "someone@example.com", "guess", "10.2.0.1", "t"); !fault.Is(err, fault.RateLimited) {
			t.Fatalf("after %d failures from one address: %v", DefaultLimits.MaxFailuresAddress, err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Email: "admin@example.com", Role: web.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	key, k, err := s.CreateAPIKey(ctx, u.ID, "sync")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("KeyIdentifiesItsUser", func(t *testing.T) {
		id, err := s.APIKeyIdentity(ctx, key)
		if err != nil || id.UserID != u.ID || !id.ViaAPIKey {
			t.Fatalf("identity = %+v, %v", id, err)
		}
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		if _, err := s.APIKeyIdentity(ctx, "mk_"+k.Prefix+"_forged"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("forged key: %v", err)
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		for _, bad := range []string{"", "mk_", "nope", "mk_a_b_c"} {
			if _, err := s.APIKeyIdentity(ctx, bad); !fault.Is(err, fault.Unauthorized) {
				t.Fatalf("key %q: %v", bad, err)
			}
		}
	})
	t.Run("ErrRevoked", func(t *testing.T) {
		if err := s.RevokeAPIKey(ctx, u.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyIdentity(ctx, key); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("revoked key: %v", err)
		}
	})
	t.Run("ErrRevokeAnotherUsersKey", func(t *testing.T) {
		other, err := s.CreateUser(ctx, NewUser{Email: "other@example.com", Role: web.RoleAnalyst})
		if err != nil {
			t.Fatal(err)
		}
		_, k2, err := s.CreateAPIKey(ctx, other.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, u.ID, k2.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("revoking another user's key: %v", err)
		}
	})
	t.Run("UserWithoutPasswordCannotLogIn", func(t *testing.T) {
		if _, _, _, err := s.Login(ctx, "admin@example.com", "", "10.3.0.1", "t"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("login without password: %v", err)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(h, "correct horse") || checkPassword(h, "correct horsE") || checkPassword("garbage", "x") {
		t.Fatal("checkPassword disagrees with hashPassword")
	}
}
