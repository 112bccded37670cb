package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// ContentStore is what the content pages read; a store.Store has it.
type ContentStore interface {
	GetTemplate(ctx context.Context, tenantID, name string, version int) (store.Template, error)
	ListTemplates(ctx context.Context, tenantID string) ([]store.Template, error)
	GetRecipient(ctx context.Context, tenantID, id string) (store.Recipient, error)
	ListRecipients(ctx context.Context, tenantID string, p store.Page) ([]store.Recipient, error)
	ListMessages(ctx context.Context, tenantID string, q store.MessageQuery) ([]store.Message, error)
	CountUnread(ctx context.Context, tenantID, recipientID string) (int, error)
}

// TemplatePreviewer renders a template as POST
// /v1/templates/{name}/preview does; *api.Server is one. A missing
// template is a store.ErrNotFound, a template that does not render a
// *field.Error.
type TemplatePreviewer interface {
	PreviewTemplate(ctx context.Context, tenantID, name string, in wire.Preview) (wire.Rendered, error)
}

// InboxReader lists a recipient's inbox as GET /inbox shows it to them;
// *content.Service is one.
type InboxReader interface {
	Inbox(ctx context.Context, tenantID string, q store.MessageQuery) ([]store.Message, error)
}

// maxPreviewForm bounds the preview form (the event's data is most of it)
// before it is read.
const maxPreviewForm = 256 << 10

var (
	messageID = regexp.MustCompile(`^(msg|dig)_[0-9a-z_]{1,160}$`)
	// channels are the channels messages are listed by.
	channels = []string{content.ChannelEmail, content.ChannelInbox, content.ChannelPage, content.ChannelWebhook}
	// messageStatuses are the statuses messages are filtered by.
	messageStatuses = []string{store.MessageScheduled, store.MessageDigest, store.MessageSent, store.MessageOpened,
		store.MessageClicked, store.MessageSkipped, store.MessageFailed}
)

// templateParts are the parts of a template for one locale.
type templateParts struct {
	Locale  string `json:"-"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// templateSpec is what the pages show of a stored template spec (JSON
// owned by the content package), read without its types.
type templateSpec struct {
	templateParts
	Locales       map[string]templateParts `json:"locales"`
	DefaultLocale string                   `json:"default_locale"`
	Strict        bool                     `json:"strict"`
}

func specOf(st store.Template) templateSpec {
	var spec templateSpec
	_ = json.Unmarshal(st.Spec, &spec)
	spec.DefaultLocale = cmp.Or(spec.DefaultLocale, "en")
	spec.Locale = spec.DefaultLocale
	return spec
}

// LocaleNames are the locales a template has, its default first.
func (t templateSpec) LocaleNames() []string {
	out := []string{t.DefaultLocale}
	for _, l := range slices.Sorted(maps.Keys(t.Locales)) {
		if l != t.DefaultLocale {
			out = append(out, l)
		}
	}
	return out
}

// Parts are the base parts and each locale's overrides, in LocaleNames'
// order.
func (t templateSpec) Parts() []templateParts {
	out := []templateParts{t.templateParts}
	for _, l := range t.LocaleNames()[1:] {
		p := t.Locales[l]
		p.Locale = l
		out = append(out, p)
	}
	return out
}

type templateRow struct {
	store.Template
	Spec templateSpec
}

// templates lists the tenant's templates by name, a page at a time.
func (s *Server) templates(w http.ResponseWriter, r *http.Request, sess *session) error {
	cur := r.URL.Query().Get("cursor")
	if cur != "" && !content.Name.MatchString(cur) {
		return errCursor
	}
	all, err := s.cfg.Store.ListTemplates(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	name := func(t store.Template) string { return t.Name }
	page, next := nextPage(r, afterName(all, cur, name), name)
	v := listView[templateRow]{Next: next, Query: r.URL.Query()}
	for _, t := range page {
		v.Rows = append(v.Rows, templateRow{Template: t, Spec: specOf(t)})
	}
	return s.page(w, r, sess, "content_templates", view{Title: "Templates", Nav: "content", Data: v})
}

// afterName is the rows of a list sorted by name that come after cur, one
// more than a page.
func afterName[T any](all []T, cur string, name func(T) string) []T {
	i, found := slices.BinarySearchFunc(all, cur, func(x T, n string) int { return strings.Compare(name(x), n) })
	if found {
		i++
	}
	return all[i:min(len(all), i+pageSize+1)]
}

// previewForm is what the preview renders with.
type previewForm struct {
	Recipient, Locale, EventType, Data string
}

// previewResult is a rendered preview, or why there is none.
type previewResult struct {
	Name string
	previewForm
	Rendered wire.Rendered
	// Error is a mistake of the form or the template's render error.
	Error string
	Took  time.Duration
	Done  bool
}

type templateView struct {
	store.Template
	Spec       templateSpec
	Recipients []store.Recipient
	Preview    previewResult
}

// template is a template's page: its parts by locale and a live preview
// (for the recipient and locale chosen, with the event data given),
// rendered by the server as a message would be.
func (s *Server) template(w http.ResponseWriter, r *http.Request, sess *session) error {
	return s.templatePage(w, r, sess, previewForm{Recipient: r.URL.Query().Get("recipient"), Data: "{}"})
}

// templatePreview renders the preview form: a whole page, or with htmx
// only the preview (the page's fragment). A render error is the preview's
// content, not a failed request.
func (s *Server) templatePreview(w http.ResponseWriter, r *http.Request, sess *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxPreviewForm)
	if err := r.ParseForm(); err != nil {
		return &userError{http.StatusRequestEntityTooLarge, "The preview form is too large: at most 256 KiB of event data."}
	}
	f := previewForm{Recipient: strings.TrimSpace(r.PostForm.Get("recipient")), Locale: strings.TrimSpace(r.PostForm.Get("locale")),
		EventType: strings.TrimSpace(r.PostForm.Get("event_type")), Data: r.PostForm.Get("data")}
	return s.templatePage(w, r, sess, f)
}

func (s *Server) templatePage(w http.ResponseWriter, r *http.Request, sess *session, f previewForm) error {
	name := r.PathValue("name")
	t, err := s.cfg.Store.GetTemplate(r.Context(), sess.TenantID, name, 0)
	if err != nil {
		return notFound(err, "template", name)
	}
	rcpts, err := s.cfg.Store.ListRecipients(r.Context(), sess.TenantID, store.Page{Limit: pageSize})
	if err != nil {
		return err
	}
	if f.Recipient == "" && r.Method == http.MethodGet && len(rcpts) > 0 {
		f.Recipient = rcpts[0].ID
	}
	v := templateView{Template: t, Spec: specOf(t), Recipients: rcpts}
	if v.Preview, err = s.preview(r.Context(), sess, name, f, rcpts); err != nil {
		return err
	}
	return s.page(w, r, sess, "content_template", view{Title: "Template " + name, Nav: "content", Data: v})
}

// preview renders template name for the form, as POST
// /v1/templates/{name}/preview does; the form's and the template's
// mistakes are the result's Error. A recipient not among listed, the
// ones the page read, is looked up.
func (s *Server) preview(ctx context.Context, sess *session, name string, f previewForm, listed []store.Recipient) (previewResult, error) {
	res := previewResult{Name: name, previewForm: f}
	in := wire.Preview{Locale: f.Locale}
	if f.Recipient != "" {
		if !slices.ContainsFunc(listed, func(rc store.Recipient) bool { return rc.ID == f.Recipient }) {
			_, err := s.cfg.Store.GetRecipient(ctx, sess.TenantID, f.Recipient)
			if errors.Is(err, store.ErrNotFound) {
				res.Error = "There is no recipient " + f.Recipient + " in this tenant: choose one of the list, or save it first (PUT /v1/recipients/{id})."
				return res, nil
			}
			if err != nil {
				return res, err
			}
		}
		in.Recipient = &wire.Recipient{ID: f.Recipient}
	}
	data := strings.TrimSpace(f.Data)
	if data == "" {
		data = "{}"
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &obj); err != nil {
		res.Error = "The event data must be a JSON object, such as {\"order_id\": \"A-1\"}: " + err.Error()
		return res, nil
	}
	in.Event, _ = json.Marshal(map[string]any{"type": cmp.Or(f.EventType, "preview"), "data": json.RawMessage(data)})
	start := time.Now()
	out, err := s.cfg.Previews.PreviewTemplate(ctx, sess.TenantID, name, in)
	res.Took = time.Since(start)
	var fe *field.Error
	switch {
	case errors.As(err, &fe):
		res.Error = fe.Err.Error()
	case err != nil:
		return res, notFound(err, "template", name)
	default:
		res.Rendered, res.Done = out, true
	}
	return res, nil
}

type messagesView struct {
	listView[store.Message]
	Channel, Status, Recipient string
	Channels, Statuses         []string
	Filtered                   bool
}

// messages is the message log, newest first, by channel, filtered by
// status and recipient.
func (s *Server) messages(w http.ResponseWriter, r *http.Request, sess *session) error {
	qv := r.URL.Query()
	v := messagesView{Channel: qv.Get("channel"), Status: qv.Get("status"), Recipient: strings.TrimSpace(qv.Get("recipient")),
		Channels: channels, Statuses: messageStatuses}
	cur := qv.Get("cursor")
	switch {
	case cur != "" && !messageID.MatchString(cur):
		return errCursor
	case v.Channel != "" && !slices.Contains(channels, v.Channel):
		return badRequest("channel must be email, inbox, page or webhook.")
	case v.Status != "" && !slices.Contains(messageStatuses, v.Status):
		return badRequest("status must be one of %s.", strings.Join(messageStatuses, ", "))
	}
	v.Filtered = v.Status != "" || v.Recipient != ""
	ms, err := s.cfg.Store.ListMessages(r.Context(), sess.TenantID, store.MessageQuery{Page: store.Page{Limit: pageSize + 1, Cursor: cur},
		RecipientID: v.Recipient, Channel: v.Channel, Status: v.Status})
	if err != nil {
		return err
	}
	v.Rows, v.Next = nextPage(r, ms, func(m store.Message) string { return m.ID })
	v.Query = qv
	return s.page(w, r, sess, "content_messages", view{Title: "Messages", Nav: "content", Data: v})
}

type recipientsView struct {
	listView[store.Recipient]
}

// recipients lists the tenant's recipients, each with a link to the inbox
// as they see it.
func (s *Server) recipients(w http.ResponseWriter, r *http.Request, sess *session) error {
	cur := r.URL.Query().Get("cursor")
	if len(cur) > 200 {
		return errCursor
	}
	rs, err := s.cfg.Store.ListRecipients(r.Context(), sess.TenantID, store.Page{Limit: pageSize + 1, Cursor: cur})
	if err != nil {
		return err
	}
	v := recipientsView{}
	v.Rows, v.Next = nextPage(r, rs, func(rc store.Recipient) string { return rc.ID })
	v.Query = r.URL.Query()
	return s.page(w, r, sess, "content_recipients", view{Title: "Recipients", Nav: "content", Data: v})
}

type inboxView struct {
	listView[store.Message]
	Recipient store.Recipient
	Archived  bool
	Unread    int
}

// recipientInbox shows a recipient's inbox as their app gets it from GET
// /inbox, read-only: newest first, the archived ones apart.
func (s *Server) recipientInbox(w http.ResponseWriter, r *http.Request, sess *session) error {
	qv := r.URL.Query()
	id := r.PathValue("id")
	cur := qv.Get("cursor")
	if cur != "" && (!messageID.MatchString(cur) || !strings.HasSuffix(cur, "_inbox")) {
		return errCursor
	}
	rc, err := s.cfg.Store.GetRecipient(r.Context(), sess.TenantID, id)
	if err != nil {
		return notFound(err, "recipient", id)
	}
	v := inboxView{Recipient: rc, Archived: qv.Get("archived") == "true"}
	if v.Unread, err = s.cfg.Store.CountUnread(r.Context(), sess.TenantID, id); err != nil {
		return err
	}
	ms, err := s.cfg.Inboxes.Inbox(r.Context(), sess.TenantID, store.MessageQuery{Page: store.Page{Limit: pageSize + 1, Cursor: cur},
		RecipientID: id, Archived: v.Archived})
	if err != nil {
		return err
	}
	v.Rows, v.Next = nextPage(r, ms, func(m store.Message) string { return m.ID })
	v.Query = qv
	return s.page(w, r, sess, "content_inbox", view{Title: "Inbox of " + id, Nav: "content", Data: v})
}
