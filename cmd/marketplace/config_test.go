package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfigTrustedProxies(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	t.Run("NoneByDefault", func(t *testing.T) {
		c, err := ConfigFromEnv(env(nil))
		if err != nil || len(c.TrustedProxies) != 0 {
			t.Fatalf("default: %v, %v", c.TrustedProxies, err)
		}
	})
	t.Run("CIDRsAndAddresses", func(t *testing.T) {
		c, err := ConfigFromEnv(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1"}))
		if err != nil || len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "127.0.0.1/32" {
			t.Fatalf("parsed: %v, %v", c.TrustedProxies, err)
		}
	})
	t.Run("ErrNamesTheVariable", func(t *testing.T) {
		if _, err := ConfigFromEnv(env(map[string]string{"TRUSTED_PROXIES": "lb.internal"})); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") || !strings.Contains(err.Error(), "lb.internal") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestConfigCheckoutHold: CHECKOUT_HOLD sets how long an unpaid order holds stock; a value that
// is not a positive duration is refused, naming the variable.
func TestConfigCheckoutHold(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := ConfigFromEnv(env(map[string]string{"CHECKOUT_HOLD": "7m"}))
	if err != nil || c.CheckoutHold != 7*time.Minute {
		t.Fatalf("CHECKOUT_HOLD=7m: %v, %v", c.CheckoutHold, err)
	}
	for _, bad := range []string{"ten minutes", "-5m", "0s"} {
		if _, err := ConfigFromEnv(env(map[string]string{"CHECKOUT_HOLD": bad})); err == nil || !strings.Contains(err.Error(), "CHECKOUT_HOLD") {
			t.Errorf("CHECKOUT_HOLD=%q: err = %v", bad, err)
		}
	}
}
