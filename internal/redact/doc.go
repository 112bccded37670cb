// Package redact hides header values that may be credentials in what
// Hookline stores and shows: the request and response headers of delivery
// attempts and workflow http steps, the headers kept with received events
// and rejected requests, and the headers a user configures on endpoints
// and notify-rule lookups. Values are replaced by Marker when they are
// written, so no API route, log or database row can show them afterwards.
//
// Two rule sets share one list of names:
//
//   - Sent (a request Hookline sends, or the answer to it) hides
//     credentials, signatures and every header the user configured.
//     Hookline's own webhook-signature is not a credential, but with the
//     body and timestamp shown beside it, it is a request anyone reading
//     the log could replay to the receiver within its tolerance; seeing
//     it helps nobody who cannot compute it from the secret anyway.
//   - Received (a request a provider sent to Hookline) hides credentials
//     and keeps signatures: a provider's signature is an HMAC that only
//     the provider's secret verifies, and it is what replaying the raw
//     request later needs. Signature headers are kept only when a source
//     lists them in keep_headers, and on rejected requests, where they are
//     what debugging a failed verification needs.
package redact
