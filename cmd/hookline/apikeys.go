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
		newListAllCmd(g, "List API keys (without their secret part)", (*client.Client).ListAPIKeys, func(w io.Writer, keys []client.APIKey) {
			row(w, "ID", "NAME", "PREFIX", "ADMIN", "CREATED")
			for _, k := range keys {
				row(w, k.ID, cell(k.Name), orDash(k.Prefix), strconv.FormatBool(k.Admin), fmtTime(k.CreatedAt))
			}
		}),
		newDeleteCmd(g, "ID", "API key", "Revoke an API key", (*client.Client).DeleteAPIKey),
	)
	return cmd
}
