package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

// The commands of a kind of resource (endpoints, sources, …) are built
// from these: a group named by the plural, and subcommands that get a
// value with an API client and show it.

// newResourceCmd is the command group of a kind of resource, named by its
// plural, with the singular as an alias.
func newResourceCmd(plural, singular, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:     plural,
		Aliases: []string{singular},
		Short:   short,
	}
	cmd.AddCommand(subs...)
	return cmd
}

// show gets a value with an API client for the resolved server and key,
// and renders it: as JSON with -o json, otherwise with table.
func show[T any](cmd *cobra.Command, g *globals, get func(*client.Client) (T, error), table func(io.Writer, T)) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	v, err := get(c)
	if err != nil {
		return err
	}
	return g.render(cmd, v, func(w io.Writer) { table(w, v) })
}

// showOnce is show for an answer with a secret, named what, that the
// server shows only this once: stderr says so.
func showOnce[T any](cmd *cobra.Command, g *globals, what string, get func(*client.Client) (T, error), table func(io.Writer, T)) error {
	return show(cmd, g, func(c *client.Client) (T, error) {
		v, err := get(c)
		if err == nil {
			shownOnce(cmd, what)
		}
		return v, err
	}, table)
}

// showPage is show for one page of a list: a table of header and a line
// per item, then, on stderr, how to fetch the next page.
func showPage[T any](cmd *cobra.Command, g *globals, get func(*client.Client) (*client.Page[T], error), header []string, line func(T) []string) error {
	var next string
	err := show(cmd, g, func(c *client.Client) (*client.Page[T], error) {
		page, err := get(c)
		if err == nil {
			next = page.NextCursor
		}
		return page, err
	}, func(w io.Writer, page *client.Page[T]) { tableOf(header, line)(w, page.Data) })
	nextPage(cmd, next)
	return err
}

// newListCmd is `list` of a resource listed by page, with --limit and
// --cursor, the paging part of opts: fetch gets the page opts ask for, and
// the table has header and a line per item. The caller adds the flags of
// the rest of opts.
func newListCmd[O, T any](g *globals, short string, opts *O, paging *client.ListOptions, fetch func(*client.Client, context.Context, O) (*client.Page[T], error), header []string, line func(T) []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return showPage(cmd, g, func(c *client.Client) (*client.Page[T], error) { return fetch(c, cmd.Context(), *opts) }, header, line)
		},
	}
	addListFlags(cmd, paging)
	return cmd
}

// newPageListCmd is `list` of a resource listed by page with no filters
// but --limit and --cursor.
func newPageListCmd[T any](g *globals, short string, fetch func(*client.Client, context.Context, client.ListOptions) (*client.Page[T], error), header []string, line func(T) []string) *cobra.Command {
	var opts client.ListOptions
	return newListCmd(g, short, &opts, &opts, fetch, header, line)
}

// newSpecFileCmd makes cmd send the spec of a resource of kind read from
// the YAML or JSON file -f FILE (- for standard input) and show the answer.
// fileError puts an API error about a field of the spec at the field's
// line in the file.
func newSpecFileCmd[S, T any](g *globals, cmd *cobra.Command, kind string, send func(*client.Client, context.Context, S) (T, error),
	fileError func(path string, raw []byte, err error) error, table func(io.Writer, T)) *cobra.Command {
	var path string
	cmd.Args = argsNamed()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if path == "" {
			return usagef(cmd, "-f FILE is required")
		}
		spec, raw, err := readSpecFile[S](kind, path, cmd.InOrStdin())
		if err != nil {
			return err
		}
		return show(cmd, g, func(c *client.Client) (T, error) {
			v, err := send(c, cmd.Context(), spec)
			return v, fileError(path, raw, err)
		}, table)
	}
	cmd.Flags().StringVarP(&path, "file", "f", "", "YAML or JSON file with the "+kind+", - for standard input (required)")
	return cmd
}

// newDeleteCmd is `delete ARG` of a resource: del removes it by name or id.
func newDeleteCmd(g *globals, arg, noun, short string, del func(*client.Client, context.Context, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "delete " + arg,
		Short: short,
		Args:  argsNamed(arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := del(c, cmd.Context(), args[0]); err != nil {
				return err
			}
			return g.deleted(cmd, noun, args[0])
		},
	}
}

// withLong sets the long help of cmd.
func withLong(cmd *cobra.Command, long string) *cobra.Command {
	cmd.Long = long
	return cmd
}

// newGetCmd is `get ARG` of a resource: get fetches it by name or id and
// table writes it.
func newGetCmd[T any](g *globals, arg, short string, get func(*client.Client, context.Context, string) (*T, error), table func(io.Writer, *T)) *cobra.Command {
	return &cobra.Command{
		Use:   "get " + arg,
		Short: short,
		Args:  argsNamed(arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, g, func(c *client.Client) (*T, error) { return get(c, cmd.Context(), args[0]) }, table)
		},
	}
}

// newListAllCmd is `list` of a resource listed whole, not by page: fetch
// gets every item, and the table has header and a line per item.
func newListAllCmd[T any](g *globals, short string, fetch func(*client.Client, context.Context) ([]T, error), header []string, line func(T) []string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, g, func(c *client.Client) ([]T, error) { return fetch(c, cmd.Context()) }, tableOf(header, line))
		},
	}
}
