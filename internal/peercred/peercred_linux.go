//go:build linux

// Package peercred tells who is at the other end of a UNIX-domain socket
// (SO_PEERCRED). The local submission socket uses it to apply the sendmail
// trust model, the admin socket to admit only root and the server's user.
package peercred

import (
	"net"
	"syscall"
)

// Supported reports whether UID works on this system.
const Supported = true

// UID returns the effective uid of the peer process. ok is false when c is
// not a UNIX connection or the kernel does not say.
func UID(c net.Conn) (uid uint32, ok bool) {
	uc, isUnix := c.(*net.UnixConn)
	if !isUnix {
		return 0, false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return 0, false
	}
	return cred.Uid, true
}
