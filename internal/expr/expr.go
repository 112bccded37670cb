// Package expr is Hookline's expression language: expr-lang/expr compiled
// once, evaluated over the same variables everywhere (event, data, type, …),
// sandboxed (no I/O functions exist in the language) and bounded: source
// length, AST size and the VM's memory budget limit what one expression
// can do.
package expr

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/hookline/hookline/internal/event"
)

// Limits on one expression.
const (
	MaxLength   = 4096
	MaxNodes    = 1000
	memoryLimit = 100_000
)

// Filter is a compiled boolean expression over an event.
type Filter struct {
	src  string
	prog *vm.Program
}

// filterEnv declares the variables a filter sees, for type checking.
var filterEnv = map[string]any{
	"event": map[string]any{},
	"data":  map[string]any{},
	"type":  "",
}

// CompileFilter compiles a boolean filter such as
// `data.amount > 100 && data.currency == "EUR"`. The error carries the
// compiler's message with line and column.
func CompileFilter(src string) (*Filter, error) {
	if len(src) > MaxLength {
		return nil, fmt.Errorf("expression is longer than %d bytes", MaxLength)
	}
	prog, err := expr.Compile(src, append(options(), expr.Env(filterEnv), expr.AsBool())...)
	if err != nil {
		return nil, fmt.Errorf("invalid expression: %w", err)
	}
	return &Filter{src: src, prog: prog}, nil
}

// String returns the filter's source.
func (f *Filter) String() string { return f.src }

// Env is the evaluation environment of one event; build it once per event
// and reuse it for every filter.
type Env map[string]any

// EventEnv parses e's data once and returns the variables filters see:
// event (id, type, source, data, occurred_at), data and type.
func EventEnv(e *event.Event) (Env, error) {
	var data any
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return nil, fmt.Errorf("parse event data: %w", err)
		}
	}
	return Env{
		"event": map[string]any{
			"id": e.ID, "type": e.Type, "source": e.Source, "data": data,
			"occurred_at": e.OccurredAt.Format(time.RFC3339Nano),
		},
		"data": data,
		"type": e.Type,
	}, nil
}

// Match evaluates the filter in env. Errors (such as comparing a string
// with a number) are returned, not treated as false.
func (f *Filter) Match(env Env) (bool, error) {
	v := vm.VM{MemoryBudget: memoryLimit}
	out, err := v.Run(f.prog, map[string]any(env))
	if err != nil {
		return false, fmt.Errorf("evaluate filter: %w", err)
	}
	b, _ := out.(bool)
	return b, nil
}

// Program is a compiled expression producing any value (event-type rules,
// transforms).
type Program struct {
	src  string
	prog *vm.Program
}

// Compile compiles an expression over the named variables, each typed as
// any value.
func Compile(src string, vars ...string) (*Program, error) {
	if len(src) > MaxLength {
		return nil, fmt.Errorf("expression is longer than %d bytes", MaxLength)
	}
	env := make(map[string]any, len(vars))
	var untyped untypedVars
	for _, v := range vars {
		if name, ok := strings.CutPrefix(v, untypedMark); ok {
			untyped = append(untyped, name)
			continue
		}
		env[v] = map[string]any{}
	}
	opts := append(options(), expr.Env(env))
	if len(untyped) > 0 {
		opts = append(opts, expr.Patch(untyped))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid expression: %w", err)
	}
	return &Program{src: src, prog: prog}, nil
}

// untypedMark starts the names Untyped makes.
const untypedMark = "~"

// Untyped declares, among the vars of Compile and CompileTemplate, a
// variable that may hold any value — a number, a string, an object —
// rather than an object: item * 2 and item == "vip" compile, as
// item.sku does.
func Untyped(name string) string { return untypedMark + name }

// untypedVars reads each of its variables as get($env, "NAME"), whose
// type the checker does not know, so that any operation on it compiles; it is
// still the same entry of the variables at run time.
type untypedVars []string

func (u untypedVars) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || !slices.Contains(u, id.Value) {
		return
	}
	ast.Patch(node, &ast.BuiltinNode{Name: "get", Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}, &ast.StringNode{Value: id.Value}}})
}

// CompileEnv compiles an expression whose variables have the types of
// env's values (a map value declares an object, "" a string).
func CompileEnv(src string, env map[string]any) (*Program, error) {
	if len(src) > MaxLength {
		return nil, fmt.Errorf("expression is longer than %d bytes", MaxLength)
	}
	prog, err := expr.Compile(src, append(options(), expr.Env(env))...)
	if err != nil {
		return nil, fmt.Errorf("invalid expression: %w", err)
	}
	return &Program{src: src, prog: prog}, nil
}

// String returns the program's source.
func (p *Program) String() string { return p.src }

// Eval runs the program over vars within the memory budget.
func (p *Program) Eval(vars map[string]any) (any, error) {
	v := vm.VM{MemoryBudget: memoryLimit}
	out, err := v.Run(p.prog, vars)
	if err != nil {
		return nil, fmt.Errorf("evaluate expression: %w", err)
	}
	return out, nil
}

// options are the compile options of every expression: the node limit,
// and helpers that replace or add to the language's built-ins.
func options() []expr.Option {
	return []expr.Option{
		expr.MaxNodes(MaxNodes),
		// toJSON is compact, as bodies and headers want it (the
		// built-in indents).
		expr.Function("toJSON", func(params ...any) (any, error) {
			b, err := json.Marshal(params[0])
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}, new(func(any) string)),
	}
}
