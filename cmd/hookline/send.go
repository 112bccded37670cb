package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/delivery/format"
)

func newSendCmd(g *globals) *cobra.Command {
	var data, dataFile, idempotencyKey string
	cmd := &cobra.Command{
		Use:   "send TYPE",
		Short: "Publish an event",
		Long: `Publish an event of type TYPE. Prints the event id, or the event with -o json.

The data is a JSON value given with --data, or read from a file with
--data-file (- reads standard input).`,
		Example: `  hookline send order.created --data '{"id":"ord_1","total":42}'
  hookline send order.created --data-file order.json --idempotency-key ord_1
  cat order.json | hookline send order.created --data-file -`,
		Args: argsNamed("TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := eventData(cmd, data, dataFile)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ev, err := c.SendEvent(cmd.Context(), client.EventCreate{Type: args[0], Data: body, IdempotencyKey: idempotencyKey})
			if err != nil {
				return err
			}
			if ev.Duplicate {
				fmt.Fprintln(cmd.ErrOrStderr(), "The idempotency key matched an earlier event; it was not sent again.")
			}
			return g.render(cmd, ev, func(w io.Writer) { fmt.Fprintln(w, ev.ID) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "event data as JSON")
	f.StringVar(&dataFile, "data-file", "", "read event data from a JSON file, - for standard input")
	f.StringVar(&idempotencyKey, "idempotency-key", "", "send at most one event for this key")
	return cmd
}

// eventData returns the event data from --data or --data-file, checked to be
// JSON.
func eventData(cmd *cobra.Command, data, dataFile string) (json.RawMessage, error) {
	switch {
	case data != "" && dataFile != "":
		return nil, usagef(cmd, "pass either --data or --data-file, not both")
	case data != "":
		if err := checkJSON([]byte(data)); err != nil {
			return nil, usagef(cmd, "event data %v", err)
		}
		return json.RawMessage(data), nil
	case dataFile != "":
		return readJSONFile(cmd, "event data", dataFile)
	default:
		return nil, usagef(cmd, "no event data: pass --data JSON or --data-file PATH (- for standard input)")
	}
}

// readJSONFile reads what (such as "event data") as JSON from the file at
// path, or from standard input for "-".
func readJSONFile(cmd *cobra.Command, what, path string) (json.RawMessage, error) {
	var (
		b   []byte
		err error
	)
	where := what + " in " + path
	if path == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
		where = what + " on standard input"
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	if err := checkJSON(b); err != nil {
		return nil, usagef(cmd, "%s %v", where, err)
	}
	return b, nil
}

// checkJSON says why b is not JSON the API takes: it must be UTF-8, which
// encoding/json does not check. The server would refuse it too, but at a
// byte of its own request body rather than of the file.
func checkJSON(b []byte) error {
	if err := format.CheckUTF8(b); err != nil {
		return fmt.Errorf("is %w", err)
	}
	if !json.Valid(b) {
		return errors.New("is not valid JSON")
	}
	return nil
}
