//go:build linux

package status

import (
	"net"
	"syscall"
)

// PeerUID returns the effective uid of the process at the other end of a
// UNIX-domain socket connection (SO_PEERCRED). ok is false when c is not
// a UNIX connection or the kernel does not say.
func PeerUID(c net.Conn) (uid uint32, ok bool) {
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

// peerCredSupported reports whether PeerUID works on this system.
const peerCredSupported = true
