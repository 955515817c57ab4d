package probe

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Mode is how the probe secures its connections.
type Mode string

// Connection modes.
const (
	// ModeAuto uses STARTTLS when the server offers it and goes on in
	// plaintext otherwise (port 25 and unknown ports).
	ModeAuto Mode = "auto"
	// ModeStartTLS requires STARTTLS (port 587).
	ModeStartTLS Mode = "starttls"
	// ModeTLS starts TLS before the greeting (port 465, RFC 8314).
	ModeTLS Mode = "tls"
	// ModePlain never uses TLS.
	ModePlain Mode = "plain"
)

// DefaultPort is used when the target names none.
const DefaultPort = "587"

// ResolveTarget splits HOST[:PORT] (IPv6 as [addr]:port or bare) and picks
// the mode: an explicit mode wins; otherwise 465 means TLS, 587 (also the
// default port) STARTTLS, and any other port STARTTLS when offered.
func ResolveTarget(target string, mode Mode) (host, addr string, m Mode, err error) {
	target = strings.TrimSpace(target)
	if target == "" {
		return "", "", "", fmt.Errorf("no target: give HOST or HOST:PORT")
	}
	port := ""
	if h, p, err := net.SplitHostPort(target); err == nil {
		host, port = h, p
	} else if strings.Count(target, ":") > 1 || !strings.Contains(target, ":") {
		host = strings.Trim(target, "[]") // bare IPv6 address or host name
	} else {
		return "", "", "", fmt.Errorf("bad target %q: %v", target, err)
	}
	if host == "" {
		return "", "", "", fmt.Errorf("bad target %q: empty host", target)
	}
	if port == "" {
		port = DefaultPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", "", fmt.Errorf("bad port %q", port)
	}
	switch mode {
	case "":
		switch port {
		case "465":
			mode = ModeTLS
		case "587":
			mode = ModeStartTLS
		default:
			mode = ModeAuto
		}
	case ModeAuto, ModeStartTLS, ModeTLS, ModePlain:
	default:
		return "", "", "", fmt.Errorf("unknown mode %q", mode)
	}
	return host, net.JoinHostPort(host, port), mode, nil
}
