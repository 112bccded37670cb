// Package content turns events into content for people: notify rules pick
// a recipient, enrich the event with records, render a template in the
// recipient's locale and time zone, and deliver it by email, in-app inbox
// (live), hosted page or webhook — now, at a set time, after the
// recipient's quiet hours, or in a digest. Tracked links and opens become
// events again.
package content

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/field"
)

// Channels.
const (
	ChannelEmail   = "email"
	ChannelInbox   = "inbox"
	ChannelPage    = "page"
	ChannelWebhook = "webhook"
)

var channels = []string{ChannelEmail, ChannelInbox, ChannelPage, ChannelWebhook}

// Name is the pattern of rule, template and category names.
var Name = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

const (
	defaultPageTTL = 7 * 24 * time.Hour
	maxPageTTL     = 365 * 24 * time.Hour
	maxLookups     = 10
)

// fieldErr is a mistake in one field of a rule (a *field.Error).
func fieldErr(at, format string, args ...any) error {
	return field.Errorf(at, format, args...)
}

var (
	ruleVars   = []string{"event", "data", "vars"}
	lookupVars = []string{"event", "data", "recipient", "vars"}
	dirVars    = []string{"record", "key"}
)

// Rule is a compiled notify rule: what notifying runs with, compiled
// from a RuleDef.
type Rule struct {
	// Name is the rule's name ("step:" and the name for a workflow's
	// notify step).
	Name     string
	events   []string
	template string
	channels []string
	category string
	// recipientSrc is the recipient expression as written, for messages.
	recipientSrc string
	cond         *expr.Filter
	recipient    *expr.Program
	sendAt       *expr.Program
	pageTTL      time.Duration
	track        bool
	lookups      []lookup
	dir          *directory
}

type lookup struct {
	name, collection string
	key              *expr.Program
	url              *expr.Template
	headers          map[string]*expr.Template
}

type directory struct {
	collection              string
	email, name, locale, tz *expr.Program
}

// lookupName is the pattern of lookup names, usable as records.NAME.
var lookupName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CompileRule checks a rule. Events may be empty for a workflow's notify
// step (needEvents false). Errors are *field.Error naming the field as
// written in the definition.
func CompileRule(in RuleDef, needEvents bool) (*Rule, error) {
	r := &Rule{Name: in.Name, events: in.Events, template: in.Template, channels: in.Channels, category: in.Category,
		recipientSrc: in.Recipient, pageTTL: defaultPageTTL, track: in.Track == nil || *in.Track}
	if needEvents && !Name.MatchString(in.Name) {
		return nil, fieldErr("name", "must be 1-63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
	if needEvents && len(in.Events) == 0 {
		return nil, fieldErr("events", `is required: the event types that notify, e.g. ["order.shipped"]`)
	}
	for i, p := range in.Events {
		if err := event.ValidatePattern(p); err != nil {
			return nil, field.Wrap(fmt.Sprintf("events[%d]", i), err)
		}
	}
	var err error
	if in.If != "" {
		if r.cond, err = expr.CompileFilter(in.If); err != nil {
			return nil, field.Wrap("if", err)
		}
	}
	if in.Recipient == "" {
		return nil, fieldErr("recipient", `is required: an expression giving the recipient id, e.g. "data.customer_id"`)
	}
	if r.recipient, err = expr.Compile(in.Recipient, ruleVars...); err != nil {
		return nil, field.Wrap("recipient", err)
	}
	if in.Template == "" || !Name.MatchString(in.Template) {
		return nil, fieldErr("template", "is required: the name of a template")
	}
	if in.DigestTemplate != "" && !Name.MatchString(in.DigestTemplate) {
		return nil, fieldErr("digest_template", "%q is not a template name", in.DigestTemplate)
	}
	if len(in.Channels) == 0 {
		return nil, fieldErr("channels", "at least one of email, inbox, page, webhook")
	}
	for i, c := range in.Channels {
		if !slices.Contains(channels, c) {
			return nil, fieldErr(fmt.Sprintf("channels[%d]", i), "%q is not one of email, inbox, page, webhook", c)
		}
		if slices.Index(in.Channels, c) != i {
			return nil, fieldErr(fmt.Sprintf("channels[%d]", i), "%q is listed twice", c)
		}
	}
	if in.Category != "" && !Name.MatchString(in.Category) {
		return nil, fieldErr("category", "%q is not a category name", in.Category)
	}
	if in.SendAt != "" {
		if r.sendAt, err = expr.Compile(in.SendAt, ruleVars...); err != nil {
			return nil, field.Wrap("send_at", err)
		}
	}
	if in.PageTTL != "" {
		if r.pageTTL, err = time.ParseDuration(in.PageTTL); err != nil || r.pageTTL <= 0 || r.pageTTL > maxPageTTL {
			return nil, fieldErr("page_ttl", "must be a duration up to %s", maxPageTTL)
		}
	}
	if in.WebhookType != "" {
		if err := event.ValidateType(in.WebhookType); err != nil {
			return nil, field.Wrap("webhook_type", err)
		}
	}
	if len(in.Lookups) > maxLookups {
		return nil, fieldErr("lookups", "at most %d", maxLookups)
	}
	for i, l := range in.Lookups {
		at := fmt.Sprintf("lookups[%d]", i)
		if !lookupName.MatchString(l.Name) {
			return nil, fieldErr(at+".name", "%q is not a name usable as records.NAME", l.Name)
		}
		c := lookup{name: l.Name, collection: l.Collection, headers: map[string]*expr.Template{}}
		switch {
		case l.Collection != "" && l.URL == "":
			if l.Key == "" {
				return nil, fieldErr(at+".key", "is required with collection")
			}
			if c.key, err = expr.Compile(l.Key, lookupVars...); err != nil {
				return nil, field.Wrap(at+".key", err)
			}
		case l.URL != "" && l.Collection == "":
			if c.url, err = expr.CompileTemplate(l.URL, lookupVars...); err != nil {
				return nil, field.Wrap(at+".url", err)
			}
			for h, v := range l.Headers {
				if c.headers[h], err = expr.CompileTemplate(v, lookupVars...); err != nil {
					return nil, field.Wrap(at+".headers."+h, err)
				}
			}
		default:
			return nil, fieldErr(at, "give collection (with key) or url")
		}
		r.lookups = append(r.lookups, c)
	}
	if d := in.Directory; d != nil {
		r.dir = &directory{collection: d.Collection}
		if d.Collection == "" || d.Email == "" {
			return nil, fieldErr("directory", "needs collection and email")
		}
		for _, f := range []struct {
			name, src string
			dst       **expr.Program
		}{{"email", d.Email, &r.dir.email}, {"name", d.Name, &r.dir.name}, {"locale", d.Locale, &r.dir.locale}, {"time_zone", d.TimeZone, &r.dir.tz}} {
			if f.src == "" {
				continue
			}
			if *f.dst, err = expr.Compile(f.src, dirVars...); err != nil {
				return nil, field.Wrap("directory."+f.name, err)
			}
		}
	}
	return r, nil
}
