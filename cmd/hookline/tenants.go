package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newTenantsCmd(g *globals) *cobra.Command {
	return newResourceCmd("tenants", "tenant", "Manage tenants (needs an admin API key)", &cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant and print its first API key",
		Args:  argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return showOnce(cmd, g, "API key", func(c *client.Client) (*client.TenantCreated, error) {
				return c.CreateTenant(cmd.Context(), client.TenantCreate{Name: args[0]})
			}, func(w io.Writer, tc *client.TenantCreated) {
				kv(w,
					"tenant", tc.Tenant.ID,
					"name", tc.Tenant.Name,
					"created", fmtTime(tc.Tenant.CreatedAt),
					"api key id", tc.APIKey.ID,
					"api key", tc.APIKey.Key,
				)
			})
		},
	})
}
