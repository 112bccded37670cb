// Package answer writes the JSON answers of Hookline's HTTP handlers: the
// API's, the webhook receiver's and the recipients' inbox's.
package answer

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/wire"
)

// JSON answers status with v as JSON.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error answers status with the error body every non-2xx answer has:
// {"error": {"code": code, "message": message}} (wire.Error).
func Error(w http.ResponseWriter, status int, code, message string) {
	JSON(w, status, map[string]wire.Error{"error": {Code: code, Message: message}})
}
