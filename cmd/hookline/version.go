package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// newVersionCmd returns `hookline version`: what --version prints, or the
// build info as JSON with -o json.
func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version of this binary",
		Long: `Print the module version, VCS revision, commit time and Go version this
binary was built from, as 'hookline --version' does. The server sends the
same version as User-Agent (Hookline/VERSION (rev REVISION)) and exports it
as the hookline_build_info metric. -o json prints every field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.render(cmd, g.build, func(w io.Writer) {
				fmt.Fprintf(w, "hookline %s\n", g.build)
			})
		},
	}
}
