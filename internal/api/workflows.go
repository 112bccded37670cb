package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/internal/yamlguard"
	"github.com/hookline/hookline/wire"
)

// decodeWorkflow reads a workflow spec as JSON or, with a YAML content
// type, as YAML (whose mistakes are reported with their line).
// Its nesting and alias expansion are bounded before it is parsed
// (yamlguard), the expansion by the API's body limit.
func (s *Server) decodeWorkflow(r *http.Request) (wire.WorkflowSpec, []byte, error) {
	var in wire.WorkflowSpec
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return in, nil, jsonError(err)
		}
		if err := yamlguard.Unmarshal(raw, &in, yamlguard.Limits{MaxBytes: s.cfg.MaxBody}); err != nil {
			var ge *yamlguard.Error
			if errors.As(err, &ge) {
				if ge.TooLarge {
					return in, raw, errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "YAML: %s", ge)
				}
				return in, raw, errorf(http.StatusBadRequest, codeBadRequest, "YAML: %s", ge)
			}
			return in, raw, errorf(http.StatusBadRequest, codeBadRequest, "YAML: %s", yaml.FormatError(err, false, false))
		}
		return in, raw, nil
	}
	return in, nil, decode(r, &in)
}

// workflowInvalid turns Compile's errors into one 422 listing each with
// its field (and line, for a YAML body).
func workflowInvalid(err error, raw []byte) error {
	list := workflow.Errors(err)
	if len(list) == 0 {
		return err
	}
	details := make([]map[string]any, len(list))
	for i, e := range list {
		d := map[string]any{"field": e.Path, "message": e.Err.Error()}
		if raw != nil {
			if line, ok := config.LocateField(raw, e.Path); ok {
				d["line"] = line
			}
		}
		details[i] = d
	}
	out := invalid(list[0].Path, "%v", list[0].Err)
	if len(list) > 1 {
		out.message = fmt.Sprintf("%s (and %d more)", out.message, len(list)-1)
	}
	out.details["errors"] = details
	if l, ok := details[0]["line"]; ok {
		out.details["line"] = l
	}
	return out
}

// saveWorkflow stores a spec as a new version unless it equals the latest.
func (s *Server) saveWorkflow(w http.ResponseWriter, r *http.Request, a *auth) error {
	in, raw, err := s.decodeWorkflow(r)
	if err != nil {
		return err
	}
	if _, err := s.applier.CompileWorkflow(in); err != nil {
		return workflowInvalid(err, raw)
	}
	sw, action, err := s.applier.SaveWorkflow(r.Context(), a.tenantID, in)
	if err != nil {
		return err
	}
	answer.JSON(w, savedStatus(action), wire.WorkflowSaved{Workflow: apply.WorkflowOut(sw), Action: action})
	return nil
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listAll(w, r, a, s.store.ListWorkflows, apply.WorkflowOut)
}

func (s *Server) getWorkflow(w http.ResponseWriter, r *http.Request, a *auth) error {
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errorf(http.StatusBadRequest, codeBadRequest, "version must be a positive integer")
		}
		version = n
	}
	sw, err := s.store.GetWorkflow(r.Context(), a.tenantID, r.PathValue("name"), version)
	if err != nil {
		if version > 0 {
			return notFound(err, "workflow", fmt.Sprintf("%s version %d", r.PathValue("name"), version))
		}
		return notFound(err, "workflow", r.PathValue("name"))
	}
	versions, err := s.store.ListWorkflowVersions(r.Context(), a.tenantID, sw.Name)
	if err != nil {
		return err
	}
	nums := make([]int, len(versions))
	for i, v := range versions {
		nums[i] = v.Version
	}
	out := wire.WorkflowVersions{Workflow: apply.WorkflowOut(sw), Versions: nums}
	if version == 0 {
		scheds, err := s.cfg.Workflows.Schedules(r.Context(), sw)
		if err != nil {
			return err
		}
		out.Schedules = scheduleStates(scheds)
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

func scheduleStates(in []workflow.ScheduleInfo) []wire.ScheduleState {
	out := make([]wire.ScheduleState, len(in))
	for i, s := range in {
		out[i] = wire.ScheduleState{Schedule: s.Schedule, Timezone: s.Timezone, Missed: s.Missed}
		if !s.NextAt.IsZero() {
			t := wire.TimeOf(s.NextAt)
			out[i].NextAt = &t
		}
	}
	return out
}

// patchWorkflow enables or disables a workflow: {"enabled": false}.
func (s *Server) patchWorkflow(w http.ResponseWriter, r *http.Request, a *auth, in wire.WorkflowEnable) error {
	if in.Enabled == nil {
		return invalid("enabled", "is required: true or false")
	}
	name := r.PathValue("name")
	if err := s.store.SetWorkflowEnabled(r.Context(), a.tenantID, name, *in.Enabled); err != nil {
		return notFound(err, "workflow", name)
	}
	s.cfg.Invalidate(a.tenantID)
	sw, err := s.store.GetWorkflow(r.Context(), a.tenantID, name, 0)
	if err != nil {
		return notFound(err, "workflow", name)
	}
	answer.JSON(w, http.StatusOK, apply.WorkflowOut(sw))
	return nil
}

func (s *Server) deleteWorkflow(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "workflow", "name", s.store.DeleteWorkflow, true)
}

// startRun starts a run of a workflow by hand: its input becomes the data
// of a workflow.manual event, committed to the event log (to this
// workflow only) before the run is made.
func (s *Server) startRun(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunStart) error {
	name := r.PathValue("name")
	key, err := idempotencyKey(r, in.IdempotencyKey)
	if err != nil {
		return err
	}
	if len(in.Input) == 0 {
		in.Input = json.RawMessage(`{}`)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CommitTimeout)
	defer cancel()
	ev, err := s.prepareEvent(ctx, a.tenantID, wire.EventCreate{Type: workflow.ManualType, Data: in.Input, IdempotencyKey: key}, s.now(), false)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.details["field"] == "data" {
			ae.details["field"] = "input"
			ae.message = strings.Replace(ae.message, "data", "input", 1)
		}
		return err
	}
	ev.Source = "manual"
	run, created, err := s.cfg.Workflows.StartRun(ctx, name, ev, s.engine.Record)
	if err != nil {
		return startRefused(err, name)
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	answer.JSON(w, status, runOut(run))
	return nil
}

func startRefused(err error, name string) error {
	switch {
	case errors.Is(err, workflow.ErrDisabled):
		return errorf(http.StatusConflict, codeConflict, "workflow %s is disabled; enable it to start runs", name)
	case errors.Is(err, store.ErrNotFound):
		return notFound(err, "workflow", name)
	}
	return err
}

var runStatuses = map[string]bool{store.RunQueued: true, store.RunRunning: true, store.RunWaiting: true, store.RunSucceeded: true, store.RunFailed: true, store.RunCancelled: true}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listQuery(w, r, a, func(p store.Page) (store.RunQuery, error) {
		q := store.RunQuery{Page: p, Workflow: r.PathValue("name"), Status: r.URL.Query().Get("status"),
			Parent: r.URL.Query().Get("parent_run_id")}
		if q.Workflow == "" {
			q.Workflow = r.URL.Query().Get("workflow")
		}
		return q, knownStatus(q.Status, runStatuses, "queued, running, waiting, succeeded, failed or cancelled")
	}, func(ctx context.Context, tenantID string, q store.RunQuery) ([]store.Run, error) {
		runs, err := s.store.ListRuns(ctx, tenantID, q)
		if name := r.PathValue("name"); err == nil && name != "" && len(runs) == 0 {
			// No run: say whether the workflow is not there at all.
			err = s.workflowKnown(ctx, tenantID, name)
		}
		return runs, err
	}, runOut, func(r wire.Run) string { return r.ID })
}

// workflowKnown is nil when the tenant has the workflow name, or had it:
// a deleted workflow's runs are kept, and still listed under its name.
// Otherwise it is a 404, as GET /v1/workflows/{name} is.
func (s *Server) workflowKnown(ctx context.Context, tenantID, name string) error {
	_, err := s.store.GetWorkflow(ctx, tenantID, name, 0)
	if errors.Is(err, store.ErrNotFound) {
		var runs []store.Run
		if runs, err = s.store.ListRuns(ctx, tenantID, store.RunQuery{Page: store.Page{Limit: 1}, Workflow: name}); err == nil && len(runs) == 0 {
			return &notFoundError{kind: "workflow", id: name}
		}
	}
	return err
}

func runOut(run store.Run) wire.Run {
	current, vars := workflow.Current(run)
	return wire.Run{
		ID: run.ID, Workflow: run.Workflow, Version: run.Version, Status: run.Status, EventID: run.EventID,
		Current: current, Error: run.Error, Vars: vars, Created: wire.TimeOf(run.CreatedAt), Updated: wire.TimeOf(run.UpdatedAt),
		ParentID: run.ParentID,
	}
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request, a *auth) error {
	run, err := byPath(r, a, "run", "id", s.store.GetRun)
	if err != nil {
		return err
	}
	steps, err := s.store.ListRunSteps(r.Context(), a.tenantID, run.ID)
	if err != nil {
		return err
	}
	attempts, err := s.store.ListRunAttempts(r.Context(), a.tenantID, run.ID)
	if err != nil {
		return err
	}
	out := runOut(run)
	out.Steps, out.Attempts = shown(steps, runStepOut), shown(attempts, runStepOut)
	answer.JSON(w, http.StatusOK, out)
	return nil
}

func runStepOut(st store.RunStep) wire.RunStep {
	out := wire.RunStep{
		Seq: st.Seq, Step: st.StepID, Kind: st.Kind, Status: st.Status, Attempts: st.Attempts,
		Input: st.Input, Output: st.Output, Error: st.Error, StartedAt: wire.TimeOf(st.StartedAt), DurationMS: st.Duration.Milliseconds(),
	}
	if workflow.Sleeps(st.Kind) && st.Status != "waiting" {
		woke := wire.TimeOf(st.StartedAt.Add(st.Duration))
		out.WokeAt = &woke
	}
	return out
}

func (s *Server) retryRun(w http.ResponseWriter, r *http.Request, a *auth) error {
	return changeRun(w, r, a, http.StatusAccepted, s.cfg.Workflows.Retry, workflow.ErrNotRetryable, func(run store.Run) string {
		if run.ParentID != "" && run.Status == store.RunFailed {
			return fmt.Sprintf("run %s was started by a step of run %s: retry that run", run.ID, run.ParentID)
		}
		return fmt.Sprintf("run %s is %s; only failed runs can be retried", run.ID, run.Status)
	})
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request, a *auth) error {
	return changeRun(w, r, a, http.StatusOK, s.cfg.Workflows.Cancel, workflow.ErrFinished, func(run store.Run) string {
		return fmt.Sprintf("run %s already %s", run.ID, run.Status)
	})
}

// approveRun and rejectRun decide the approval a run waits on.
func (s *Server) approveRun(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunDecision) error {
	return s.decideRun(w, r, a, in, true)
}

func (s *Server) rejectRun(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunDecision) error {
	return s.decideRun(w, r, a, in, false)
}

func (s *Server) decideRun(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunDecision, approved bool) error {
	if len(in.Comment) > workflow.MaxComment {
		return invalid("comment", "must be at most %d bytes", workflow.MaxComment)
	}
	return changeRun(w, r, a, http.StatusOK, func(ctx context.Context, tenantID, id string) (store.Run, error) {
		return s.cfg.Workflows.Decide(ctx, tenantID, id, workflow.Decision{Approved: approved, Comment: in.Comment, By: "api"})
	}, workflow.ErrNotAwaitingApproval, func(run store.Run) string {
		return fmt.Sprintf("run %s is %s and not waiting on an approval", run.ID, run.Status)
	})
}

// changeRun answers a route that changes the run the path names by
// change, with status and the run: refused (the run's state does not
// allow the change) is a 409 with the message why gives.
func changeRun(w http.ResponseWriter, r *http.Request, a *auth, status int,
	change func(ctx context.Context, tenantID, id string) (store.Run, error), refused error, why func(store.Run) string) error {
	run, err := byPath(r, a, "run", "id", change)
	if errors.Is(err, refused) {
		return errorf(http.StatusConflict, codeConflict, "%s", why(run))
	}
	if err != nil {
		return err
	}
	answer.JSON(w, status, runOut(run))
	return nil
}

// cancelRuns cancels the running and waiting runs a filter selects.
func (s *Server) cancelRuns(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunFilter) error {
	return s.changeRuns(w, r, a, in, s.cfg.Workflows.CancelAll, "running or waiting", store.RunRunning, store.RunWaiting)
}

// retryRuns retries the failed runs a filter selects.
func (s *Server) retryRuns(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunFilter) error {
	return s.changeRuns(w, r, a, in, s.cfg.Workflows.RetryAll, "failed", store.RunFailed)
}

// changeRuns checks a bulk filter (its status one of statuses, which want
// names) and answers what change did to the tenant's runs it selects.
func (s *Server) changeRuns(w http.ResponseWriter, r *http.Request, a *auth, in wire.RunFilter,
	change func(context.Context, string, workflow.Filter) (workflow.Bulk, error), want string, statuses ...string) error {
	if in.Status != "" && !slices.Contains(statuses, in.Status) {
		return invalid("status", "must be %s", want)
	}
	if in.Limit < 0 || in.Limit > workflow.MaxBulk {
		return invalid("limit", "must be 1 to %d", workflow.MaxBulk)
	}
	f := workflow.Filter{Workflow: in.Workflow, Status: in.Status, Limit: in.Limit}
	if in.CreatedAfter != nil {
		f.Since = in.CreatedAfter.Time
	}
	if in.CreatedBefore != nil {
		f.Until = in.CreatedBefore.Time
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return invalid("created_before", "must be after created_after")
	}
	res, err := change(r.Context(), a.tenantID, f)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, wire.RunsChanged{Matched: res.Matched, Changed: res.Changed, Skipped: res.Skipped, More: res.More})
	return nil
}
