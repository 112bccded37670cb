package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

// The command groups of the API's resources (newResourceCmd), each named
// by its plural, in one place: what the CLI offers for each resource, at
// a glance. The longer subcommands are in the resource's own file.

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

func newDeliveriesCmd(g *globals) *cobra.Command {
	return newResourceCmd("deliveries", "delivery", "Inspect and retry deliveries of events to endpoints",
		newDeliveriesListCmd(g),
		newGetCmd(g, "ID", "Show a delivery and its attempt log", (*client.Client).GetDelivery, func(w io.Writer, d *client.Delivery) {
			deliveryTable(w, d)
			attemptLog(w, d.AttemptLog)
		}),
		&cobra.Command{
			Use:   "retry ID",
			Short: "Schedule a delivery for an immediate new attempt",
			Args:  argsNamed("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return show(cmd, g, func(c *client.Client) (*client.Delivery, error) { return c.RetryDelivery(cmd.Context(), args[0]) }, deliveryTable)
			},
		},
	)
}

func newEventsCmd(g *globals) *cobra.Command {
	return newResourceCmd("events", "event", "Inspect and replay events",
		newEventsListCmd(g),
		newGetCmd(g, "ID", "Show an event and its data", (*client.Client).GetEvent, eventTable),
		&cobra.Command{
			Use:   "replay ID",
			Short: "Send an event again to every endpoint that matches it now",
			Args:  argsNamed("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return show(cmd, g, func(c *client.Client) (*client.Replay, error) { return c.ReplayEvent(cmd.Context(), args[0]) }, func(w io.Writer, rp *client.Replay) {
					kv(w, "event", rp.EventID)
					kvList(w, "deliveries", "none (no endpoint matches)", rp.Deliveries)
				})
			},
		},
	)
}

func newMessagesCmd(g *globals) *cobra.Command {
	return newResourceCmd("messages", "message", "Inspect the content sent to recipients",
		newMessagesListCmd(g),
		withLong(newGetCmd(g, "ID", "Show a message with its text", (*client.Client).GetMessage, messageTable),
			`Show a message: where it comes from, whom it is for, its state and its
text. The HTML in full is in -o json.`),
	)
}

func newEndpointsCmd(g *globals) *cobra.Command {
	return newResourceCmd("endpoints", "endpoint", "Manage the HTTP endpoints events are delivered to",
		newEndpointsCreateCmd(g),
		newPageListCmd(g, "List endpoints", (*client.Client).ListEndpoints,
			[]string{"ID", "URL", "EVENT TYPES", "FORMAT", "ENABLED", "CIRCUIT", "CREATED"}, func(ep client.Endpoint) []string {
				return []string{ep.ID, cell(ep.URL), cell(list(ep.EventTypes)), orDash(ep.Format), strconv.FormatBool(ep.Enabled),
					orDash(ep.Circuit), fmtTime(ep.CreatedAt)}
			}),
		newGetCmd(g, "ID", "Show an endpoint", (*client.Client).GetEndpoint, endpointTable),
		newDeleteCmd(g, "ID", "endpoint", "Delete an endpoint", (*client.Client).DeleteEndpoint),
		newEndpointsRotateCmd(g),
		newEndpointsRecoverCmd(g),
	)
}

func newSourcesCmd(g *globals) *cobra.Command {
	return newResourceCmd("sources", "source", "Manage sources: URLs /in/NAME that receive webhooks",
		newSourcesCreateCmd(g),
		newPageListCmd(g, "List sources", (*client.Client).ListSources,
			[]string{"ID", "NAME", "VERIFICATION", "PATH", "ENABLED", "CREATED"}, func(src client.Source) []string {
				return []string{src.ID, src.Name, orDash(src.Verification.Kind), src.Path, strconv.FormatBool(src.Enabled), fmtTime(src.CreatedAt)}
			}),
		newGetCmd(g, "ID", "Show a source (secrets masked)", (*client.Client).GetSource, g.sourceTable),
		newDeleteCmd(g, "ID", "source", "Delete a source; its URL answers 404 from then on", (*client.Client).DeleteSource),
		newSourcesRejectionsCmd(g),
	)
}

func newSubscriptionsCmd(g *globals) *cobra.Command {
	return newResourceCmd("subscriptions", "subscription", "Manage subscriptions that forward events to endpoints or sync them into collections",
		newSubscriptionsCreateCmd(g),
		newPageListCmd(g, "List subscriptions", (*client.Client).ListSubscriptions,
			[]string{"ID", "NAME", "EVENT TYPES", "DESTINATION", "ENABLED", "CIRCUIT", "CREATED"}, func(sub client.Subscription) []string {
				return []string{sub.ID, orDash(sub.Name), cell(list(sub.EventTypes)), destination(sub.Destination),
					strconv.FormatBool(sub.Enabled), orDash(sub.Circuit), fmtTime(sub.CreatedAt)}
			}),
		newGetCmd(g, "ID", "Show a subscription", (*client.Client).GetSubscription, subscriptionTable),
		newDeleteCmd(g, "ID", "subscription", "Delete a subscription", (*client.Client).DeleteSubscription),
	)
}

func newCollectionsCmd(g *globals) *cobra.Command {
	return newResourceCmd("collections", "collection", "Manage collections: data sets kept in step with a source system",
		newListAllCmd(g, "List collections", (*client.Client).ListCollections,
			[]string{"NAME", "KEY", "VERSION", "EVENTS", "CREATED"}, func(col client.Collection) []string {
				return []string{col.Name, cell(col.Key), cell(orDash(col.Version)), cell(list(eventOps(col.Events))), fmtTime(col.CreatedAt)}
			}),
		newGetCmd(g, "NAME", "Show a collection; secrets redacted", (*client.Client).GetCollection, collectionTable),
		newCollectionsCreateCmd(g),
		newDeleteCmd(g, "NAME", "collection", "Delete a collection and its records", (*client.Client).DeleteCollection),
		newCollectionsRecordsCmd(g),
		&cobra.Command{
			Use:   "record NAME KEY",
			Short: "Show one record of a collection",
			Long: `Show the record KEY of the collection NAME. A deleted record is an error
(deleted, HTTP 410) that shows the tombstone: the version it was deleted at.`,
			Args: argsNamed("NAME", "KEY"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return show(cmd, g, func(c *client.Client) (*client.Record, error) { return c.GetRecord(cmd.Context(), args[0], args[1]) }, recordTable)
			},
		},
		newCollectionsChangesCmd(g),
		newCollectionsBackfillCmd(g),
	)
}

func newRecipientsCmd(g *globals) *cobra.Command {
	return newResourceCmd("recipients", "recipient", "Manage recipients: the people content is made for",
		newRecipientsPutCmd(g),
		newPageListCmd(g, "List recipients, in id order", (*client.Client).ListRecipients,
			[]string{"ID", "EMAIL", "NAME", "LOCALE", "TIME ZONE", "UPDATED"}, func(r client.Recipient) []string {
				return []string{cell(r.ID), cell(r.Email), cell(r.Name), orDash(r.Locale), orDash(r.TimeZone), fmtTime(r.UpdatedAt)}
			}),
		newGetCmd(g, "ID", "Show a recipient with its preferences and data", (*client.Client).GetRecipient, recipientTable),
		newDeleteCmd(g, "ID", "recipient", "Delete a recipient; its messages are kept", (*client.Client).DeleteRecipient),
		&cobra.Command{
			Use:   "token ID",
			Short: "Print the token a recipient's web app reads its inbox with",
			Long: `Print the token with which the recipient's web app reads and follows its
inbox: /inbox?token=…, /inbox/stream?token=…. Give it to that recipient
only: it reads their messages.`,
			Args: argsNamed("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				type token struct {
					Token string `json:"token"`
				}
				return show(cmd, g, func(c *client.Client) (token, error) {
					tok, err := c.RecipientToken(cmd.Context(), args[0])
					return token{tok}, err
				}, func(w io.Writer, v token) { fmt.Fprintln(w, v.Token) })
			},
		},
	)
}

func newTemplatesCmd(g *globals) *cobra.Command {
	return newResourceCmd("templates", "template", "Save, preview and manage content templates",
		newTemplatesSaveCmd(g),
		newListAllCmd(g, "List templates at their latest version", (*client.Client).ListTemplates,
			[]string{"NAME", "VERSION", "SUBJECT", "LOCALES", "CREATED"}, func(t client.Template) []string {
				return []string{t.Name, strconv.Itoa(t.Version), cell(t.Subject), list(slices.Sorted(maps.Keys(t.Locales))), fmtTime(t.CreatedAt)}
			}),
		&cobra.Command{
			Use:   "get NAME",
			Short: "Show a template's spec as YAML",
			Long: `Show a template's spec as YAML, after comment lines with its version and
when it was saved. The output is a template file: save it, edit it and save
it again with hookline templates save -f.`,
			Example: `  hookline templates get shipped > shipped.yaml`,
			Args:    argsNamed("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				t, err := c.GetTemplate(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				doc, err := yamlDoc("template", t.TemplateSpec)
				if err != nil {
					return err
				}
				return g.render(cmd, t, func(w io.Writer) {
					kv(w,
						"# version", strconv.Itoa(t.Version),
						"# created", fmtTime(t.CreatedAt),
					)
					_, _ = w.Write(doc)
				})
			},
		},
		newDeleteCmd(g, "NAME", "template", "Delete a template and all its versions", (*client.Client).DeleteTemplate),
		newTemplatesPreviewCmd(g),
	)
}

func newNotifyRulesCmd(g *globals) *cobra.Command {
	return newResourceCmd("notify-rules", "notify-rule", "Manage notify rules: which events send which content to whom",
		newNotifyRulesCreateCmd(g),
		newListAllCmd(g, "List notify rules", (*client.Client).ListNotifyRules,
			[]string{"NAME", "EVENTS", "RECIPIENT", "TEMPLATE", "CHANNELS", "ENABLED"}, func(r client.NotifyRuleOut) []string {
				return []string{r.Name, cell(list(r.Events)), cell(r.Recipient), r.Template, list(r.Channels), strconv.FormatBool(ruleEnabled(r.Enabled))}
			}),
		newGetCmd(g, "NAME", "Show a notify rule", (*client.Client).GetNotifyRule, notifyRuleTable),
		newDeleteCmd(g, "NAME", "notify rule", "Delete a notify rule; its messages are kept", (*client.Client).DeleteNotifyRule),
	)
}

func newWorkflowsCmd(g *globals) *cobra.Command {
	return newResourceCmd("workflows", "workflow", "Validate, save and manage workflows, and inspect their runs",
		newWorkflowsValidateCmd(g),
		newWorkflowsApplyCmd(g),
		newListAllCmd(g, "List workflows at their latest version", (*client.Client).ListWorkflows,
			[]string{"NAME", "VERSION", "ENABLED", "EVENTS", "STEPS", "CREATED"}, func(wf client.Workflow) []string {
				return []string{wf.Name, strconv.Itoa(wf.Version), strconv.FormatBool(wf.Enabled), cell(list(wf.On.Events)), strconv.Itoa(len(wf.Steps)), fmtTime(wf.CreatedAt)}
			}),
		newWorkflowsGetCmd(g),
		newWorkflowsEnableCmd(g, true),
		newWorkflowsEnableCmd(g, false),
		newDeleteCmd(g, "NAME", "workflow", "Delete a workflow and all its versions; its runs are kept", (*client.Client).DeleteWorkflow),
		newWorkflowsRunCmd(g),
		newWorkflowsRunsCmd(g),
		&cobra.Command{
			Use:   "run-log RUN_ID",
			Short: "Show a run and its step log",
			Long: `Show a run and its step log: one row per step executed, oldest first.
Step inputs and outputs in full are in -o json.`,
			Args: argsNamed("RUN_ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return show(cmd, g, func(c *client.Client) (*client.Run, error) { return c.GetRun(cmd.Context(), args[0]) }, func(w io.Writer, r *client.Run) {
					runTable(w, r)
					stepLog(w, r.Steps)
				})
			},
		},
		newRunActionCmd(g, "retry", "Start a failed run, or every failed run a filter selects, again at the step that failed",
			(*client.Client).RetryRun, (*client.Client).RetryRuns),
		newRunActionCmd(g, "cancel", "Cancel a run that has not ended, or every running and waiting run a filter selects",
			(*client.Client).CancelRun, (*client.Client).CancelRuns),
	)
}

func newQueuesCmd(g *globals) *cobra.Command {
	return newResourceCmd("queues", "queue", "Manage pull queues: events waiting for consumers such as hookline forward",
		newListAllCmd(g, "List pull queues", (*client.Client).ListQueues,
			[]string{"NAME", "SOURCE", "EVENT TYPES", "CREATED"}, func(q client.Queue) []string {
				return []string{q.Name, orDash(q.Source), cell(list(q.EventTypes)), fmtTime(q.CreatedAt)}
			}),
		newGetCmd(g, "NAME", "Show a pull queue with how many events are on it", (*client.Client).GetQueue, func(w io.Writer, q *client.Queue) {
			kv(w, "name", q.Name, "source", orDash(q.Source), "event types", list(q.EventTypes),
				"messages", strconv.Itoa(q.Messages), "in flight", strconv.Itoa(q.InFlight), "created", fmtTime(q.CreatedAt), "updated", fmtTime(q.UpdatedAt))
		}),
		newDeleteCmd(g, "NAME", "queue", "Delete a pull queue with the events on it", (*client.Client).DeleteQueue),
	)
}
