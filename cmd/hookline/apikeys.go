package main

import (
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newAPIKeysCmd(g *globals) *cobra.Command {
	return newResourceCmd("api-keys", "api-key", "Manage the API keys of your tenant",
		&cobra.Command{
			Use:   "create NAME",
			Short: "Create an API key and print it",
			Args:  argsNamed("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return showOnce(cmd, g, "API key", func(c *client.Client) (*client.APIKey, error) {
					return c.CreateAPIKey(cmd.Context(), client.APIKeyCreate{Name: args[0]})
				}, func(w io.Writer, k *client.APIKey) {
					kv(w, "id", k.ID, "name", k.Name, "key", k.Key)
				})
			},
		},
		newListAllCmd(g, "List API keys (without their secret part)", (*client.Client).ListAPIKeys,
			[]string{"ID", "NAME", "PREFIX", "ADMIN", "CREATED"}, func(k client.APIKey) []string {
				return []string{k.ID, cell(k.Name), orDash(k.Prefix), strconv.FormatBool(k.Admin), fmtTime(k.CreatedAt)}
			}),
		newDeleteCmd(g, "ID", "API key", "Revoke an API key", (*client.Client).DeleteAPIKey),
	)
}
