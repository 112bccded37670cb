package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
)

func newRecipientsPutCmd(g *globals) *cobra.Command {
	var (
		in          client.Recipient
		prefs, data string
	)
	cmd := &cobra.Command{
		Use:   "put ID",
		Short: "Create a recipient or replace it whole",
		Long: `Create the recipient ID, or replace it whole: a flag left out clears its
field. --prefs and --data take JSON, or @FILE to read it from a file (@-
reads standard input).`,
		Example: `  hookline recipients put c1 --email ada@example.com --name Ada --locale fr-CA --time-zone America/Toronto
  hookline recipients put c1 --email ada@example.com --prefs '{"channels": {"email": false}}'
  hookline recipients put c1 --email ada@example.com --data @ada.json`,
		Args: argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.ID = args[0]
			if prefs != "" {
				b, err := jsonArg(cmd, "--prefs", prefs)
				if err != nil {
					return err
				}
				if err := decodeStrict(b, &in.Prefs); err != nil {
					return usagef(cmd, "invalid --prefs: %v", err)
				}
			}
			if data != "" {
				b, err := jsonArg(cmd, "--data", data)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(b, &in.Data); err != nil || in.Data == nil {
					return usagef(cmd, "invalid --data: want a JSON object")
				}
			}
			return show(cmd, g, func(c *client.Client) (*client.Recipient, error) { return c.PutRecipient(cmd.Context(), in) }, recipientTable)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Email, "email", "", "email address")
	f.StringVar(&in.Name, "name", "", "name, for templates (recipient.name)")
	f.StringVar(&in.Locale, "locale", "", `locale tag such as "fr-CA" (server default "en")`)
	f.StringVar(&in.TimeZone, "time-zone", "", `IANA time zone such as "Europe/Paris" (server default UTC)`)
	f.StringVar(&prefs, "prefs", "", `preferences as JSON or @FILE: channels, categories, quiet_hours, digest`)
	f.StringVar(&data, "data", "", "more attributes for templates (recipient.data), a JSON object or @FILE")
	return cmd
}

// recipientTable writes one recipient as key-value rows; prefs and data
// as compact JSON.
func recipientTable(w io.Writer, r *client.Recipient) {
	prefs, _ := json.Marshal(r.Prefs)
	data := ""
	if len(r.Data) > 0 {
		b, _ := json.Marshal(r.Data)
		data = string(b)
	}
	kv(w,
		"id", r.ID,
		"email", orDash(r.Email),
		"name", cell(r.Name),
		"locale", orDash(r.Locale),
		"time zone", orDash(r.TimeZone),
		"prefs", emptyJSON(string(prefs)),
		"data", emptyJSON(data),
		"created", fmtTime(r.CreatedAt),
		"updated", fmtTime(r.UpdatedAt),
	)
}

// emptyJSON shows JSON in full, and an empty object as "-".
func emptyJSON(s string) string {
	if s == "{}" {
		return "-"
	}
	return orDash(s)
}

func newTemplatesSaveCmd(g *globals) *cobra.Command {
	return newSpecFileCmd(g, &cobra.Command{
		Use:   "save -f FILE",
		Short: "Save a template from a YAML or JSON file, as a new version when it changed",
		Long: `Save a template from a file in YAML or JSON (- reads standard input): name,
subject, text, html, locales, default_locale and strict, as an entry of
templates: in hookline.yaml. A new template is created, a changed one gets
a new version, an unchanged one is left alone. A mistake in the file, or a
part that does not compile, is reported as FILE:LINE: message.`,
		Example: `  hookline templates save -f shipped.yaml`,
	}, "template", (*client.Client).SaveTemplate, templateFileError, func(w io.Writer, s *client.TemplateSaved) {
		kv(w,
			"name", s.Template.Name,
			"version", strconv.Itoa(s.Template.Version),
			"action", s.Action,
			"created", fmtTime(s.Template.CreatedAt),
		)
	})
}

func newTemplatesPreviewCmd(g *globals) *cobra.Command {
	var (
		in               client.Preview
		event, recipient string
	)
	cmd := &cobra.Command{
		Use:   "preview NAME",
		Short: "Render a template with a sample event and recipient, without sending",
		Long: `Render the template NAME and print its locale, subject, text and HTML.
Nothing is sent. --event is the sample event, {"type": …, "data": …} or
just its data, as JSON or @FILE (@- reads standard input); --recipient the
id of a stored recipient to render for; --locale overrides the recipient's
locale. A template that fails to render is an error naming the part and
the reason.`,
		Example: `  hookline templates preview shipped --event '{"id": "o-9", "total": 12.5}' --recipient c1
  hookline templates preview shipped --event @order.json --locale fr`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if event != "" {
				b, err := jsonArg(cmd, "--event", event)
				if err != nil {
					return err
				}
				in.Event = b
			}
			if recipient != "" {
				in.Recipient = &client.Recipient{ID: recipient}
			}
			return show(cmd, g, func(c *client.Client) (*client.Rendered, error) {
				return c.PreviewTemplate(cmd.Context(), args[0], in)
			}, func(w io.Writer, r *client.Rendered) {
				kv(w,
					"locale", r.Locale,
					"subject", r.Subject,
				)
				textBlock(w, "text", r.Text)
				textBlock(w, "html", r.HTML)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&event, "event", "", `sample event as JSON or @FILE: {"type": …, "data": …} or just the data`)
	f.StringVar(&recipient, "recipient", "", "id of the recipient to render for")
	f.StringVar(&in.Locale, "locale", "", "render in this locale instead of the recipient's")
	return cmd
}

// textBlock writes "label:" and s indented below it, or "label: -" when s
// is empty. Tabs become spaces so the table writer leaves s as it is.
func textBlock(w io.Writer, label, s string) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		kv(w, label, "-")
		return
	}
	fmt.Fprintln(w, label+":")
	for line := range strings.SplitSeq(s, "\n") {
		fmt.Fprintln(w, strings.TrimRight("  "+strings.ReplaceAll(line, "\t", "    "), " \r"))
	}
}

func newNotifyRulesCreateCmd(g *globals) *cobra.Command {
	return newSpecFileCmd(g, &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a notify rule from a YAML or JSON file",
		Long: `Create a notify rule from a file in YAML or JSON (- reads standard input):
name, events, if, recipient, directory, template, digest_template,
channels, category, lookups, send_at, page_ttl, webhook_type, track and
enabled, as an entry of notify_rules: in hookline.yaml. A mistake in the
file, or a field the server refuses, is reported as FILE:LINE: message. To
change an existing rule, declare it and use hookline apply.`,
		Example: `  hookline notify-rules create -f order-shipped.yaml`,
	}, "notify rule", (*client.Client).CreateNotifyRule, fieldFileError, notifyRuleTable)
}

// notifyRuleTable writes one notify rule as key-value rows.
func notifyRuleTable(w io.Writer, r *client.NotifyRuleOut) {
	directory := "-"
	if r.Directory != nil {
		directory = "collection " + r.Directory.Collection
	}
	lookups := make([]string, len(r.Lookups))
	for i, l := range r.Lookups {
		from := l.Collection
		if from == "" {
			from = l.URL
		}
		lookups[i] = l.Name + " ← " + from
	}
	track := r.Track == nil || *r.Track
	kv(w,
		"name", r.Name,
		"events", cell(list(r.Events)),
		"if", cell(r.If),
		"recipient", cell(r.Recipient),
		"directory", directory,
		"template", r.Template,
		"digest template", orDash(r.DigestTemplate),
		"channels", list(r.Channels),
		"category", orDash(r.Category),
		"lookups", cell(list(lookups)),
		"send at", cell(r.SendAt),
		"page ttl", orDash(r.PageTTL),
		"webhook type", orDash(r.WebhookType),
		"track", strconv.FormatBool(track),
		"enabled", strconv.FormatBool(ruleEnabled(r.Enabled)),
		"created", fmtTime(r.CreatedAt),
		"updated", fmtTime(r.UpdatedAt),
	)
}

// ruleEnabled reads an optional enabled flag, true by default.
func ruleEnabled(b *bool) bool {
	return b == nil || *b
}

// yamlDoc writes the spec of a kind of resource as YAML, keys in the order
// of the JSON API.
func yamlDoc(kind string, spec any) ([]byte, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", kind, err)
	}
	out, err := yaml.JSONToYAML(b)
	if err != nil {
		return nil, fmt.Errorf("encode %s as YAML: %w", kind, err)
	}
	return out, nil
}

// readSpecFile reads a T from the YAML or JSON file at path ("-": in).
// Unknown keys are errors; a mistake is a *config.FileError.
func readSpecFile[T any](kind, path string, in io.Reader) (T, []byte, error) {
	var (
		spec T
		raw  []byte
		err  error
	)
	if path == "-" {
		raw, err = io.ReadAll(in)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return spec, nil, fmt.Errorf("read %s: %w", kind, err)
	}
	if err := config.DecodeYAML(path, raw, &spec); err != nil {
		return spec, raw, err
	}
	return spec, raw, nil
}

// fieldFileError puts an API error about one field of the resource read
// from path at the field's line. Other errors are returned as they are.
func fieldFileError(path string, raw []byte, err error) error {
	msg, field, ok := apiFieldError(err)
	if !ok {
		return err
	}
	return atField(path, raw, field, msg, err)
}

// apiFieldError returns the message of the API error in err and the field
// it is about (details.field, empty when it names none); ok is false when
// err is no API error.
func apiFieldError(err error) (msg, field string, ok bool) {
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		return "", "", false
	}
	field, _ = apiErr.Details["field"].(string)
	return apiErr.Message, field, true
}

// templateFileError is fieldFileError for a template, whose compile errors
// are about the field "template" and name the part first ("template:
// locales.fr.text: …"): they are put at that part's line.
func templateFileError(path string, raw []byte, err error) error {
	msg, field, ok := apiFieldError(err)
	if !ok {
		return err
	}
	if field == "template" {
		rest := strings.TrimPrefix(msg, "template: ")
		field, _, _ = strings.Cut(rest, ": ")
	}
	return atField(path, raw, field, msg, err)
}

// atField returns msg as a *config.FileError at the line of field in raw,
// or err when the file has no such field.
func atField(path string, raw []byte, field, msg string, err error) error {
	if field == "" {
		return err
	}
	line, ok := config.LocateField(raw, field)
	if !ok {
		return err
	}
	return config.NewFileError(path, raw, line, msg)
}

// jsonArg reads the JSON value of flag: the value itself, or the contents
// of the file it names after an @ (@- is standard input).
func jsonArg(cmd *cobra.Command, flag, value string) (json.RawMessage, error) {
	b, from := []byte(value), flag
	if name, ok := strings.CutPrefix(value, "@"); ok {
		var err error
		if name == "-" {
			b, err = io.ReadAll(cmd.InOrStdin())
			from = flag + " (standard input)"
		} else {
			b, err = os.ReadFile(name)
			from = flag + " (" + name + ")"
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", flag, err)
		}
	}
	if err := checkJSON(b); err != nil {
		return nil, usagef(cmd, "%s %v", from, err)
	}
	return bytes.TrimSpace(b), nil
}

// decodeStrict decodes the JSON b into v, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
