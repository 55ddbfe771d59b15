package stripetest

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestVersionMatchesGoMod keeps the cached binary's name honest: Version must be the version
// go.mod pins, or a cached older build would be used after an upgrade.
func TestVersionMatchesGoMod(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/stripe/stripe-mock").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != Version {
		t.Fatalf("go.mod pins stripe-mock %s; stripetest.Version is %s", got, Version)
	}
}

func TestURLAnswers(t *testing.T) {
	base := URL(t)
	req, err := http.NewRequest(http.MethodGet, base+"/v1/balance", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	if URL(t) != base {
		t.Fatal("a second call started another server")
	}
}
