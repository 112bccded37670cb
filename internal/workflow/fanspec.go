package workflow

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/expr"
)

// fanStep compiles a parallel, foreach or call step into s.
func (c *compiler) fanStep(s *step, path string, st StepDef, depth int, vars []string) error {
	if s.kind != KindCall && depth >= MaxNesting {
		return errAt(path+"."+s.kind, "nests too deep: parallel and foreach steps nest at most %d levels", MaxNesting)
	}
	var err error
	switch s.kind {
	case KindParallel:
		pd := st.Parallel
		switch pd.Join {
		case "", "all":
			s.join = "all"
		case "any":
			s.join = "any"
		default:
			return errAt(path+".parallel.join", `must be "all" or "any"`)
		}
		if len(pd.Branches) == 0 || len(pd.Branches) > MaxBranches {
			return errAt(path+".parallel.branches", "needs 1 to %d branches", MaxBranches)
		}
		for i, b := range pd.Branches {
			at := fmt.Sprintf("%s.parallel.branches[%d]", path, i)
			if b.Name != "" {
				if !stepID.MatchString(b.Name) {
					return errAt(at+".name", "%q is not a branch name: letters, digits and _, starting with a letter or _", b.Name)
				}
				if j := slices.Index(s.names, b.Name); j >= 0 {
					return errAt(at+".name", "branch name %q is already used by branches[%d]", b.Name, j)
				}
			}
			s.names = append(s.names, b.Name)
			s.lists = append(s.lists, c.sub(st.ID, at+".steps", b.Steps, depth+1, vars))
		}
	case KindForeach:
		fd := st.Foreach
		if (fd.Items == "") == (fd.Collection == nil) {
			return errAt(path+".foreach", "give one of items (an expression giving an array) or collection")
		}
		if fd.Items != "" {
			if s.items, err = compileProg(path+".foreach.items", fd.Items, vars); err != nil {
				return err
			}
		} else if s.coll, err = compileColl(path+".foreach.collection", fd.Collection); err != nil {
			return err
		}
		s.concurrency = fd.Concurrency
		switch {
		case fd.Concurrency == 0:
			s.concurrency = 1
		case fd.Concurrency < 0 || fd.Concurrency > MaxConcurrency:
			return errAt(path+".foreach.concurrency", "must be 1 to %d (iterations at a time)", MaxConcurrency)
		}
		body := vars
		if !slices.Contains(vars, itemVars[0]) {
			body = append(slices.Clone(vars), itemVars...)
		}
		s.lists = []*Workflow{c.sub(st.ID, path+".foreach.steps", fd.Steps, depth+1, body)}
	case KindCall:
		cd := st.Call
		if !Name.MatchString(cd.Workflow) {
			return errAt(path+".call.workflow", "%q is not a workflow name", cd.Workflow)
		}
		s.callee = cd.Workflow
		if s.input, err = compileData(path+".call.input", cd.Input, vars); err != nil {
			return err
		}
	}
	return nil
}

// sub compiles a nested step list.
func (c *compiler) sub(name, path string, defs []StepDef, depth int, vars []string) *Workflow {
	w := &Workflow{Name: name, index: map[string]int{}}
	c.list(w, path, defs, depth, vars)
	return w
}

func compileProg(path, src string, vars []string) (*expr.Program, error) {
	p, err := expr.Compile(src, vars...)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	return p, nil
}

func compileColl(path string, cd *ForeachCollectionDef) (*collQuery, error) {
	q := &collQuery{name: cd.Name, prefix: cd.Prefix, limit: cd.Limit}
	if cd.Name == "" {
		return nil, errAt(path+".name", "is required")
	}
	switch {
	case cd.Limit == 0:
		q.limit = MaxItems
	case cd.Limit < 0 || cd.Limit > MaxItems:
		return nil, errAt(path+".limit", "must be 1 to %d", MaxItems)
	}
	if cd.Filter != "" {
		f, err := collection.CompileFilter(cd.Filter)
		if err != nil {
			return nil, &Error{Path: path + ".filter", Err: err}
		}
		q.filter = f
	}
	return q, nil
}

// scope returns the step list a child run runs: path is empty for the
// workflow's own, else pairs of a step id and a list's index
// ("fan/1/each/0": the body of foreach step each in branch 1 of fan).
func (w *Workflow) scope(path string) (*Workflow, bool) {
	if path == "" {
		return w, true
	}
	parts := strings.Split(path, "/")
	if len(parts)%2 != 0 {
		return nil, false
	}
	cur := w
	for i := 0; i < len(parts); i += 2 {
		s, _, ok := cur.step(parts[i])
		if !ok {
			return nil, false
		}
		k, err := strconv.Atoi(parts[i+1])
		if err != nil || k < 0 || k >= len(s.lists) {
			return nil, false
		}
		cur = s.lists[k]
	}
	return cur, true
}
