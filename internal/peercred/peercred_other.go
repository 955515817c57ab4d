//go:build !linux

// Package peercred tells who is at the other end of a UNIX-domain socket.
// On this system it cannot: callers must refuse what needs it.
package peercred

import "net"

// Supported reports whether UID works on this system.
const Supported = false

// UID is not implemented on this system.
func UID(net.Conn) (uint32, bool) { return 0, false }
