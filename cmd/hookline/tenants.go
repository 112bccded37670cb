package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newTenantsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "tenants",
		Aliases: []string{"tenant"},
		Short:   "Manage tenants (needs an admin API key)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant and print its first API key",
		Args:  argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			tc, err := c.CreateTenant(cmd.Context(), client.TenantCreate{Name: args[0]})
			if err != nil {
				return err
			}
			shownOnce(cmd, "API key")
			return g.render(cmd, tc, func(w io.Writer) {
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
	return cmd
}
