package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Endpoint is a running /metrics HTTP server.
type Endpoint struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// CheckAddr validates a [metrics] listen address. Without allowNonLoopback
// the host must be a loopback IP literal (127.0.0.0/8, ::1) or
// "localhost": the endpoint has no authentication, and an address such as
// ":9100" or "0.0.0.0:9100" would publish it on every interface.
func CheckAddr(addr string, allowNonLoopback bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics.listen: %q is not host:port: %v", addr, err)
	}
	if port == "" {
		return fmt.Errorf("metrics.listen: %q has no port", addr)
	}
	if allowNonLoopback {
		return nil
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if host == "" {
		return fmt.Errorf("metrics.listen: %q listens on every interface; use 127.0.0.1:PORT, or set metrics.allow_non_loopback = true", addr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("metrics.listen: %q: the host must be a loopback IP address or localhost (or set metrics.allow_non_loopback = true)", addr)
	}
	if !ip.Unmap().IsLoopback() {
		return fmt.Errorf("metrics.listen: %s is not a loopback address; the endpoint has no authentication (set metrics.allow_non_loopback = true to publish it anyway)", ip)
	}
	return nil
}

// Handler returns the HTTP handler serving m's registry in the Prometheus
// exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Serve listens on addr (checked by CheckAddr) and serves GET /metrics
// from m until Close. Other paths answer 404.
func (m *Metrics) Serve(addr string, allowNonLoopback bool) (*Endpoint, error) {
	if err := CheckAddr(addr, allowNonLoopback); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	e := &Endpoint{
		ln:   ln,
		done: make(chan error, 1),
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
	}
	go func() {
		err := e.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		e.done <- err
	}()
	return e, nil
}

// Serve serves Default's collectors (see Metrics.Serve).
func Serve(addr string, allowNonLoopback bool) (*Endpoint, error) {
	return Default.Serve(addr, allowNonLoopback)
}

// Addr returns the address the endpoint listens on (useful with port 0).
func (e *Endpoint) Addr() string { return e.ln.Addr().String() }

// Close stops the endpoint: in-flight scrapes may finish within ctx, then
// connections are closed. It returns the server's error, if it failed.
func (e *Endpoint) Close(ctx context.Context) error {
	if err := e.srv.Shutdown(ctx); err != nil {
		e.srv.Close()
	}
	return <-e.done
}
