package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

var (
	// ErrNotRunning means nothing answers on the admin socket.
	ErrNotRunning = errors.New("the postgate server is not running")
	// ErrPermission means the socket exists but this user may not use it.
	ErrPermission = errors.New("permission denied: the admin socket is for root and the server's user only")
)

// Client talks to a running server's admin socket.
type Client struct {
	path string
	hc   *http.Client
}

// NewClient returns a client for the admin socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableKeepAlives: true,
	}
	return &Client{path: path, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// Status fetches the server's Snapshot.
func (c *Client) Status(ctx context.Context) (*Snapshot, error) {
	var s Snapshot
	if err := c.do(ctx, http.MethodGet, PathStatus, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Queue lists the queued messages in arrival order.
func (c *Client) Queue(ctx context.Context) ([]QueueEntry, error) {
	var l queueList
	if err := c.do(ctx, http.MethodGet, PathQueue, &l); err != nil {
		return nil, err
	}
	return l.Messages, nil
}

// RunQueue asks for a queue run (for one domain, or all mail if domain is
// "") and returns the server's answer.
func (c *Client) RunQueue(ctx context.Context, domain string) (*RunResult, error) {
	p := PathQueueRun
	if domain != "" {
		p += "?domain=" + url.QueryEscape(domain)
	}
	var r RunResult
	if err := c.do(ctx, http.MethodPost, p, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://postgate"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.path, err)
	}
	if resp.StatusCode == http.StatusForbidden {
		return ErrPermission
	}
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("server: %s", e.Error)
		}
		return fmt.Errorf("admin socket %s: %s", c.path, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("admin socket %s: bad answer: %w", c.path, err)
	}
	return nil
}

// dialError turns a connection failure into ErrNotRunning or
// ErrPermission where it is one.
func (c *Client) dialError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%w (nothing answers on %s)", ErrNotRunning, c.path)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return ErrPermission
	}
	return fmt.Errorf("admin socket %s: %w", c.path, err)
}
