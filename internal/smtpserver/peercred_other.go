//go:build !linux

package smtpserver

import "net"

// unixPeerUID is not implemented on this system: local submission is refused.
func unixPeerUID(*net.UnixConn) (uint32, bool) { return 0, false }
