package apply

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// CompileWorkflow checks a workflow spec as the runner will run it,
// notify steps with Config.CheckNotify. Mistakes are workflow.Errors.
func (a *Applier) CompileWorkflow(in wire.WorkflowSpec) (*workflow.Workflow, error) {
	return CompileWorkflow(in, a.cfg.CheckNotify)
}

// SaveWorkflow stores a checked spec (CompileWorkflow) as the next version
// of its workflow when it differs from the latest, and sets whether the
// workflow is enabled, which is a state of the workflow rather than part
// of a version. It returns the latest version and the action (Created,
// Updated or Unchanged). Another save of the same workflow at the same
// moment is a *ConflictError.
func (a *Applier) SaveWorkflow(ctx context.Context, tenantID string, in wire.WorkflowSpec) (store.Workflow, string, error) {
	def, enabled := WorkflowDef(in)
	spec, err := json.Marshal(def)
	if err != nil {
		return store.Workflow{}, "", err
	}
	st := a.cfg.Store
	cur, err := st.GetWorkflow(ctx, tenantID, in.Name, 0)
	action := Created
	version := 1
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return store.Workflow{}, "", err
	case jsonEqual(cur.Spec, spec):
		if cur.Enabled != enabled {
			if err := st.SetWorkflowEnabled(ctx, tenantID, in.Name, enabled); err != nil {
				return store.Workflow{}, "", err
			}
			cur.Enabled = enabled
			a.cfg.Invalidate(tenantID)
			return cur, Updated, nil
		}
		return cur, Unchanged, nil
	default:
		action, version = Updated, cur.Version+1
	}
	sw := store.Workflow{TenantID: tenantID, Name: in.Name, Version: version, Spec: spec, Enabled: enabled, CreatedAt: a.now()}
	if err := st.CreateWorkflow(ctx, sw); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Workflow{}, "", conflictf("workflow %s was saved concurrently; try again", in.Name)
		}
		return store.Workflow{}, "", err
	}
	if version > 1 && cur.Enabled != enabled {
		if err := st.SetWorkflowEnabled(ctx, tenantID, in.Name, enabled); err != nil {
			return store.Workflow{}, "", err
		}
	}
	a.cfg.Invalidate(tenantID)
	return sw, action, nil
}

// planWorkflow compares a declared workflow with the latest version of its
// name; a change is saved as a new version.
func (a *Applier) planWorkflow(ctx context.Context, tenantID string, decl wire.WorkflowSpec) (step, error) {
	s := step{change: wire.Change{Kind: "workflow", Name: decl.Name}}
	if _, err := a.CompileWorkflow(decl); err != nil {
		return s, err
	}
	def, enabled := WorkflowDef(decl)
	spec, err := json.Marshal(def)
	if err != nil {
		return s, err
	}
	cur, err := a.cfg.Store.GetWorkflow(ctx, tenantID, decl.Name, 0)
	if s.change.Action, err = action(err, jsonEqual(cur.Spec, spec) && cur.Enabled == enabled); err != nil || s.change.Action == Unchanged {
		return s, err
	}
	s.write = func(ctx context.Context) error {
		_, _, err := a.SaveWorkflow(ctx, tenantID, decl)
		return err
	}
	return s, nil
}
