package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/buildinfo"
)

// Environment variables that give the persistent flags their defaults.
const (
	envServer = "HOOKLINE_SERVER"
	envAPIKey = "HOOKLINE_API_KEY"
)

const defaultServer = "http://127.0.0.1:8080"

// lookupFunc reads an environment variable; main passes os.LookupEnv.
type lookupFunc func(key string) (string, bool)

// globals holds the persistent flags every command shares.
type globals struct {
	lookup lookupFunc
	// build is this binary's build info: --version, User-Agent.
	build  buildinfo.Info
	server string
	apiKey string
	output string
}

// run executes the command line args and returns the process exit code.
// Errors are printed to stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup lookupFunc) int {
	root := newRootCmd(lookup)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// newRootCmd returns the hookline command tree. Environment variables are
// read only through lookup.
func newRootCmd(lookup lookupFunc) *cobra.Command {
	g := &globals{lookup: lookup, build: buildinfo.Read()}
	root := &cobra.Command{
		Use:   "hookline",
		Short: "Send, receive and inspect webhooks with Hookline",
		Long: `hookline runs the Hookline server (serve) and drives its REST API.

API commands need the server URL and an API key, from --server and --api-key
or the HOOKLINE_SERVER and HOOKLINE_API_KEY environment variables.`,
		Version:       g.build.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.resolve(cmd)
		},
	}
	root.SetVersionTemplate("hookline {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{path: cmd.CommandPath(), err: err}
	})

	pf := root.PersistentFlags()
	pf.StringVar(&g.server, "server", cmp.Or(env(lookup, envServer), defaultServer), "API base URL (env "+envServer+")")
	// The key's default is resolved after parsing so that help never shows it.
	pf.StringVar(&g.apiKey, "api-key", "", "API key (env "+envAPIKey+")")
	pf.StringVarP(&g.output, "output", "o", outputTable, "output format: table or json")

	root.AddCommand(
		newServeCmd(g),
		newSendCmd(g),
		newApplyCmd(g),
		newEndpointsCmd(g),
		newSourcesCmd(g),
		newSubscriptionsCmd(g),
		newCollectionsCmd(g),
		newWorkflowsCmd(g),
		newRecipientsCmd(g),
		newTemplatesCmd(g),
		newNotifyRulesCmd(g),
		newMessagesCmd(g),
		newInCmd(g),
		newForwardCmd(g),
		newQueuesCmd(g),
		newEventsCmd(g),
		newDeliveriesCmd(g),
		newTenantsCmd(g),
		newAPIKeysCmd(g),
		newPortalCmd(g),
		newListenCmd(),
		newMigrateCmd(g),
		newBackupCmd(g),
		newHealthcheckCmd(g),
		newBenchCmd(g),
		newVersionCmd(g),
	)
	return root
}

// resolve fills the API key from the environment and checks the output
// format. It runs after flag parsing, before any command.
func (g *globals) resolve(cmd *cobra.Command) error {
	if !cmd.Flags().Changed("api-key") {
		g.apiKey = env(g.lookup, envAPIKey)
	}
	if g.output != outputTable && g.output != outputJSON {
		return &usageError{path: cmd.CommandPath(), err: fmt.Errorf("invalid --output %q: want table or json", g.output)}
	}
	return nil
}

// client returns an API client for the resolved server and key.
func (g *globals) client() (*client.Client, error) {
	if g.apiKey == "" {
		return nil, fmt.Errorf("no API key: pass --api-key or set %s", envAPIKey)
	}
	u, err := url.Parse(g.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid --server %q: want an http:// or https:// URL", g.server)
	}
	hc := &http.Client{Timeout: client.DefaultTimeout, Transport: serverTransport{server: g.server, base: http.DefaultTransport}}
	return client.New(g.server, g.apiKey, client.WithUserAgent(g.build.UserAgent()), client.WithHTTPClient(hc)), nil
}

// env returns the value of key, or "" when it is unset.
func env(lookup lookupFunc, key string) string {
	v, _ := lookup(key)
	return v
}

// usageError is a mistake on the command line; printError adds a pointer to
// the command's help.
type usageError struct {
	path string
	err  error
}

func (e *usageError) Error() string { return e.err.Error() }

func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError of cmd.
func usagef(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{path: cmd.CommandPath(), err: fmt.Errorf(format, args...)}
}

// argsNamed requires exactly the named positional arguments.
func argsNamed(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usagef(cmd, "missing argument %s", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return usagef(cmd, "unexpected argument %q", args[len(names)])
		}
		return nil
	}
}
