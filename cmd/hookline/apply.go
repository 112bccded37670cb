package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/config"
)

func newApplyCmd(g *globals) *cobra.Command {
	var (
		path   string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update the resources declared in a YAML file",
		Long: `Create or update the resources declared in a YAML file (a hookline.yaml;
server keys in it are ignored) under these keys:

` + declarationKeysList() + `

Resources are matched by name: missing ones are created, differing ones
updated, and resources the file does not name are left alone. ${NAME} in
any value is replaced by the environment variable NAME ($${ stands for a
literal ${).

A mistake is reported as FILE:LINE: message, and nothing is changed.`,
		Example: `  hookline apply -f hookline.yaml --dry-run
  hookline apply -f hookline.yaml`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usagef(cmd, "-f FILE is required")
			}
			d, raw, err := config.LoadDeclaration(path, g.lookup)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			res, err := c.Apply(cmd.Context(), d, dryRun)
			if err != nil {
				return declarationError(path, raw, err)
			}
			var secrets []client.Change
			for _, ch := range res.Changes {
				if ch.Secret != "" {
					secrets = append(secrets, ch)
				}
			}
			err = g.render(cmd, res, func(w io.Writer) {
				row(w, "KIND", "NAME", "ACTION", "ID")
				for _, ch := range res.Changes {
					row(w, ch.Kind, ch.Name, ch.Action, orDash(ch.ID))
				}
				for _, ch := range secrets {
					fmt.Fprintf(w, "\nsigning secret of endpoint %s: %s\n", ch.Name, ch.Secret)
				}
			})
			if len(secrets) > 0 {
				shownOnce(cmd, "signing secret of a created endpoint")
			}
			if res.DryRun {
				fmt.Fprintln(cmd.ErrOrStderr(), "Dry run: nothing was changed.")
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "file", "f", "", "YAML file with the declaration (required)")
	f.BoolVar(&dryRun, "dry-run", false, "validate and show what would change, without changing anything")
	return cmd
}

// declarationKeysList lists the keys resources are declared under, for
// help texts: comma-separated, indented by two spaces and wrapped before
// 76 columns.
func declarationKeysList() string {
	const indent, width = "  ", 76
	var b strings.Builder
	line := indent
	keys := config.DeclarationKeys()
	for i, key := range keys {
		if i < len(keys)-1 {
			key += ","
		}
		if line != indent && len(line)+1+len(key) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += key
	}
	b.WriteString(line)
	return b.String()
}

// declarationError turns an error of applying the declaration read from
// path, whose contents are raw, into a *config.FileError at the line of the
// resource and field it is about. Other errors are returned as they are.
func declarationError(path string, raw []byte, err error) error {
	resource, field, msg, ok := applyErrorDetails(err)
	if !ok {
		return err
	}
	line, ok := config.Locate(raw, resource, field)
	if !ok {
		return err
	}
	return config.NewFileError(path, raw, line, msg)
}

// applyErrorDetails returns the resource ("sources[1]"), the field
// ("verification.kind", may be empty) and the message of an apply error
// about one declared resource: from the details of the API's answer
// (details.resource and details.field), or from the *apply.Error of a
// declaration applied in process (serve). ok is false for any other error.
func applyErrorDetails(err error) (resource, field, msg string, ok bool) {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		resource, _ = apiErr.Details["resource"].(string)
		if resource == "" {
			return "", "", "", false
		}
		field, _ = apiErr.Details["field"].(string)
		return resource, field, apiErr.Message, true
	}
	var de *apply.Error
	if errors.As(err, &de) {
		return de.Resource, de.Field(), de.Error(), true
	}
	return "", "", "", false
}
