// Package metrics is postgate's Prometheus instrumentation: every
// collector is declared in metrics.go, the engine reports events through
// small typed helpers (SessionStarted, AuthAttempt, MessageAccepted, ...),
// and Serve exposes them at /metrics in the Prometheus text exposition
// format (github.com/prometheus/client_golang).
//
// Standards served: the Prometheus exposition format (text 0.0.4 and
// OpenMetrics through promhttp's content negotiation) over HTTP/1.1
// (RFC 9112).
//
// Security reasoning:
//   - Label values come only from small fixed vocabularies (listener kinds,
//     mechanism names, reason classes, outcomes). Anything a client can
//     choose (a mechanism name, an error text, a user name, an address) is
//     mapped to a class or to "other" before it becomes a label, so a
//     client cannot grow the number of series without bound, and no user
//     name, address or secret can appear in a scrape.
//   - Serve refuses an address that is not loopback unless the caller
//     explicitly allows it (configuration key metrics.allow_non_loopback):
//     the endpoint has no authentication and reveals traffic patterns.
//   - The HTTP server has read-header, read, write and idle timeouts so an
//     idle or slow scraper cannot hold connections forever.
package metrics
