package smtpclient

import (
	"crypto/tls"
	"errors"
	"fmt"

	"postgate/internal/tlsconf"
)

// StartTLS sends STARTTLS (RFC 3207) and runs the TLS handshake with cfg
// (nil means a default configuration, which verifies the server against
// the system roots and needs cfg.ServerName set by the caller to do so).
// The extensions are forgotten: send EHLO again. A refusal is an
// *smtp.Error; a handshake failure leaves the connection unusable.
func (c *Client) StartTLS(cfg *tls.Config) error {
	if c.tls != nil {
		return errors.New("smtpclient: TLS is already active")
	}
	if _, err := c.Cmd(220, "STARTTLS"); err != nil {
		return err
	}
	if c.r.Buffered() > 0 {
		// Anything the server sent before the handshake was injected
		// in plaintext (CVE-2011-0411 in reverse): refuse to go on.
		c.Close()
		return errors.New("smtpclient: server sent data after its STARTTLS reply, before TLS")
	}
	if cfg == nil {
		cfg = &tls.Config{}
	}
	tc := tls.Client(c.conn, cfg)
	if err := c.arm(c.opt.CommandTimeout); err != nil {
		return err
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.Close()
		return fmt.Errorf("TLS handshake: %w", err)
	}
	st := tc.ConnectionState()
	c.tls = &st
	c.setConn(tc)
	c.ext = nil
	c.rcpts = 0
	return nil
}

// TLSState returns the TLS connection state and whether TLS is active
// (implicit or after StartTLS).
func (c *Client) TLSState() (tls.ConnectionState, bool) {
	if c.tls == nil {
		return tls.ConnectionState{}, false
	}
	return *c.tls, true
}

// ChannelBindings returns the channel binding data for SCRAM-*-PLUS,
// computed as postgate's server does: tls-exporter (RFC 9266) on TLS 1.3,
// tls-unique (RFC 5929) on TLS 1.2. It is empty without TLS.
func (c *Client) ChannelBindings() map[string][]byte {
	return ChannelBindings(c.tls)
}

// ChannelBindings computes the channel binding data of a TLS connection
// state, as the server does (nil: none).
func ChannelBindings(st *tls.ConnectionState) map[string][]byte {
	return tlsconf.ChannelBindings(st)
}
