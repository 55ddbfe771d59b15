// Package auth keeps the accounts: users and their roles, password logins with server-side
// sessions, API keys for programs, and the brakes on guessing (a delay per account, a limit
// per address). It implements
// web.Authenticator, so every slice sees the caller as a web.Identity.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the accounts' tables.
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "auth", FS: sub}
}()

// User is an account.
type User struct {
	ID          int64
	Email       string
	Role        web.Role
	LicenseeID  int64
	SellerID    int64
	CreatedAt   time.Time
	HasPassword bool
}

// APIKey describes a key without its secret, which is shown only once.
type APIKey struct {
	ID         int64
	Prefix     string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Limits tune sessions and the login rate limit.
type Limits struct {
	SessionTTL    time.Duration
	FailureWindow time.Duration // how long a failed login counts
	// FailureDelay is how long an account's next login attempt waits after its first recent
	// failure; each further failure doubles it, up to MaxFailureDelay. The right password waits
	// too, so the wait tells a guesser nothing, but it is never refused: the owner gets in.
	FailureDelay       time.Duration
	MaxFailureDelay    time.Duration
	MaxFailuresAddress int // per client address within the window, then 429
}

// DefaultLimits: two-week sessions; an account's login waits 0.2 s after a failure, doubling
// per failure up to 3 s, for 15 minutes; 20 failures from one address within 15 minutes and
// logins from it answer 429.
var DefaultLimits = Limits{SessionTTL: 14 * 24 * time.Hour, FailureWindow: 15 * time.Minute,
	FailureDelay: 200 * time.Millisecond, MaxFailureDelay: 3 * time.Second, MaxFailuresAddress: 20}

// Service is the accounts' rules over their tables.
type Service struct {
	db     *pgxpool.Pool
	limits Limits
	now    func() time.Time
}

// NewService returns the accounts service.
func NewService(db *pgxpool.Pool, limits Limits) *Service {
	return &Service{db: db, limits: limits, now: time.Now}
}

// NewUser is what it takes to make an account.
type NewUser struct {
	Email      string
	Password   string // empty: the account logs in only with API keys until a password is set
	Role       web.Role
	LicenseeID int64
	SellerID   int64
}

const minPasswordLen = 10

// CreateUser makes an account. Returns Invalid naming the field for a bad e-mail, role or
// password, and Conflict when the e-mail address is taken.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (_ User, err error) {
	defer fault.Annotate(&err, "auth.CreateUser()")
	var bad fault.Fields
	email, err := normaliseEmail(nu.Email)
	if err != nil {
		bad.Add("email", "%v", err)
	}
	if !nu.Role.Valid() {
		bad.Add("role", "must be one of fan, seller, licensee, analyst, admin")
	}
	if nu.Password != "" && len(nu.Password) < minPasswordLen {
		bad.Add("password", "must be at least %d characters", minPasswordLen)
	}
	if len(nu.Password) > 256 {
		bad.Add("password", "must be at most 256 characters")
	}
	if nu.Role == web.RoleLicensee && nu.LicenseeID == 0 {
		bad.Add("licensee_id", "a licensee user belongs to a licensee")
	}
	if nu.Role == web.RoleSeller && nu.SellerID == 0 {
		bad.Add("seller_id", "a seller user belongs to a seller")
	}
	if nu.Role != web.RoleLicensee && nu.Role != web.RoleSeller && (nu.LicenseeID != 0 || nu.SellerID != 0) {
		bad.Add("role", "only licensee and seller users belong to a licensee or seller")
	}
	if err := bad.Err("the account cannot be created"); err != nil {
		return User{}, err
	}
	var hash *string
	if nu.Password != "" {
		h, err := hashPassword(nu.Password)
		if err != nil {
			return User{}, err
		}
		hash = &h
	}
	row := s.db.QueryRow(ctx, `
		INSERT INTO users (email, password_hash, role, licensee_id, seller_id)
		VALUES ($1, $2, $3, NULLIF($4, 0), NULLIF($5, 0))
		RETURNING `+userColumns(""), email, hash, nu.Role, nu.LicenseeID, nu.SellerID)
	u, err := scanUser(row)
	if fault.Is(postgres.Err(err, ""), fault.Conflict) {
		return User{}, fault.Validation("the account cannot be created", fault.Field("email", "an account with this e-mail address exists already"))
	}
	return u, postgres.Err(err, "licensee or seller")
}

// SetPassword replaces a user's password. Returns NotFound for an unknown e-mail address.
func (s *Service) SetPassword(ctx context.Context, email, password string) (err error) {
	defer fault.Annotate(&err, "auth.SetPassword(%q, %q)", email, password)
	if len(password) < minPasswordLen || len(password) > 256 {
		return fault.Validation("the password cannot be set", fault.Field("password", "must be %d to 256 characters", minPasswordLen))
	}
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE email = $1", strings.ToLower(strings.TrimSpace(email)), h)
	if err == nil && tag.RowsAffected() == 0 {
		return fault.New(fault.NotFound, "no account for %s", email)
	}
	return err
}

// UserByEmail returns the account with that e-mail address. Returns NotFound otherwise.
func (s *Service) UserByEmail(ctx context.Context, email string) (_ User, err error) {
	defer fault.Annotate(&err, "auth.UserByEmail(%q)", email)
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("")+" FROM users WHERE email = $1", strings.ToLower(strings.TrimSpace(email))))
	return u, postgres.Err(err, "user")
}

// Login checks an e-mail address and password and opens a session, returning its token (for
// the cookie) and expiry. Returns Unauthorized for a wrong pair, without saying which part was
// wrong, and RateLimited after too many failures from the address. Recent failures for the
// account make the attempt wait (Limits.FailureDelay), but never refuse the right password.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (_ string, _ time.Time, _ User, err error) {
	defer fault.Annotate(&err, "auth.Login(%q, %q, %q)", email, password, ip)
	email = strings.ToLower(strings.TrimSpace(email))
	since := s.now().Add(-s.limits.FailureWindow)
	var byAccount, byAddress int
	err = s.db.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE email = $1), count(*) FILTER (WHERE ip = $2)
		FROM login_failures WHERE at > $3 AND (email = $1 OR ip = $2)`, email, ip, since).Scan(&byAccount, &byAddress)
	if err != nil {
		return "", time.Time{}, User{}, err
	}
	if byAddress >= s.limits.MaxFailuresAddress {
		return "", time.Time{}, User{}, fault.New(fault.RateLimited, "too many failed logins; wait %d minutes and try again", int(s.limits.FailureWindow.Minutes()))
	}
	// A guessed account slows down rather than locking: a lock would let anyone who knows an
	// address shut its owner out. The wait comes before the check, for the right password too.
	if err := wait(ctx, s.failureDelay(byAccount)); err != nil {
		return "", time.Time{}, User{}, err
	}
	var hash *string
	var disabled *time.Time
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("")+", password_hash, disabled_at FROM users WHERE email = $1", email), &hash, &disabled)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, User{}, err
	}
	ok := false
	if hash != nil {
		ok = checkPassword(*hash, password)
	} else {
		checkPassword(dummyHash, password)
	}
	if !ok || disabled != nil {
		if _, err := s.db.Exec(ctx, "INSERT INTO login_failures (email, ip) VALUES ($1, $2)", email, ip); err != nil {
			return "", time.Time{}, User{}, err
		}
		return "", time.Time{}, User{}, fault.New(fault.Unauthorized, "wrong e-mail address or password")
	}
	token, expires, err := s.openSession(ctx, u.ID, ip, userAgent)
	return token, expires, u, err
}

// failureDelay is how long a login attempt waits after n recent failures for its account:
// nothing for none, FailureDelay for one, doubling per failure, never more than MaxFailureDelay.
func (s *Service) failureDelay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := s.limits.FailureDelay
	for i := 1; i < n && d < s.limits.MaxFailureDelay; i++ {
		d *= 2
	}
	return min(d, s.limits.MaxFailureDelay)
}

// wait sleeps for d, or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) openSession(ctx context.Context, userID int64, ip, userAgent string) (string, time.Time, error) {
	token := randomToken(32)
	expires := s.now().Add(s.limits.SessionTTL)
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)`,
		digest(token), userID, expires, ip, truncate(userAgent, 300))
	return token, expires, err
}

// Register makes a fan account and logs it in. Returns Invalid as CreateUser does.
func (s *Service) Register(ctx context.Context, email, password, ip, userAgent string) (_ string, _ time.Time, _ User, err error) {
	defer fault.Annotate(&err, "auth.Register(%q, %q, %q)", email, password, ip)
	if password == "" {
		return "", time.Time{}, User{}, fault.Validation("the account cannot be created", fault.Field("password", "choose a password of at least %d characters", minPasswordLen))
	}
	u, err := s.CreateUser(ctx, NewUser{Email: email, Password: password, Role: web.RoleFan})
	if err != nil {
		return "", time.Time{}, User{}, err
	}
	token, expires, err := s.openSession(ctx, u.ID, ip, userAgent)
	return token, expires, u, err
}

// Logout ends the session with that token; an unknown token is not an error.
func (s *Service) Logout(ctx context.Context, token string) (err error) {
	defer fault.Annotate(&err, "auth.Logout(%q)", token)
	_, err = s.db.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", digest(token))
	return err
}

// SessionIdentity implements web.Authenticator. Returns Unauthorized for an unknown or
// expired session, or a disabled account.
func (s *Service) SessionIdentity(ctx context.Context, token string) (_ *web.Identity, err error) {
	defer fault.Annotate(&err, "auth.SessionIdentity(%q)", token)
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("u.")+` FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`, digest(token), s.now()))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fault.New(fault.Unauthorized, "your session has ended; log in again")
	}
	if err != nil {
		return nil, err
	}
	id := identity(u)
	id.SessionID = base64.RawURLEncoding.EncodeToString(digest(token)[:8])
	return id, nil
}

// API keys look like "mk_<prefix>_<secret>": the prefix finds the row, the secret's SHA-256 is
// compared in constant time. The secret is 256 random bits, so a fast hash is enough here;
// argon2 guards passwords, which people choose.
const apiKeyScheme = "mk"

// CreateAPIKey makes a key for the user and returns it; it cannot be seen again. Returns
// NotFound for an unknown user.
func (s *Service) CreateAPIKey(ctx context.Context, userID int64, name string) (_ string, _ APIKey, err error) {
	defer fault.Annotate(&err, "auth.CreateAPIKey(%d, %q)", userID, name)
	prefix := randomToken(6)
	secret := randomToken(32)
	var k APIKey
	err = s.db.QueryRow(ctx, `INSERT INTO api_keys (user_id, prefix, secret_hash, name) VALUES ($1, $2, $3, $4)
		RETURNING id, prefix, name, created_at`, userID, prefix, digest(secret), truncate(strings.TrimSpace(name), 100)).
		Scan(&k.ID, &k.Prefix, &k.Name, &k.CreatedAt)
	if err != nil {
		return "", APIKey{}, postgres.Err(err, "user")
	}
	return apiKeyScheme + "_" + prefix + "_" + secret, k, nil
}

// APIKeys lists the user's keys, newest first.
func (s *Service) APIKeys(ctx context.Context, userID int64) (_ []APIKey, err error) {
	defer fault.Annotate(&err, "auth.APIKeys(%d)", userID)
	rows, err := s.db.Query(ctx, `SELECT id, prefix, name, created_at, last_used_at, revoked_at FROM api_keys
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		err := r.Scan(&k.ID, &k.Prefix, &k.Name, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
		return k, err
	})
}

// RevokeAPIKey stops a key from working. Returns NotFound when the key is not the user's.
func (s *Service) RevokeAPIKey(ctx context.Context, userID, keyID int64) (err error) {
	defer fault.Annotate(&err, "auth.RevokeAPIKey(%d, %d)", userID, keyID)
	tag, err := s.db.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND user_id = $2", keyID, userID)
	if err == nil && tag.RowsAffected() == 0 {
		return fault.New(fault.NotFound, "API key not found")
	}
	return err
}

// APIKeyIdentity implements web.Authenticator. Returns Unauthorized for a malformed, unknown
// or revoked key.
func (s *Service) APIKeyIdentity(ctx context.Context, key string) (_ *web.Identity, err error) {
	defer fault.Annotate(&err, "auth.APIKeyIdentity(%q)", key)
	unauthorized := fault.New(fault.Unauthorized, "the API key is not valid or has been revoked")
	parts := strings.Split(key, "_")
	if len(parts) != 3 || parts[0] != apiKeyScheme || parts[1] == "" || parts[2] == "" {
		return nil, unauthorized
	}
	var hash []byte
	var keyID int64
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("u.")+`, k.secret_hash, k.id FROM api_keys k JOIN users u ON u.id = k.user_id
		WHERE k.prefix = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL`, parts[1]), &hash, &keyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, unauthorized
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(hash, digest(parts[2])) != 1 {
		return nil, unauthorized
	}
	// Last use is for people deciding which keys to revoke; minute precision saves writes.
	if _, err := s.db.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1
		AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, keyID); err != nil {
		return nil, err
	}
	id := identity(u)
	id.ViaAPIKey = true
	return id, nil
}

// PruneExpired deletes ended sessions and old login failures; run it now and then.
func (s *Service) PruneExpired(ctx context.Context) (err error) {
	defer fault.Annotate(&err, "auth.PruneExpired()")
	if _, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE expires_at < now()"); err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, "DELETE FROM login_failures WHERE at < now() - interval '1 day'")
	return err
}

// userColumns lists what scanUser reads, with the table alias t ("u." or "").
func userColumns(t string) string {
	return fmt.Sprintf("%[1]sid, %[1]semail, %[1]srole, coalesce(%[1]slicensee_id, 0), coalesce(%[1]sseller_id, 0), %[1]screated_at, %[1]spassword_hash IS NOT NULL", t)
}

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	dest := append([]any{&u.ID, &u.Email, &u.Role, &u.LicenseeID, &u.SellerID, &u.CreatedAt, &u.HasPassword}, extra...)
	err := row.Scan(dest...)
	return u, err
}

func identity(u User) *web.Identity {
	return &web.Identity{UserID: u.ID, Email: u.Email, Role: u.Role, LicenseeID: u.LicenseeID, SellerID: u.SellerID}
}

func normaliseEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", fmt.Errorf("is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	return s, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	// Base32-like alphabet without '_' so keys split cleanly on it.
	return strings.NewReplacer("_", "x", "-", "y").Replace(base64.RawURLEncoding.EncodeToString(b))
}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
