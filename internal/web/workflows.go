package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// WorkflowStore is what the workflow pages read; a store.Store has it.
type WorkflowStore interface {
	GetWorkflow(ctx context.Context, tenantID, name string, version int) (store.Workflow, error)
	ListWorkflows(ctx context.Context, tenantID string) ([]store.Workflow, error)
	ListWorkflowVersions(ctx context.Context, tenantID, name string) ([]store.Workflow, error)
	GetRun(ctx context.Context, tenantID, id string) (store.Run, error)
	ListRuns(ctx context.Context, tenantID string, q store.RunQuery) ([]store.Run, error)
	ListRunSteps(ctx context.Context, tenantID, runID string) ([]store.RunStep, error)
	ListRunAttempts(ctx context.Context, tenantID, runID string) ([]store.RunStep, error)
}

// WorkflowSaver checks and saves a workflow written in YAML as POST
// /v1/workflows does; *apply.Applier is one. When name is not empty the
// document must be that workflow. Mistakes are *config.FileError values
// (joined), each at its line.
type WorkflowSaver interface {
	SaveWorkflowYAML(ctx context.Context, tenantID, name string, doc []byte) (store.Workflow, string, error)
}

// RunChanger starts runs by hand, cancels and retries them as POST
// /v1/workflows/{name}/runs, /v1/runs/{id}/cancel and /retry do, and
// tells a workflow's schedules; *workflow.Runner is one.
type RunChanger interface {
	Cancel(ctx context.Context, tenantID, id string) (store.Run, error)
	Retry(ctx context.Context, tenantID, id string) (store.Run, error)
	StartRun(ctx context.Context, name string, ev event.Event,
		commit func(context.Context, event.Event) (event.Event, error)) (store.Run, bool, error)
	Schedules(ctx context.Context, sw store.Workflow) ([]workflow.ScheduleInfo, error)
}

// maxWorkflowYAML bounds a workflow document posted from the editor, before
// it is read.
const maxWorkflowYAML = 1 << 20

// recentRuns is how many of a workflow's newest runs the list counts by
// status.
const recentRuns = 20

// runStatuses are the statuses runs are filtered by.
var runStatuses = []string{store.RunQueued, store.RunRunning, store.RunWaiting, store.RunSucceeded, store.RunFailed, store.RunCancelled}

// specSummary is what the pages show of a stored spec (JSON owned by the
// workflow package), read without its types.
type specSummary struct {
	Description string `json:"description"`
	On          struct {
		Events []string `json:"events"`
		If     string   `json:"if"`
		Manual bool     `json:"manual"`
		// Schedule is each schedule's cron expression or interval.
		Schedule []struct {
			Cron  string `json:"cron"`
			Every string `json:"every"`
		} `json:"schedule"`
	} `json:"on"`
	Steps         []json.RawMessage `json:"steps"`
	ErrorWorkflow string            `json:"error_workflow"`
}

func summaryOf(sw store.Workflow) specSummary {
	var s specSummary
	_ = json.Unmarshal(sw.Spec, &s)
	return s
}

// statusCount is how many of a workflow's recent runs have a status.
type statusCount struct {
	Status string
	N      int
}

type workflowRow struct {
	store.Workflow
	Spec   specSummary
	Recent []statusCount
}

// workflows lists the tenant's workflows by name, a page at a time (the
// cursor is the last name shown), each with its trigger and its recent
// runs counted by status.
func (s *Server) workflows(w http.ResponseWriter, r *http.Request, sess *session) error {
	cur := r.URL.Query().Get("cursor")
	if cur != "" && !workflow.Name.MatchString(cur) {
		return errCursor
	}
	all, err := s.cfg.Store.ListWorkflows(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	name := func(w store.Workflow) string { return w.Name }
	page, next := nextPage(r, afterName(all, cur, name), name)
	v := listView[workflowRow]{Next: next, Query: r.URL.Query()}
	for _, wf := range page {
		runs, err := s.cfg.Store.ListRuns(r.Context(), sess.TenantID, store.RunQuery{Page: store.Page{Limit: recentRuns}, Workflow: wf.Name})
		if err != nil {
			return err
		}
		v.Rows = append(v.Rows, workflowRow{Workflow: wf, Spec: summaryOf(wf), Recent: countStatuses(runs)})
	}
	return s.page(w, r, sess, "workflows", view{Title: "Workflows", Nav: "workflows", Data: v})
}

func countStatuses(runs []store.Run) []statusCount {
	var out []statusCount
	for _, st := range runStatuses {
		n := 0
		for _, run := range runs {
			if run.Status == st {
				n++
			}
		}
		if n > 0 {
			out = append(out, statusCount{st, n})
		}
	}
	return out
}

// docLine is a line of a YAML document as the editor shows it, with the
// mistakes found at it.
type docLine struct {
	N      int
	Text   string
	Errors []string
}

// docError is a mistake of a document at a line (0: not known).
type docError struct {
	Line, Column int
	Msg          string
}

type workflowView struct {
	store.Workflow
	New      bool
	Spec     specSummary
	Versions []int
	YAML     string
	// Errors are the mistakes of the document last submitted, and Lines
	// that document with them at their lines.
	Errors []docError
	Lines  []docLine
	Runs   []store.Run
	// Schedules are the latest version's, with their next times.
	Schedules []workflow.ScheduleInfo
	// NextVersion is the version a changed definition saves as; Rows
	// sizes the editor to the document.
	NextVersion, Rows int
}

// withDoc sets the editor's document.
func (v workflowView) withDoc(doc string) workflowView {
	v.YAML = doc
	v.Rows = min(max(strings.Count(doc, "\n")+2, 12), 60)
	return v
}

// runStep is the step a run is at, or failed at.
func runStep(run store.Run) string {
	current, _ := workflow.Current(run)
	return current
}

// workflowYAML is a stored version as the YAML document that saves it
// again: disabled, it says so, or saving it would enable the workflow.
func workflowYAML(sw store.Workflow) (string, error) {
	doc, err := yaml.JSONToYAML(sw.Spec)
	if err != nil {
		return "", err
	}
	if !sw.Enabled {
		doc = append(doc, "enabled: false\n"...)
	}
	return string(doc), nil
}

// workflow is a workflow's page: its trigger, its definition in an editor,
// its versions and its newest runs.
func (s *Server) workflow(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := s.loadWorkflow(r, sess, r.PathValue("name"))
	if err != nil {
		return err
	}
	doc, err := workflowYAML(v.Workflow)
	if err != nil {
		return err
	}
	v = v.withDoc(doc)
	return s.page(w, r, sess, "workflow", view{Title: "Workflow " + v.Name, Nav: "workflows", Data: v})
}

func (s *Server) loadWorkflow(r *http.Request, sess *session, name string) (workflowView, error) {
	version := 0
	if q := r.URL.Query().Get("version"); q != "" && r.Method == http.MethodGet {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			return workflowView{}, badRequest("version must be a positive number.")
		}
		version = n
	}
	sw, err := s.cfg.Store.GetWorkflow(r.Context(), sess.TenantID, name, version)
	if err != nil {
		return workflowView{}, notFound(err, "workflow", name)
	}
	versions, err := s.cfg.Store.ListWorkflowVersions(r.Context(), sess.TenantID, name)
	if err != nil {
		return workflowView{}, err
	}
	v := workflowView{Workflow: sw, Spec: summaryOf(sw)}
	for _, ver := range versions {
		v.Versions = append(v.Versions, ver.Version)
		v.NextVersion = max(v.NextVersion, ver.Version+1)
	}
	if version == 0 {
		if v.Schedules, err = s.cfg.Runs.Schedules(r.Context(), sw); err != nil {
			return workflowView{}, err
		}
	}
	v.Runs, err = s.cfg.Store.ListRuns(r.Context(), sess.TenantID, store.RunQuery{Page: store.Page{Limit: 10}, Workflow: name})
	return v, err
}

// workflowNew is the editor of a new workflow.
func (s *Server) workflowNew(w http.ResponseWriter, r *http.Request, sess *session) error {
	v := workflowView{New: true}.withDoc(newWorkflowYAML)
	return s.page(w, r, sess, "workflow", view{Title: "New workflow", Nav: "workflows", Data: v})
}

// newWorkflowYAML starts the editor of a new workflow.
const newWorkflowYAML = `name: my-workflow
on:
  events: ["order.created"]
steps:
  - id: notify_crm
    http:
      url: https://crm.example.com/hooks/orders
      body: '{{ toJSON(event.data) }}'
    retry: {attempts: 3, initial: 1s}
`

// workflowSave saves the editor's document as a new version of the
// workflow of the page (or, from the new workflow page, as a new
// workflow). Mistakes come back on the page at their lines, with the
// document as submitted.
func (s *Server) workflowSave(w http.ResponseWriter, r *http.Request, sess *session) error {
	name := r.PathValue("name")
	r.Body = http.MaxBytesReader(w, r.Body, maxWorkflowYAML+4096)
	if err := r.ParseForm(); err != nil {
		return &userError{http.StatusRequestEntityTooLarge, "The workflow is too large: at most 1 MiB of YAML."}
	}
	doc := strings.ReplaceAll(r.PostForm.Get("yaml"), "\r\n", "\n")
	if name != "" {
		// The page of a workflow saves that one only: one the tenant has.
		if _, err := s.cfg.Store.GetWorkflow(r.Context(), sess.TenantID, name, 0); err != nil {
			return notFound(err, "workflow", name)
		}
	}
	sw, _, err := s.cfg.Workflows.SaveWorkflowYAML(r.Context(), sess.TenantID, name, []byte(doc))
	if err == nil {
		s.redirect(w, r, "/workflows/"+sw.Name+"?done=workflow_saved")
		return nil
	}
	mistakes := docErrors(err)
	if mistakes == nil {
		return err
	}
	v := workflowView{New: name == "", Errors: mistakes, Lines: linesWith(doc, mistakes)}.withDoc(doc)
	title := "New workflow"
	if name != "" {
		if v, err = s.reloadWorkflow(r, sess, name, v); err != nil {
			return err
		}
		title = "Workflow " + name
	}
	s.render(w, r, http.StatusUnprocessableEntity, "workflow", view{Title: title, Nav: "workflows", Tenant: sess.TenantName, Data: v})
	return nil
}

// reloadWorkflow fills a refused edit's view with the workflow as stored.
func (s *Server) reloadWorkflow(r *http.Request, sess *session, name string, edit workflowView) (workflowView, error) {
	v, err := s.loadWorkflow(r, sess, name)
	if err != nil {
		return v, err
	}
	v.Errors, v.Lines = edit.Errors, edit.Lines
	return v.withDoc(edit.YAML), nil
}

// docErrors lists the *config.FileError values in err, or nil when it has
// none (a fault, not a mistake of the document).
func docErrors(err error) []docError {
	var out []docError
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *config.FileError
		if errors.As(err, &fe) {
			out = append(out, docError{Line: fe.Line, Column: fe.Column, Msg: fe.Msg})
		}
	}
	walk(err)
	slices.SortStableFunc(out, func(a, b docError) int { return a.Line - b.Line })
	return out
}

// linesWith numbers doc's lines and puts each mistake under its line (a
// mistake past the end under the last).
func linesWith(doc string, mistakes []docError) []docLine {
	text := strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
	lines := make([]docLine, len(text))
	for i, t := range text {
		lines[i] = docLine{N: i + 1, Text: t}
	}
	for _, m := range mistakes {
		i := min(max(m.Line, 1), len(lines)) - 1
		lines[i].Errors = append(lines[i].Errors, m.Msg)
	}
	return lines
}

type runsView struct {
	listView[store.Run]
	Workflow, Status, From, To string
	Statuses                   []string
	Filtered                   bool
}

// runs lists runs newest first, filtered by workflow, status and the time
// they started (their ids are time-ordered: a time range is a range of
// ids, so no filter needs more than the list's own index).
func (s *Server) runs(w http.ResponseWriter, r *http.Request, sess *session) error {
	qv := r.URL.Query()
	v := runsView{Workflow: strings.TrimSpace(qv.Get("workflow")), Status: qv.Get("status"), From: qv.Get("from"), To: qv.Get("to"),
		Statuses: runStatuses}
	cur, err := cursorOf(r, "run")
	if err != nil {
		return err
	}
	if v.Status != "" && !slices.Contains(runStatuses, v.Status) {
		return badRequest("status must be running, waiting, succeeded, failed or cancelled.")
	}
	from, err := formTime(v.From)
	if err != nil {
		return err
	}
	to, err := formTime(v.To)
	if err != nil {
		return err
	}
	if !to.IsZero() {
		if bound := event.FirstID("run", to); cur == "" || bound < cur {
			cur = bound
		}
	}
	v.Filtered = v.Workflow != "" || v.Status != "" || v.From != "" || v.To != ""
	runs, err := s.cfg.Store.ListRuns(r.Context(), sess.TenantID,
		store.RunQuery{Page: store.Page{Limit: pageSize + 1, Cursor: cur}, Workflow: v.Workflow, Status: v.Status})
	if err != nil {
		return err
	}
	if !from.IsZero() {
		// Newest first: the runs before from are the page's last ones.
		bound := event.FirstID("run", from)
		if i := slices.IndexFunc(runs, func(run store.Run) bool { return run.ID < bound }); i >= 0 {
			runs = runs[:i]
		}
	}
	v.Rows, v.Next = nextPage(r, runs, func(run store.Run) string { return run.ID })
	v.Query = qv
	return s.page(w, r, sess, "runs", view{Title: "Runs", Nav: "workflows", Data: v})
}

// timelineStep is one entry of a run's step log with every attempt of it,
// oldest first.
type timelineStep struct {
	store.RunStep
	Tries []store.RunStep
	// Until is when a delay or wait_for ends (or ended), from its input.
	Until time.Time
	// WaitFor is the event pattern a wait_for waited for.
	WaitFor string
	// Woke is when a wait that ended ended.
	Woke time.Time
	// Children are the runs a parallel, foreach or call step started:
	// its branches, items or called run, by index.
	Children []childRun
}

// childRun is a run a step started, as its parent's timeline lists it.
type childRun struct {
	store.Run
	Index   int
	Current string
}

type runView struct {
	store.Run
	Current string
	Vars    json.RawMessage
	Steps   []timelineStep
	Live    bool
}

// run is a run's page: its state, vars, and a timeline of every step it
// executed with every attempt (input, output, error, duration) and its
// waits; with cancel or retry as the run allows.
func (s *Server) run(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := r.PathValue("id")
	run, err := s.cfg.Store.GetRun(r.Context(), sess.TenantID, id)
	if err != nil {
		return notFound(err, "run", id)
	}
	steps, err := s.cfg.Store.ListRunSteps(r.Context(), sess.TenantID, run.ID)
	if err != nil {
		return err
	}
	tries, err := s.cfg.Store.ListRunAttempts(r.Context(), sess.TenantID, run.ID)
	if err != nil {
		return err
	}
	v := runView{Run: run, Live: run.Status == store.RunRunning || run.Status == store.RunWaiting}
	current, vars := workflow.Current(run)
	v.Current = current
	if vars != nil {
		v.Vars, _ = json.Marshal(vars) // decoded from JSON: it encodes
	}
	v.Steps = timeline(steps, tries)
	if err := s.addChildren(r.Context(), sess.TenantID, run.ID, v.Steps); err != nil {
		return err
	}
	return s.page(w, r, sess, "run", view{Title: "Run " + run.ID, Nav: "workflows", Data: v})
}

// timeline puts each attempt under its step log entry; an entry written
// before attempts were kept shows as its one, last, attempt.
func timeline(steps, tries []store.RunStep) []timelineStep {
	bySeq := map[int][]store.RunStep{}
	for _, a := range tries {
		bySeq[a.Seq] = append(bySeq[a.Seq], a)
	}
	out := make([]timelineStep, len(steps))
	for i, st := range steps {
		ts := timelineStep{RunStep: st, Tries: bySeq[st.Seq]}
		if len(ts.Tries) == 0 {
			ts.Tries = []store.RunStep{st}
		}
		if workflow.Sleeps(st.Kind) {
			var in struct {
				Until time.Time `json:"until"`
				Event string    `json:"event"`
			}
			_ = json.Unmarshal(st.Input, &in)
			ts.Until, ts.WaitFor, ts.Woke = in.Until, in.Event, st.StartedAt.Add(st.Duration)
		}
		out[i] = ts
	}
	return out
}

// maxChildren bounds the child runs a run's page lists (a foreach step
// has at most workflow.MaxItems).
const maxChildren = workflow.MaxItems

// addChildren puts the runs that run's steps started under the timeline
// entries of those steps.
func (s *Server) addChildren(ctx context.Context, tenantID, runID string, steps []timelineStep) error {
	kids, err := s.cfg.Store.ListRuns(ctx, tenantID, store.RunQuery{Parent: runID, Page: store.Page{Limit: maxChildren}})
	if err != nil || len(kids) == 0 {
		return err
	}
	bySeq := map[int][]childRun{}
	for _, k := range kids {
		if seq, index, ok := workflow.Origin(k); ok {
			current, _ := workflow.Current(k)
			bySeq[seq] = append(bySeq[seq], childRun{Run: k, Index: index, Current: current})
		}
	}
	for i := range steps {
		c := bySeq[steps[i].Seq]
		slices.SortFunc(c, func(a, b childRun) int { return cmp.Compare(a.Index, b.Index) })
		steps[i].Children = c
	}
	return nil
}

// workflowRun starts a run of the workflow by hand with the form's input
// (default {}), as POST /v1/workflows/{name}/runs does, and shows it.
func (s *Server) workflowRun(w http.ResponseWriter, r *http.Request, sess *session) error {
	name := r.PathValue("name")
	input := strings.TrimSpace(r.PostFormValue("input"))
	if input == "" {
		input = "{}"
	}
	if !json.Valid([]byte(input)) {
		return badRequest("The input is not valid JSON.")
	}
	ev, err := s.cfg.Events.PrepareEvent(r.Context(), sess.TenantID, wire.EventCreate{Type: workflow.ManualType, Data: json.RawMessage(input)})
	if err != nil {
		return badRequest("The input was refused: %s", strings.Replace(err.Error(), "data", "input", 1))
	}
	ev.Source = "manual"
	run, _, err := s.cfg.Runs.StartRun(r.Context(), name, ev, s.cfg.Engine.Record)
	switch {
	case errors.Is(err, workflow.ErrDisabled):
		return &userError{http.StatusConflict, "This workflow is disabled: enable it to start runs."}
	case errors.Is(err, store.ErrNotFound):
		return notFound(err, "workflow", name)
	case err != nil:
		return err
	}
	s.redirect(w, r, "/runs/"+run.ID+"?done=run_started")
	return nil
}

// runCancel cancels a running or waiting run, as POST
// /v1/runs/{id}/cancel does.
func (s *Server) runCancel(w http.ResponseWriter, r *http.Request, sess *session) error {
	return s.changeRun(w, r, sess, s.cfg.Runs.Cancel, workflow.ErrFinished, "run_cancelled",
		"This run has already ended (%s): there is nothing to cancel.")
}

// runRetry starts a failed run again at the step it failed at, as POST
// /v1/runs/{id}/retry does.
func (s *Server) runRetry(w http.ResponseWriter, r *http.Request, sess *session) error {
	return s.changeRun(w, r, sess, s.cfg.Runs.Retry, workflow.ErrNotRetryable, "run_retried",
		"This run is %s: only failed runs can be retried.")
}

func (s *Server) changeRun(w http.ResponseWriter, r *http.Request, sess *session,
	change func(ctx context.Context, tenantID, id string) (store.Run, error), refused error, done, why string) error {
	id := r.PathValue("id")
	run, err := change(r.Context(), sess.TenantID, id)
	switch {
	case errors.Is(err, refused):
		return &userError{http.StatusConflict, strings.Replace(why, "%s", run.Status, 1)}
	case err != nil:
		return notFound(err, "run", id)
	}
	s.redirect(w, r, "/runs/"+run.ID+"?done="+done)
	return nil
}
