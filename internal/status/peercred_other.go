//go:build !linux

package status

import "net"

// PeerUID is not implemented on this system: it always reports !ok, and
// the admin socket relies on its file mode alone.
func PeerUID(net.Conn) (uid uint32, ok bool) { return 0, false }

// peerCredSupported reports whether PeerUID works on this system.
const peerCredSupported = false
