package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// SaveWorkflowYAML saves a workflow written as a YAML document of one
// spec, as POST /v1/workflows does with a YAML body: decoded strictly,
// checked (CompileWorkflow), then saved (SaveWorkflow). When name is not
// empty the document must be that workflow. Its mistakes are
// *config.FileError values, joined, each at its line: the YAML's own at
// their line and column, the spec's at the line of their field (or of its
// nearest ancestor in the document).
func (a *Applier) SaveWorkflowYAML(ctx context.Context, tenantID, name string, doc []byte) (store.Workflow, string, error) {
	var in wire.WorkflowSpec
	const path = "workflow.yaml"
	if err := config.DecodeYAML(path, doc, &in); err != nil {
		return store.Workflow{}, "", err
	}
	at := func(field, msg string) error {
		line, ok := config.LocateField(doc, field)
		if !ok {
			line = 1
		}
		if field != "" {
			msg = field + ": " + msg
		}
		return &config.FileError{Path: path, Line: line, Msg: msg}
	}
	if name != "" && in.Name != name {
		return store.Workflow{}, "", at("name", fmt.Sprintf("must stay %q: this saves a new version of %s, not another workflow", name, name))
	}
	if _, err := a.CompileWorkflow(in); err != nil {
		list := workflow.Errors(err)
		if len(list) == 0 {
			return store.Workflow{}, "", at("", err.Error())
		}
		errs := make([]error, len(list))
		for i, e := range list {
			errs[i] = at(e.Path, e.Err.Error())
		}
		return store.Workflow{}, "", errors.Join(errs...)
	}
	return a.SaveWorkflow(ctx, tenantID, in)
}
