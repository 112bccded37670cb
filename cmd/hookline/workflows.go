package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/internal/yamlguard"
)

func newWorkflowsValidateCmd(g *globals) *cobra.Command {
	var paths []string
	cmd := &cobra.Command{
		Use:   "validate -f FILE...",
		Short: "Check workflow files without a server",
		Long: `Check workflow files locally, without a server: the YAML, and every
workflow in it as the server would (step kinds, expressions, templates,
step ids and targets, loops without a wait). A file holds one workflow, or
is a declaration (a hookline.yaml) whose workflows: list holds them: a file
with a workflows key, or with none of name, on and steps. ${NAME} in a
declaration is expanded from the environment, as hookline apply does.

Each mistake is printed to standard error as FILE:LINE: FIELD: reason, and
the command fails if there is any. A good file prints FILE: ok (N workflows).`,
		Example: `  hookline workflows validate -f order-fulfilment.yaml
  hookline workflows validate -f workflows/*.yaml
  hookline workflows validate -f hookline.yaml -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := readWorkflowArgs(cmd, g, append(paths, args...))
			if err != nil {
				return err
			}
			type result struct {
				File      string    `json:"file"`
				Workflows int       `json:"workflows"`
				Mistakes  []mistake `json:"mistakes"`
			}
			results := make([]result, len(files))
			for i, f := range files {
				results[i] = result{File: f.path, Workflows: len(f.specs), Mistakes: append([]mistake{}, f.mistakes...)}
			}
			printMistakes(cmd, g, files)
			err = g.render(cmd, results, func(w io.Writer) {
				for _, r := range results {
					if len(r.Mistakes) == 0 {
						fmt.Fprintf(w, "%s: ok (%s)\n", r.File, plural(r.Workflows, "workflow"))
					}
				}
			})
			if err != nil {
				return err
			}
			return invalidFiles(files)
		},
	}
	cmd.Flags().StringArrayVarP(&paths, "file", "f", nil, "YAML file with one workflow or a workflows: list; repeat for more files (required)")
	return cmd
}

func newWorkflowsApplyCmd(g *globals) *cobra.Command {
	var paths []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE...",
		Short: "Save the workflows of YAML files, each as a new version when it changed",
		Long: `Validate workflow files like validate does and, when every file is
good, save each workflow: a new one is created, a changed one gets a new
version (runs in progress finish on the version they started with), and an
unchanged one is left alone. Nothing is saved if any file has a mistake.`,
		Example: `  hookline workflows apply -f order-fulfilment.yaml
  hookline workflows apply -f hookline.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := readWorkflowArgs(cmd, g, append(paths, args...))
			if err != nil {
				return err
			}
			printMistakes(cmd, g, files)
			if err := invalidFiles(files); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			saved := []*client.WorkflowSaved{}
			for _, f := range files {
				var out []*client.WorkflowSaved
				out, err = f.save(cmd, c)
				saved = append(saved, out...)
				if err != nil {
					break
				}
			}
			if len(saved) == 0 && err != nil {
				return err
			}
			// What was saved before an error is shown too.
			rerr := g.render(cmd, saved, func(w io.Writer) {
				row(w, "NAME", "VERSION", "ACTION", "ENABLED")
				for _, s := range saved {
					row(w, s.Name, strconv.Itoa(s.Version), s.Action, strconv.FormatBool(s.Enabled))
				}
			})
			if err == nil {
				err = rerr
			}
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&paths, "file", "f", nil, "YAML file with one workflow or a workflows: list; repeat for more files (required)")
	return cmd
}

func newWorkflowsGetCmd(g *globals) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a workflow's spec as YAML, with its versions",
		Long: `Show a workflow's spec as YAML, after comment lines with its version, the
versions it has, whether it is enabled and when the version was saved. The
output is a workflow file: save it, edit it and apply it with
hookline workflows apply -f.`,
		Example: `  hookline workflows get order-fulfilment > order-fulfilment.yaml
  hookline workflows get order-fulfilment --version 1`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 0 {
				return usagef(cmd, "invalid --version %d: want a positive version", version)
			}
			return show(cmd, g, func(c *client.Client) (*workflowVersions, error) {
				wf, versions, err := c.GetWorkflow(cmd.Context(), args[0], version)
				if err != nil {
					return nil, err
				}
				spec := wf.WorkflowSpec
				if !wf.Enabled {
					// Applying the output must not enable the workflow again.
					spec.Enabled = &wf.Enabled
				}
				doc, err := yamlDoc("workflow", spec)
				return &workflowVersions{Workflow: wf, Versions: versions, doc: doc}, err
			}, func(w io.Writer, v *workflowVersions) {
				nums := make([]string, len(v.Versions))
				for i, n := range v.Versions {
					nums[i] = strconv.Itoa(n)
				}
				kv(w,
					"# version", strconv.Itoa(v.Workflow.Version)+" (versions: "+list(nums)+")",
					"# enabled", strconv.FormatBool(v.Workflow.Enabled),
					"# created", fmtTime(v.Workflow.CreatedAt),
				)
				_, _ = w.Write(v.doc)
			})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "show this version instead of the latest")
	return cmd
}

// workflowVersions is what workflows get shows: a version of a workflow,
// the versions it has, and the version's spec as YAML (not in -o json).
type workflowVersions struct {
	Workflow *client.Workflow `json:"workflow"`
	Versions []int            `json:"versions"`
	doc      []byte
}

func newWorkflowsEnableCmd(g *globals, enabled bool) *cobra.Command {
	use, short := "enable NAME", "Enable a workflow: matching events start runs again"
	if !enabled {
		use, short = "disable NAME", "Disable a workflow: events start no run; runs in progress go on"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, g, func(c *client.Client) (*client.Workflow, error) {
				return c.SetWorkflowEnabled(cmd.Context(), args[0], enabled)
			}, func(w io.Writer, wf *client.Workflow) {
				kv(w,
					"name", wf.Name,
					"version", strconv.Itoa(wf.Version),
					"enabled", strconv.FormatBool(wf.Enabled),
					"events", cell(list(wf.On.Events)),
					"steps", strconv.Itoa(len(wf.Steps)),
					"created", fmtTime(wf.CreatedAt),
				)
			})
		},
	}
}

func newWorkflowsRunsCmd(g *globals) *cobra.Command {
	var opts client.RunListOptions
	cmd := &cobra.Command{
		Use:   "runs [NAME]",
		Short: "List runs, newest first, of every workflow or of one",
		Example: `  hookline workflows runs order-fulfilment --status failed
  hookline workflows runs --parent run_01j9z3k8q2... # the branches, items or called run of a run's steps
  hookline workflows runs --limit 5 -o json | jq '.data[].id'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef(cmd, "unexpected argument %q", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Workflow = args[0]
			}
			return showPage(cmd, g, func(c *client.Client) (*client.Page[client.Run], error) {
				return c.ListRuns(cmd.Context(), opts)
			}, []string{"ID", "WORKFLOW", "VERSION", "STATUS", "STEP", "ERROR", "UPDATED"}, func(r client.Run) []string {
				return []string{r.ID, r.Workflow, strconv.Itoa(r.Version), r.Status, orDash(r.Current), cell(r.Error), fmtTime(r.Updated)}
			})
		},
	}
	cmd.Flags().StringVar(&opts.Status, "status", "", "only runs in this status: queued, running, waiting, succeeded, failed or cancelled")
	cmd.Flags().StringVar(&opts.ParentRunID, "parent", "", "only the runs that this run's parallel, foreach and call steps started")
	addListFlags(cmd, &opts.ListOptions)
	return cmd
}

func newWorkflowsRunCmd(g *globals) *cobra.Command {
	var input, idempotencyKey string
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Start a run of a workflow by hand, with an input",
		Long: `Start a run of a workflow's latest version by hand, whatever its triggers,
and show the run. The input, a JSON object read from --input (a file, or -
for standard input; default {}), is what the run sees as event.data.`,
		Example: `  hookline workflows run daily-digest
  hookline workflows run order-fulfilment --input order.json --idempotency-key replay-o-1042
  echo '{"id": "o-1042", "total": 99.5}' | hookline workflows run order-fulfilment --input -`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in client.RunStart
			if input != "" {
				var err error
				if in.Input, err = readJSONFile(cmd, "input", input); err != nil {
					return err
				}
			}
			in.IdempotencyKey = idempotencyKey
			return show(cmd, g, func(c *client.Client) (*client.Run, error) { return c.StartRun(cmd.Context(), args[0], in) }, runTable)
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "read the run's input from a JSON file, - for standard input")
	cmd.Flags().StringVar(&idempotencyKey, "idempotency-key", "", "start at most one run for this key")
	return cmd
}

// newRunActionCmd returns the command NAME RUN_ID that does act to a run
// and shows the run, or with --all does actAll to the runs its filter
// flags select and shows the counts.
func newRunActionCmd(g *globals, name, short string, act func(*client.Client, context.Context, string) (*client.Run, error),
	actAll func(*client.Client, context.Context, client.RunFilter) (*client.RunsChanged, error)) *cobra.Command {
	var (
		all           bool
		f             client.RunFilter
		after, before string
	)
	cmd := &cobra.Command{
		Use:   name + " RUN_ID | --all [--workflow NAME] [--status STATUS] [--after T] [--before T] [--limit N]",
		Short: short,
		Example: fmt.Sprintf(`  hookline workflows %[1]s run_01m8djv1c4eqpb8agv6zakmhm3
  hookline workflows %[1]s --all --workflow order-fulfilment --after 2026-12-01T00:00:00Z --limit 1000`, name),
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usagef(cmd, "give RUN_ID or --all, not both")
			case all:
				return nil
			case f.Workflow != "" || f.Status != "" || after != "" || before != "" || f.Limit != 0:
				return usagef(cmd, "--workflow, --status, --after, --before and --limit select runs for --all")
			}
			return argsNamed("RUN_ID")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !all {
				return show(cmd, g, func(c *client.Client) (*client.Run, error) { return act(c, cmd.Context(), args[0]) }, runTable)
			}
			for _, t := range []struct {
				flag, value string
				dst         **client.Time
			}{{"after", after, &f.CreatedAfter}, {"before", before, &f.CreatedBefore}} {
				v, err := parseTimeFlag(cmd, t.flag, t.value)
				if err != nil {
					return err
				}
				if !v.IsZero() {
					*t.dst = &client.Time{Time: v}
				}
			}
			return show(cmd, g, func(c *client.Client) (*client.RunsChanged, error) { return actAll(c, cmd.Context(), f) },
				func(w io.Writer, r *client.RunsChanged) {
					kv(w, "matched", strconv.Itoa(r.Matched), "changed", strconv.Itoa(r.Changed), "skipped", strconv.Itoa(r.Skipped),
						"more", strconv.FormatBool(r.More))
				})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&all, "all", false, "act on every run the filter flags select (at most --limit), not one")
	fl.StringVar(&f.Workflow, "workflow", "", "with --all: only runs of this workflow")
	fl.StringVar(&f.Status, "status", "", "with --all: only runs in this status")
	fl.StringVar(&after, "after", "", "with --all: only runs created at or after this RFC 3339 time")
	fl.StringVar(&before, "before", "", "with --all: only runs created before this RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 0, "with --all: at most this many runs, newest first (default 100, at most 1000); more: true says to run it again")
	return cmd
}

// runTable writes one run as key-value rows.
func runTable(w io.Writer, r *client.Run) {
	vars := ""
	if r.Vars != nil {
		if b, err := json.Marshal(r.Vars); err == nil && string(b) != "{}" {
			vars = string(b)
		}
	}
	kv(w,
		"id", r.ID,
		"workflow", r.Workflow+" (version "+strconv.Itoa(r.Version)+")",
		"status", r.Status,
		"event", r.EventID,
		"parent", orDash(r.ParentID),
		"step", orDash(r.Current),
		"error", cell(r.Error),
		"vars", cell(vars),
		"created", fmtTime(r.Created),
		"updated", fmtTime(r.Updated),
	)
}

// stepLog writes the step log of a run as a table, oldest first. Inputs and
// outputs in full are in -o json.
func stepLog(w io.Writer, steps []client.RunStep) {
	logTable(w, "step log", "steps", steps, []string{"SEQ", "STEP", "KIND", "STATUS", "ATTEMPTS", "DURATION", "ERROR / OUTPUT"}, func(s client.RunStep) []string {
		summary := s.Error
		if summary == "" {
			summary = compact(s.Output)
		}
		return []string{strconv.Itoa(s.Seq), s.Step, s.Kind, s.Status, strconv.Itoa(s.Attempts), strconv.FormatInt(s.DurationMS, 10) + "ms", cell(summary)}
	})
}

// plural writes n with noun, adding an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// workflowFile is a file of workflows, read and checked.
type workflowFile struct {
	path string
	raw  []byte
	// declared is true for a declaration, whose specs are its
	// workflows: list, and false for a file of one spec.
	declared bool
	specs    []client.WorkflowSpec
	mistakes []mistake
}

// mistake is one problem of a workflow file.
type mistake struct {
	File string `json:"file"`
	// Line is 1-based; Column is 0 when only the line is known.
	Line   int `json:"line"`
	Column int `json:"column,omitempty"`
	// Resource is the workflow's place in a declaration ("workflows[1]"),
	// and Workflow its name; both are empty for a file of one spec.
	Resource string `json:"resource,omitempty"`
	Workflow string `json:"workflow,omitempty"`
	// Field is the path of the mistake in the workflow, such as
	// "steps[2].http.url"; empty for a mistake in the YAML.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String returns "FILE:LINE: [RESOURCE (NAME): ]FIELD: message", the way
// apply reports declarations the server refuses.
func (m mistake) String() string {
	var b strings.Builder
	if m.Column > 0 {
		fmt.Fprintf(&b, "%s:%d:%d: ", m.File, m.Line, m.Column)
	} else {
		fmt.Fprintf(&b, "%s:%d: ", m.File, m.Line)
	}
	b.WriteString(m.where())
	b.WriteString(m.Message)
	return b.String()
}

// where returns "[RESOURCE (NAME): ]FIELD: ", what the mistake is about.
func (m mistake) where() string {
	var b strings.Builder
	if m.Resource != "" {
		b.WriteString(m.Resource)
		if m.Workflow != "" {
			b.WriteString(" (" + m.Workflow + ")")
		}
		b.WriteString(": ")
	}
	if m.Field != "" {
		b.WriteString(m.Field + ": ")
	}
	return b.String()
}

// readWorkflowArgs reads and checks the files a command names with -f and
// as arguments, paths; naming none is a usage error.
func readWorkflowArgs(cmd *cobra.Command, g *globals, paths []string) ([]*workflowFile, error) {
	if len(paths) == 0 {
		return nil, usagef(cmd, "-f FILE is required")
	}
	return readWorkflowFiles(paths, g.lookup)
}

// readWorkflowFiles reads and checks the files at paths. A file it cannot
// read is an error; mistakes in a file are in its mistakes.
func readWorkflowFiles(paths []string, lookup lookupFunc) ([]*workflowFile, error) {
	files := make([]*workflowFile, 0, len(paths))
	for _, path := range paths {
		f, err := readWorkflowFile(path, lookup)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// specKeys are the top-level keys that make a file one workflow spec
// rather than a declaration.
var specKeys = []string{"name", "on", "steps"}

// readWorkflowFile reads the file at path, one spec or a declaration, and
// checks each workflow in it.
func readWorkflowFile(path string, lookup lookupFunc) (*workflowFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workflow file: %w", err)
	}
	f := &workflowFile{path: path, raw: raw}
	var top map[string]any
	if yamlguard.Check(raw, yamlguard.Limits{MaxBytes: config.MaxFileBytes, MaxTokens: config.MaxFileTokens}) == nil && yaml.Unmarshal(raw, &top) == nil && top != nil {
		_, f.declared = top["workflows"]
		if !f.declared {
			f.declared = !slices.ContainsFunc(specKeys, func(k string) bool {
				_, ok := top[k]
				return ok
			})
		}
	}
	if f.declared {
		d, _, err := config.LoadDeclaration(path, lookup)
		if err != nil {
			return f, f.fileError(err)
		}
		f.specs = d.Workflows
	} else {
		var spec client.WorkflowSpec
		if err := config.DecodeYAML(path, raw, &spec); err != nil {
			var fe *config.FileError
			if !errors.As(err, &fe) {
				return f, fmt.Errorf("workflow file %s: %w", path, err)
			}
			f.mistakes = append(f.mistakes, mistake{File: path, Line: fe.Line, Column: fe.Column, Message: fe.Msg})
			return f, nil
		}
		f.specs = []client.WorkflowSpec{spec}
	}
	f.check()
	return f, nil
}

// fileError records a *config.FileError as a mistake; other errors are
// returned.
func (f *workflowFile) fileError(err error) error {
	var fe *config.FileError
	if !errors.As(err, &fe) {
		return err
	}
	f.mistakes = append(f.mistakes, mistake{File: f.path, Line: fe.Line, Column: fe.Column, Message: fe.Msg})
	return nil
}

// check compiles each spec and records its mistakes at their lines.
func (f *workflowFile) check() {
	seen := map[string]int{}
	for i, spec := range f.specs {
		at := func(field, msg string) {
			f.mistakes = append(f.mistakes, f.locate(i, spec.Name, field, msg))
		}
		if f.declared && spec.Name != "" {
			if j, dup := seen[spec.Name]; dup {
				at("name", fmt.Sprintf("workflow %q is declared twice (also workflows[%d])", spec.Name, j))
			} else {
				seen[spec.Name] = i
			}
		}
		// Checked as the server checks them: notify steps with the
		// content package's rules.
		_, err := apply.CompileWorkflow(spec, content.CheckRule)
		list := workflow.Errors(err)
		for _, e := range list {
			at(e.Path, e.Err.Error())
		}
		if err != nil && len(list) == 0 {
			at("", err.Error())
		}
	}
}

// locate returns the mistake msg about field of the ith spec, at the line
// of the field or of its nearest ancestor the file has.
func (f *workflowFile) locate(i int, name, field, msg string) mistake {
	m := mistake{File: f.path, Line: 1, Field: field, Message: msg}
	if f.declared {
		m.Resource, m.Workflow = fmt.Sprintf("workflows[%d]", i), name
		if line, ok := config.Locate(f.raw, m.Resource, field); ok {
			m.Line = line
		}
		return m
	}
	if line, ok := config.LocateField(f.raw, field); ok {
		m.Line = line
	}
	return m
}

// save saves the file's workflows: a file of one spec as it is written
// (YAML), the workflows of a declaration as expanded.
func (f *workflowFile) save(cmd *cobra.Command, c *client.Client) ([]*client.WorkflowSaved, error) {
	if !f.declared {
		s, err := c.SaveWorkflowYAML(cmd.Context(), f.raw)
		if err != nil {
			return nil, f.refused(-1, "", err)
		}
		return []*client.WorkflowSaved{s}, nil
	}
	var out []*client.WorkflowSaved
	for i, spec := range f.specs {
		s, err := c.SaveWorkflow(cmd.Context(), spec)
		if err != nil {
			return out, f.refused(i, spec.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// refused puts an API error about a field of the ith spec (-1: the file's
// only spec) at the field's line. Other errors are returned as they are.
// The server checks specs as validate does, so this is for a server of
// another version.
func (f *workflowFile) refused(i int, name string, err error) error {
	msg, field, ok := apiFieldError(err)
	if !ok || field == "" {
		return err
	}
	m := f.locate(max(i, 0), name, field, msg)
	m.Field = "" // the message starts with it
	return config.NewFileError(f.path, f.raw, m.Line, m.where()+m.Message)
}

// printMistakes writes every mistake of files to standard error, unless
// -o json puts them in the result.
func printMistakes(cmd *cobra.Command, g *globals, files []*workflowFile) {
	if g.output == outputJSON {
		return
	}
	for _, f := range files {
		for _, m := range f.mistakes {
			fmt.Fprintln(cmd.ErrOrStderr(), m.String())
		}
	}
}

// invalidFiles returns an error counting the mistakes of files, or nil
// when they have none.
func invalidFiles(files []*workflowFile) error {
	n, bad := 0, 0
	for _, f := range files {
		n += len(f.mistakes)
		if len(f.mistakes) > 0 {
			bad++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%s in %s", plural(n, "mistake"), plural(bad, "file"))
}
