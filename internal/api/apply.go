package api

import (
	"fmt"
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// apply serves POST /v1/apply: the declaration in the body is applied to
// the caller's tenant (apply.Applier.Apply), or with dry_run=true only
// planned.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, a *auth, d wire.Declaration) error {
	res, err := s.applier.Apply(r.Context(), a.tenantID, d, r.URL.Query().Get("dry_run") == "true")
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, res)
	return nil
}

// declarationError is the answer to a mistake in one resource of a
// declaration: the answer to the mistake itself (422 naming the field, 409
// for a conflict), its message prefixed with the resource and its name,
// and details.resource and details.name besides the mistake's details.
func declarationError(de *apply.Error) *apiError {
	var inner *apiError
	if len(workflow.Errors(de.Err)) > 0 {
		// Each of a workflow's mistakes, in details.errors.
		inner = workflowInvalid(de.Err, nil).(*apiError)
	} else if !asValidation(de.Err, &inner) {
		inner = invalid(de.Field(), "%s", apply.Message(de.Err))
	}
	out := *inner
	out.message = fmt.Sprintf("%s (%s): %s", de.Resource, de.Name, inner.message)
	out.details = map[string]any{"resource": de.Resource, "name": de.Name}
	for k, v := range inner.details {
		out.details[k] = v
	}
	return &out
}
