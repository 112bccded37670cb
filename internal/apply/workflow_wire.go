package apply

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// The workflow aggregate at the API's edge: its spec between
// wire.WorkflowSpec and workflow.Def (whether it is enabled is the
// workflow's row, not part of a version), and what the API shows of it.
// Parts of the same shape on both sides are converted with a type
// conversion, so a field added to one side only stops the build here.

// WorkflowDef is a workflow spec as the workflow package takes it, and
// whether the spec asks for the workflow to be enabled (the default).
func WorkflowDef(in wire.WorkflowSpec) (workflow.Def, bool) {
	return workflow.Def{Name: in.Name, Description: in.Description, ErrorWorkflow: in.ErrorWorkflow,
		Concurrency: (*workflow.ConcurrencyDef)(in.Concurrency), Throttle: (*workflow.ThrottleDef)(in.Throttle),
		Debounce: (*workflow.DebounceDef)(in.Debounce),
		CancelOn: each(in.CancelOn, func(c wire.CancelOn) workflow.CancelDef { return workflow.CancelDef(c) }),
		On: workflow.TriggerDef{Events: in.On.Events, If: in.On.If, Manual: in.On.Manual,
			Schedule: each(in.On.Schedule, func(s wire.WorkflowSchedule) workflow.ScheduleDef { return workflow.ScheduleDef(s) })},
		Steps: each(in.Steps, stepDef),
	}, in.Enabled == nil || *in.Enabled
}

func stepDef(st wire.Step) workflow.StepDef {
	return workflow.StepDef{ID: st.ID, Set: st.Set, Timeout: st.Timeout, OnError: st.OnError, Next: st.Next,
		HTTP: (*workflow.HTTPDef)(st.HTTP), Emit: (*workflow.EmitDef)(st.Emit), If: (*workflow.IfDef)(st.If),
		Switch: (*workflow.SwitchDef)(st.Switch), Delay: (*workflow.DelayDef)(st.Delay), WaitFor: (*workflow.WaitForDef)(st.WaitFor),
		Approval: (*workflow.ApprovalDef)(st.Approval),
		Sync:     (*workflow.SyncDef)(st.Sync), Fail: (*workflow.FailDef)(st.Fail), Retry: (*workflow.RetryDef)(st.Retry),
		Notify: ptr(st.Notify, RuleDef), Parallel: ptr(st.Parallel, parallelDef), Foreach: ptr(st.Foreach, foreachDef),
		Call: (*workflow.CallDef)(st.Call)}
}

func parallelDef(p wire.ParallelStep) workflow.ParallelDef {
	return workflow.ParallelDef{Join: p.Join, Branches: each(p.Branches, func(b wire.Branch) workflow.BranchDef {
		return workflow.BranchDef{Name: b.Name, Steps: each(b.Steps, stepDef)}
	})}
}

func foreachDef(f wire.ForeachStep) workflow.ForeachDef {
	return workflow.ForeachDef{Items: f.Items, Concurrency: f.Concurrency, Steps: each(f.Steps, stepDef),
		Collection: (*workflow.ForeachCollectionDef)(f.Collection)}
}

func workflowSpec(d workflow.Def) wire.WorkflowSpec {
	return wire.WorkflowSpec{Name: d.Name, Description: d.Description, ErrorWorkflow: d.ErrorWorkflow,
		Concurrency: (*wire.WorkflowConcurrency)(d.Concurrency), Throttle: (*wire.WorkflowThrottle)(d.Throttle),
		Debounce: (*wire.WorkflowDebounce)(d.Debounce),
		CancelOn: each(d.CancelOn, func(c workflow.CancelDef) wire.CancelOn { return wire.CancelOn(c) }),
		On: wire.WorkflowTrigger{Events: d.On.Events, If: d.On.If, Manual: d.On.Manual,
			Schedule: each(d.On.Schedule, func(s workflow.ScheduleDef) wire.WorkflowSchedule { return wire.WorkflowSchedule(s) })},
		Steps: each(d.Steps, wireStep),
	}
}

func wireStep(st workflow.StepDef) wire.Step {
	return wire.Step{ID: st.ID, Set: st.Set, Timeout: st.Timeout, OnError: st.OnError, Next: st.Next,
		HTTP: (*wire.HTTPStep)(st.HTTP), Emit: (*wire.EmitStep)(st.Emit), If: (*wire.IfStep)(st.If),
		Switch: (*wire.SwitchStep)(st.Switch), Delay: (*wire.DelayStep)(st.Delay), WaitFor: (*wire.WaitForStep)(st.WaitFor),
		Approval: (*wire.ApprovalStep)(st.Approval),
		Sync:     (*wire.SyncStep)(st.Sync), Fail: (*wire.FailStep)(st.Fail), Retry: (*wire.RetryPolicy)(st.Retry),
		Notify: ptr(st.Notify, notifyRule), Parallel: ptr(st.Parallel, wireParallel), Foreach: ptr(st.Foreach, wireForeach),
		Call: (*wire.CallStep)(st.Call)}
}

func wireParallel(p workflow.ParallelDef) wire.ParallelStep {
	return wire.ParallelStep{Join: p.Join, Branches: each(p.Branches, func(b workflow.BranchDef) wire.Branch {
		return wire.Branch{Name: b.Name, Steps: each(b.Steps, wireStep)}
	})}
}

func wireForeach(f workflow.ForeachDef) wire.ForeachStep {
	return wire.ForeachStep{Items: f.Items, Concurrency: f.Concurrency, Steps: each(f.Steps, wireStep),
		Collection: (*wire.ForeachCollection)(f.Collection)}
}

// WorkflowOut is a stored workflow version as the API shows it.
func WorkflowOut(sw store.Workflow) wire.Workflow {
	var def workflow.Def
	_ = json.Unmarshal(sw.Spec, &def)
	return wire.Workflow{WorkflowSpec: workflowSpec(def), Version: sw.Version, Enabled: sw.Enabled, CreatedAt: wire.TimeOf(sw.CreatedAt)}
}

// CompileWorkflow checks a workflow spec as the runner will run it,
// notify steps with check (content.CheckRule; nil refuses them).
// Mistakes are workflow.Errors naming the fields as the spec writes them.
func CompileWorkflow(in wire.WorkflowSpec, check func(content.RuleDef) error) (*workflow.Workflow, error) {
	def, _ := WorkflowDef(in)
	return workflow.Compile(def, workflow.Options{CheckNotify: check})
}
