package main

import (
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newAPIKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "api-keys",
		Aliases: []string{"api-key"},
		Short:   "Manage the API keys of your tenant",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "create NAME",
			Short: "Create an API key and print it",
			Args:  argsNamed("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				k, err := c.CreateAPIKey(cmd.Context(), client.APIKeyCreate{Name: args[0]})
				if err != nil {
					return err
				}
				shownOnce(cmd, "API key")
				return g.render(cmd, k, func(w io.Writer) {
					kv(w, "id", k.ID, "name", k.Name, "key", k.Key)
				})
			},
		},
		&cobra.Command{
			Use:   "list",
			Short: "List API keys (without their secret part)",
			Args:  argsNamed(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				keys, err := c.ListAPIKeys(cmd.Context())
				if err != nil {
					return err
				}
				return g.render(cmd, keys, func(w io.Writer) {
					row(w, "ID", "NAME", "PREFIX", "ADMIN", "CREATED")
					for _, k := range keys {
						row(w, k.ID, cell(k.Name), orDash(k.Prefix), strconv.FormatBool(k.Admin), fmtTime(k.CreatedAt))
					}
				})
			},
		},
		&cobra.Command{
			Use:   "delete ID",
			Short: "Revoke an API key",
			Args:  argsNamed("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				if err := c.DeleteAPIKey(cmd.Context(), args[0]); err != nil {
					return err
				}
				return g.deleted(cmd, "API key", args[0])
			},
		},
	)
	return cmd
}
