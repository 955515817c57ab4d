package status

import "time"

// Snapshot is what GET /v1/status returns: a short picture of the running
// server.
type Snapshot struct {
	Hostname      string       `json:"hostname"`
	Version       string       `json:"version,omitempty"`
	PID           int          `json:"pid"`
	Started       time.Time    `json:"started"`
	Now           time.Time    `json:"now"`
	UptimeSeconds float64      `json:"uptime_seconds"`
	Listeners     []Listener   `json:"listeners"`
	Queue         QueueSummary `json:"queue"`
	AuthFailures  AuthReport   `json:"auth_failures"`
}

// Listener is one bound listener.
type Listener struct {
	Name    string `json:"name"`    // "smtp", "submission", "submissions", "local", "admin", "metrics"
	Address string `json:"address"` // host:port or socket path
}

// QueueSummary counts the spool's messages and their recipients.
type QueueSummary struct {
	Messages         int            `json:"messages"`
	Recipients       int            `json:"recipients"`
	Bytes            int64          `json:"bytes"`
	Oldest           time.Time      `json:"oldest,omitzero"`      // arrival of the oldest message; zero when empty
	OldestAgeSeconds float64        `json:"oldest_age_seconds"`   // 0 when empty
	ByStatus         map[string]int `json:"recipients_by_status"` // pending, deferred, delivered, failed
	Error            string         `json:"error,omitempty"`      // set when the spool could not be read
}

// Recipient status classes in QueueSummary.ByStatus and QueueRecipient.
// "deferred" is a pending recipient that has had at least one attempt.
const (
	StatusPending   = "pending"
	StatusDeferred  = "deferred"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// AuthReport is the recent AUTH failure summary.
type AuthReport struct {
	Total  uint64             `json:"total"`  // failures since start
	Kept   int                `json:"kept"`   // failures summarised below (at most Capacity)
	Window int                `json:"window"` // capacity of the record
	Groups []AuthFailureGroup `json:"groups"` // by client and reason class
}

// QueueEntry is one queued message as GET /v1/queue lists it.
type QueueEntry struct {
	ID         string           `json:"id"`
	Received   time.Time        `json:"received"`
	Size       int64            `json:"size"`
	From       string           `json:"from"` // "" for the null sender
	AuthUser   string           `json:"auth_user,omitempty"`
	Recipients []QueueRecipient `json:"recipients"`
}

// QueueRecipient is one recipient of a queued message.
type QueueRecipient struct {
	Addr        string    `json:"addr"`
	Status      string    `json:"status"` // one of the Status constants
	Attempts    int       `json:"attempts,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// RunResult is the answer to a queue-run request.
type RunResult struct {
	OK      bool   `json:"ok"`      // the server started (or did) a queue run
	Message string `json:"message"` // what the server says, for the user
}
