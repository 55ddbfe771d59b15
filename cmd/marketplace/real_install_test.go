package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// realInstall is the whole program started on an empty database (no seed) and :0, with the
// environment the command line gets, so commands run through run as an operator types them.
type realInstall struct {
	t   *testing.T
	m   *Main
	env map[string]string
}

func startRealInstall(t *testing.T) *realInstall {
	t.Helper()
	m, env := runMain(t, "LOG_LEVEL", "warn")
	return &realInstall{t: t, m: m, env: env}
}

// command runs `marketplace args...` against the install's database and returns its output.
func (ri *realInstall) command(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return ri.env[k] }, &stdout, &stderr)
	return stdout.String(), err
}

func (ri *realInstall) mustCommand(args ...string) string {
	ri.t.Helper()
	out, err := ri.command(args...)
	if err != nil {
		ri.t.Fatalf("marketplace %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// apiKey creates the user with `users create` and returns a key from `users apikey`.
func (ri *realInstall) apiKey(args ...string) string {
	ri.t.Helper()
	ri.mustCommand(append([]string{"users", "create"}, args...)...)
	return strings.TrimSpace(ri.mustCommand("users", "apikey", "--email", args[1]))
}

// api sends body (JSON, or a multipartBody) with the key and decodes the answer into out when
// it has the status wanted (want 0: any 2xx).
func (ri *realInstall) api(method, path, key string, body any, want int, out any) {
	ri.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case multipartBody:
		rd, ctype = bytes.NewReader(b.data), b.ctype
	default:
		js, err := json.Marshal(b)
		if err != nil {
			ri.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, ri.m.url(path), rd)
	if err != nil {
		ri.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ri.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ri.t.Fatal(err)
	}
	if resp.StatusCode != want && (want != 0 || resp.StatusCode/100 != 2) {
		ri.t.Fatalf("%s %s: %d, want %d: %.1500s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			ri.t.Fatalf("%s %s: %v: %.500s", method, path, err, data)
		}
	}
}

type multipartBody struct {
	data  []byte
	ctype string
}

func newMultipart(t *testing.T, fields map[string]string, files map[string][]byte) multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		field, file, _ := strings.Cut(name, ":")
		fw, err := mw.CreateFormFile(field, file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return multipartBody{buf.Bytes(), mw.FormDataContentType()}
}

type screenedListing struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Title     string `json:"title"`
	Screening *struct {
		Verdict string `json:"verdict"`
		Reasons []struct {
			Rule   string `json:"rule"`
			Detail string `json:"detail"`
		} `json:"reasons"`
	} `json:"screening"`
}

// screened waits (a minute at most) until the listing is no longer pending.
func (ri *realInstall) screened(key string, id int64) screenedListing {
	ri.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var l screenedListing
		ri.api("GET", "/api/v1/listings/"+itoa(id), key, nil, http.StatusOK, &l)
		if l.Status != "pending" {
			return l
		}
		if time.Now().After(deadline) {
			ri.t.Fatalf("listing %d is still pending after a minute", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRealInstallFromNothing is issue 18's first install: on an empty database (no demo), the
// admin made by `users create` registers a property with its marks, a licensee and a licence
// through the API; the licensee's listing that uses the marks goes live, an independent
// seller's listing claiming them is held or blocked for an unlicensed mark; and `seed`
// refuses to pour the demo (and its published password) into this install.
func TestRealInstallFromNothing(t *testing.T) {
	t.Parallel()
	ri := startRealInstall(t)
	admin := ri.apiKey("--email", "ops@games.example", "--role", "admin", "--password", "correct horse battery")

	var prop struct {
		Code  string `json:"code"`
		Marks []struct{ Text, Lang string }
	}
	ri.api("POST", "/api/v1/properties", admin, map[string]any{"code": "BRISBANE2032", "name": "Brisbane 2032 Olympic Games",
		"marks": []any{"Brisbane 2032", map[string]string{"text": "BNE32", "lang": ""}, map[string]string{"text": "Jeux de Brisbane", "lang": "fr"}}},
		http.StatusCreated, &prop)
	if prop.Code != "BRISBANE2032" || len(prop.Marks) != 3 {
		t.Fatalf("property = %+v", prop)
	}
	var licensee struct{ ID int64 }
	ri.api("POST", "/api/v1/licensees", admin, map[string]string{"name": "Koala Merch Pty Ltd", "country": "AU", "contact_email": "lic@koala.example"},
		http.StatusCreated, &licensee)
	var licence struct{ Number, Status string }
	ri.api("POST", "/api/v1/licensees/"+itoa(licensee.ID)+"/licences", admin, map[string]any{"number": "BNE32-APP-0001",
		"property": "BRISBANE2032", "categories": []string{"apparel"}, "territories": []string{"AU", "FR"},
		"valid_from": time.Now().AddDate(0, -1, 0).Format(time.DateOnly), "valid_to": time.Now().AddDate(3, 0, 0).Format(time.DateOnly), "royalty_bps": 1200},
		http.StatusCreated, &licence)
	if licence.Status != "active" {
		t.Fatalf("licence = %+v", licence)
	}

	lic := ri.apiKey("--email", "shop@koala.example", "--role", "licensee", "--licensee", itoa(licensee.ID), "--password", "koala koala koala")
	csv := "sku,title_en,description_en,property,category,currency,price_amount,territories,stock,gtin,images\n" +
		"KOALA-TEE-M,Brisbane 2032 koala tee,The official BNE32 tee,BRISBANE2032,apparel,EUR,3500,AU;FR,20,,\n"
	var imp struct {
		ID       int64  `json:"id"`
		Status   string `json:"status"`
		Accepted int    `json:"accepted"`
	}
	ri.api("POST", "/api/v1/catalog/imports", lic, newMultipart(t, nil, map[string][]byte{"file:koala.csv": []byte(csv)}), 0, &imp)
	for deadline := time.Now().Add(time.Minute); imp.Status == "running"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the import is still running after a minute")
		}
		ri.api("GET", "/api/v1/catalog/imports/"+itoa(imp.ID), lic, nil, http.StatusOK, &imp)
	}
	if imp.Status != "succeeded" || imp.Accepted != 1 {
		t.Fatalf("import = %+v", imp)
	}
	photo := phonePhoto(t)
	var own screenedListing
	ri.api("POST", "/api/v1/listings", lic, newMultipart(t, map[string]string{"title": "Brisbane 2032 koala tee (BNE32)",
		"description": "Our licensed tee", "price_amount": "3500", "currency": "EUR", "territories": "FR", "product_sku": "KOALA-TEE-M"},
		map[string][]byte{"images:tee.jpg": photo}), http.StatusCreated, &own)

	seller := ri.apiKey("--email", "bargains@independent.example", "--role", "seller", "--country", "FR", "--password", "bargain bargain")
	var fake screenedListing
	ri.api("POST", "/api/v1/listings", seller, newMultipart(t, map[string]string{"title": "Official BNE32 Brisbane 2032 tee",
		"description": "Official merchandise, cheap", "price_amount": "900", "currency": "EUR", "territories": "FR"},
		map[string][]byte{"images:tee.jpg": photo}), http.StatusCreated, &fake)

	if got := ri.screened(lic, own.ID); got.Status != "live" {
		t.Errorf("the licensee's listing is %s, want live: %+v", got.Status, got.Screening)
	}
	got := ri.screened(seller, fake.ID)
	if got.Status != "held" && got.Status != "blocked" {
		t.Fatalf("the independent seller's listing is %s, want held or blocked", got.Status)
	}
	var named bool
	for _, r := range got.Screening.Reasons {
		named = named || (r.Rule == "marks_without_licence" && strings.Contains(r.Detail, "BRISBANE2032"))
	}
	if !named {
		t.Errorf("the screening does not name the unlicensed BRISBANE2032 mark: %+v", got.Screening)
	}

	t.Run("SeedRefusesThisDatabase", func(t *testing.T) {
		_, err := ri.command("seed", "--small")
		if err == nil {
			t.Fatal("seed poured the demo into a real install")
		}
		for _, want := range []string{"ops@games.example", "Koala Merch Pty Ltd", "BRISBANE2032", "users create", "empty database"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal lacks %q: %v", want, err)
			}
		}
		var demoUsers int
		if err := ri.m.DB.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE email LIKE '%@demo.olympics.test'`).Scan(&demoUsers); err != nil || demoUsers != 0 {
			t.Fatalf("demo users after a refused seed: %d, %v", demoUsers, err)
		}
	})
}

var generatedPassword = regexp.MustCompile(`(?m)^password: (\S+)`)

// TestUsersCreatePassword: users create never leaves an account without a password nobody
// knows, refuses the demo's published one, and prints the one it generates, which logs in.
func TestUsersCreatePassword(t *testing.T) {
	t.Parallel()
	ri := startRealInstall(t)
	if _, err := ri.command("users", "create", "--email", "root@games.example", "--role", "admin", "--password", DemoPassword); err == nil ||
		!strings.Contains(err.Error(), "--password") || !strings.Contains(err.Error(), "demo") {
		t.Fatalf("the demo password was taken: %v", err)
	}
	out := ri.mustCommand("users", "create", "--email", "root@games.example", "--role", "admin")
	m := generatedPassword.FindStringSubmatch(out)
	if m == nil || len(m[1]) < 16 {
		t.Fatalf("no generated password printed: %q", out)
	}
	c := newClient(t, ri.m)
	if resp := c.login("root@games.example", m[1]); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("login with the printed password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	c = newClient(t, ri.m)
	if resp := c.login("root@games.example", DemoPassword); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the demo password logs in to a real install")
	}
}
