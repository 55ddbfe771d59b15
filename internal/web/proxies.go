package web

import (
	"fmt"
	"net"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParseTrustedProxies reads TRUSTED_PROXIES: CIDRs (or single addresses) separated by commas
// or spaces, e.g. "10.0.0.0/8, 127.0.0.1". Empty means none. The error names the entry.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR (like 10.0.0.0/8) or an IP address", f)
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR (like 10.0.0.0/8) or an IP address", f)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// ipExtractor finds the client's address. Forwarding headers are believed only from the
// configured proxies: trusting any private or loopback peer would let anyone who reaches the
// server that way (a sidecar, a neighbour on the network, a local process) pick the address
// that rate limits key on. Without proxies, the socket's address is the client's.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
