package client

import (
	"context"
	"net/http"
)

// MessageListOptions filters ListMessages. Empty fields do not filter.
type MessageListOptions struct {
	// Recipient is a recipient id.
	Recipient string
	// Channel is one of email, inbox, page and webhook.
	Channel string
	// Status is one of scheduled, digest, sent, failed, skipped, opened and
	// clicked.
	Status string
	ListOptions
}

// PutRecipient creates the recipient in.ID, or replaces it whole; fields
// left empty are cleared.
func (c *Client) PutRecipient(ctx context.Context, in Recipient) (*Recipient, error) {
	return doJSON[Recipient](ctx, c, call{action: "put recipient", method: http.MethodPut, path: "/v1/recipients/{id}", id: in.ID, body: in})
}

// GetRecipient returns the recipient id.
func (c *Client) GetRecipient(ctx context.Context, id string) (*Recipient, error) {
	return doJSON[Recipient](ctx, c, call{action: "get recipient", method: http.MethodGet, path: "/v1/recipients/{id}", id: id})
}

// ListRecipients returns one page of recipients, in id order.
func (c *Client) ListRecipients(ctx context.Context, opts ListOptions) (*Page[Recipient], error) {
	return listPage[Recipient](ctx, c, opts, call{action: "list recipients", path: "/v1/recipients"})
}

// DeleteRecipient deletes the recipient id.
func (c *Client) DeleteRecipient(ctx context.Context, id string) error {
	return c.do(ctx, call{action: "delete recipient", method: http.MethodDelete, path: "/v1/recipients/{id}", id: id}, nil)
}

// RecipientToken returns the token with which the recipient id's web app
// reads its inbox (/inbox?token=…).
func (c *Client) RecipientToken(ctx context.Context, id string) (string, error) {
	out, err := doJSON[RecipientToken](ctx, c, call{action: "get recipient token", method: http.MethodGet, path: "/v1/recipients/{id}/token", id: id})
	if err != nil {
		return "", err
	}
	return out.Token, nil
}

// SaveTemplate saves spec as the latest version of the template spec.Name:
// it creates the template, adds a version when the spec differs from the
// latest, and otherwise changes nothing (Action tells which). A template
// that does not compile is an *Error with Status 422 whose Details name
// the "field" "template".
func (c *Client) SaveTemplate(ctx context.Context, spec TemplateSpec) (*TemplateSaved, error) {
	return doJSON[TemplateSaved](ctx, c, call{action: "save template", method: http.MethodPost, path: "/v1/templates", body: spec})
}

// ListTemplates returns every template at its latest version.
func (c *Client) ListTemplates(ctx context.Context) ([]Template, error) {
	return listAll[Template](ctx, c, call{action: "list templates", method: http.MethodGet, path: "/v1/templates"})
}

// GetTemplate returns the template name at its latest version.
func (c *Client) GetTemplate(ctx context.Context, name string) (*Template, error) {
	return doJSON[Template](ctx, c, call{action: "get template", method: http.MethodGet, path: "/v1/templates/{id}", id: name})
}

// DeleteTemplate deletes the template name with all its versions.
func (c *Client) DeleteTemplate(ctx context.Context, name string) error {
	return c.do(ctx, call{action: "delete template", method: http.MethodDelete, path: "/v1/templates/{id}", id: name}, nil)
}

// PreviewTemplate renders the template name with the sample in, without
// sending anything. A template that fails to render is an *Error with
// Status 422 whose Details name the "field" "template".
func (c *Client) PreviewTemplate(ctx context.Context, name string, in Preview) (*Rendered, error) {
	return doJSON[Rendered](ctx, c, call{action: "preview template", method: http.MethodPost, path: "/v1/templates/{id}/preview", id: name, body: in})
}

// CreateNotifyRule creates a notify rule. A name that exists is a 409; a
// refused field is an *Error whose Details name the "field".
func (c *Client) CreateNotifyRule(ctx context.Context, in NotifyRule) (*NotifyRuleOut, error) {
	return doJSON[NotifyRuleOut](ctx, c, call{action: "create notify rule", method: http.MethodPost, path: "/v1/notify-rules", body: in})
}

// ListNotifyRules returns every notify rule.
func (c *Client) ListNotifyRules(ctx context.Context) ([]NotifyRuleOut, error) {
	return listAll[NotifyRuleOut](ctx, c, call{action: "list notify rules", method: http.MethodGet, path: "/v1/notify-rules"})
}

// GetNotifyRule returns the notify rule name.
func (c *Client) GetNotifyRule(ctx context.Context, name string) (*NotifyRuleOut, error) {
	return doJSON[NotifyRuleOut](ctx, c, call{action: "get notify rule", method: http.MethodGet, path: "/v1/notify-rules/{id}", id: name})
}

// ReplaceNotifyRule replaces the notify rule in.Name, which must exist.
func (c *Client) ReplaceNotifyRule(ctx context.Context, in NotifyRule) (*NotifyRuleOut, error) {
	return doJSON[NotifyRuleOut](ctx, c, call{action: "replace notify rule", method: http.MethodPut, path: "/v1/notify-rules/{id}", id: in.Name, body: in})
}

// DeleteNotifyRule deletes the notify rule name; its messages are kept.
func (c *Client) DeleteNotifyRule(ctx context.Context, name string) error {
	return c.do(ctx, call{action: "delete notify rule", method: http.MethodDelete, path: "/v1/notify-rules/{id}", id: name}, nil)
}

// ListMessages returns one page of messages.
func (c *Client) ListMessages(ctx context.Context, opts MessageListOptions) (*Page[Message], error) {
	q := filters("recipient", opts.Recipient, "channel", opts.Channel, "status", opts.Status)
	return listPage[Message](ctx, c, opts.ListOptions, call{action: "list messages", path: "/v1/messages", query: q})
}

// GetMessage returns the message id with its text and HTML.
func (c *Client) GetMessage(ctx context.Context, id string) (*Message, error) {
	return doJSON[Message](ctx, c, call{action: "get message", method: http.MethodGet, path: "/v1/messages/{id}", id: id})
}
