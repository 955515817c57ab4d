package status

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"postgate/internal/peercred"
)

// API paths served on the admin socket.
const (
	PathStatus   = "/v1/status"    // GET: Snapshot
	PathQueue    = "/v1/queue"     // GET: {"messages": [QueueEntry...]}
	PathQueueRun = "/v1/queue/run" // POST, optional ?domain=D: RunResult
)

// Server answers the admin API. Fill the fields, then call Serve; the
// fields must not change afterwards.
type Server struct {
	// Hostname and Version are reported as they are.
	Hostname string
	Version  string
	// Started is when the server started.
	Started time.Time
	// Listeners are the bound listeners, in the order they are reported.
	Listeners []Listener
	// Spool is the queue to summarise and list; nil reports an empty queue.
	Spool Spool
	// AuthFailures is the record the AUTH code fills; nil reports none.
	AuthFailures *AuthFailures
	// RunQueue starts a queue run, for all queued mail when domain is ""
	// or for recipients in domain, and returns what to tell the user. A
	// nil RunQueue answers that queue runs are not supported. An error
	// is reported to the user as a failed run.
	RunQueue func(ctx context.Context, domain string) (string, error)
	// AllowUIDs may use the API besides root and the server's own
	// effective uid (checked with SO_PEERCRED on Linux).
	AllowUIDs []uint32
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	once sync.Once
	hs   *http.Server
}

type ctxKey struct{}

// Serve answers requests on ln (from ListenSocket) until Close. It
// returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.httpServer().Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the server; requests in progress may finish within ctx. A
// later Serve returns at once.
func (s *Server) Close(ctx context.Context) error {
	return s.httpServer().Shutdown(ctx)
}

// Handler returns the API handler without the peer check (for embedding
// and tests).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathStatus, s.handleStatus)
	mux.HandleFunc("GET "+PathQueue, s.handleQueue)
	mux.HandleFunc("POST "+PathQueueRun, s.handleRun)
	return mux
}

func (s *Server) httpServer() *http.Server {
	s.once.Do(s.initHTTP)
	return s.hs
}

func (s *Server) initHTTP() {
	s.hs = &http.Server{
		Handler:           s.guard(s.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, s.peerAllowed(c))
		},
	}
}

// peerAllowed applies the uid check to a new connection.
func (s *Server) peerAllowed(c net.Conn) bool {
	if !peercred.Supported {
		return true // the socket's 0600 mode is the guard
	}
	uid, ok := peercred.UID(c)
	if !ok {
		return false
	}
	return uid == 0 || uid == uint32(os.Geteuid()) || slices.Contains(s.AllowUIDs, uid)
}

// guard refuses connections from peers that are not allowed.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, _ := r.Context().Value(ctxKey{}).(bool); !ok {
			writeJSON(w, http.StatusForbidden, apiError{Error: "permission denied: only root and the server's user may use the admin socket"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Snapshot builds the status report.
func (s *Server) Snapshot() Snapshot {
	now := s.now()
	snap := Snapshot{Hostname: s.Hostname, Version: s.Version, PID: os.Getpid(), Started: s.Started, Now: now,
		UptimeSeconds: max(0, now.Sub(s.Started).Seconds()), Listeners: s.Listeners}
	if snap.Listeners == nil {
		snap.Listeners = []Listener{}
	}
	var entries []QueueEntry
	var qerr error
	if s.Spool != nil {
		entries, qerr = ListQueue(s.Spool)
	}
	snap.Queue = Summarize(entries, now)
	if qerr != nil {
		snap.Queue.Error = qerr.Error()
	}
	groups := s.AuthFailures.Summary()
	kept := 0
	for _, g := range groups {
		kept += g.Count
	}
	snap.AuthFailures = AuthReport{Total: s.AuthFailures.Total(), Kept: kept,
		Window: s.AuthFailures.Capacity(), Groups: groups}
	return snap
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Snapshot())
}

// queueList is the body of GET /v1/queue.
type queueList struct {
	Messages []QueueEntry `json:"messages"`
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	list := queueList{Messages: []QueueEntry{}}
	if s.Spool != nil {
		entries, err := ListQueue(s.Spool)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{Error: "reading the queue: " + err.Error()})
			return
		}
		list.Messages = entries
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	domain := r.URL.Query().Get("domain")
	if s.RunQueue == nil {
		writeJSON(w, http.StatusOK, RunResult{OK: false, Message: "this server does not support queue runs on request"})
		return
	}
	msg, err := s.RunQueue(r.Context(), domain)
	if err != nil {
		writeJSON(w, http.StatusOK, RunResult{OK: false, Message: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, RunResult{OK: true, Message: msg})
}

// apiError is the body of an error response.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
