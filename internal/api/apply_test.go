package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/workflow"
)

// TestApplyErrorAnswers: a mistake in a declared resource is answered
// with the resource, its name and the field in details (what the CLI
// reads to point at FILE:LINE), and the status of the mistake itself; a
// conflict found while writing is a 409 with its own message.
func TestApplyErrorAnswers(t *testing.T) {
	t.Parallel()
	_, wfErr := workflow.Compile(workflow.Def{Name: "w", On: workflow.TriggerDef{Events: []string{"a.b"}},
		Steps: []workflow.StepDef{{ID: "s", HTTP: &workflow.HTTPDef{URL: "ftp://x"}}, {ID: "s"}}}, workflow.Options{})
	require.Len(t, workflow.Errors(wfErr), 2)
	cases := []struct {
		name   string
		err    error
		status int
		want   string // the JSON body's error
	}{
		{
			name:   "a field",
			err:    &apply.Error{Resource: "sources[1]", Name: "stripe", Err: field.Errorf("verification.kind", `"strype" is not one of github, stripe`)},
			status: http.StatusUnprocessableEntity,
			want: `{"code": "validation_failed", "message": "sources[1] (stripe): verification.kind: \"strype\" is not one of github, stripe",
				"details": {"resource": "sources[1]", "name": "stripe", "field": "verification.kind"}}`,
		},
		{
			name:   "a conflict",
			err:    &apply.Error{Resource: "sources[0]", Name: "gh", Err: &apply.ConflictError{Msg: `source name "gh" is taken`}},
			status: http.StatusConflict,
			want: `{"code": "conflict", "message": "sources[0] (gh): source name \"gh\" is taken",
				"details": {"resource": "sources[0]", "name": "gh"}}`,
		},
		{
			name:   "a workflow's mistakes",
			err:    &apply.Error{Resource: "workflows[2]", Name: "w", Err: wfErr},
			status: http.StatusUnprocessableEntity,
			want: fmt.Sprintf(`{"code": "validation_failed", "message": "workflows[2] (w): %s (and 1 more)",
				"details": {"resource": "workflows[2]", "name": "w", "field": %q, "errors": [
					{"field": %q, "message": %q}, {"field": %q, "message": %q}]}}`,
				workflow.Errors(wfErr)[0].Error(), workflow.Errors(wfErr)[0].Path,
				workflow.Errors(wfErr)[0].Path, workflow.Errors(wfErr)[0].Err.Error(),
				workflow.Errors(wfErr)[1].Path, workflow.Errors(wfErr)[1].Err.Error()),
		},
		{
			name:   "a write refused for a concurrent save",
			err:    fmt.Errorf("apply template t: %w", &apply.ConflictError{Msg: "template t was saved concurrently; try again"}),
			status: http.StatusConflict,
			want:   `{"code": "conflict", "message": "template t was saved concurrently; try again"}`,
		},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest(http.MethodPost, "/v1/apply", nil), slog.New(slog.DiscardHandler), tc.err)
		require.Equal(t, tc.status, rec.Code, tc.name)
		var body struct {
			Error json.RawMessage `json:"error"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), tc.name)
		require.JSONEq(t, tc.want, string(body.Error), tc.name)
		var ae *apply.Error
		if errors.As(tc.err, &ae) {
			require.Equal(t, ae.Error(), jsonField(t, body.Error, "message"), "%s: the in-process error reads as the API's message", tc.name)
		}
	}
}

func jsonField(t *testing.T, raw json.RawMessage, key string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	s, _ := m[key].(string)
	return s
}
