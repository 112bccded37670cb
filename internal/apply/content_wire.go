package apply

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// The content aggregate at the API's edge: notify rules between
// wire.NotifyRule and content.RuleDef, recipients' prefs between
// wire.RecipientPrefs and content.Prefs, templates between
// wire.TemplateSpec and render.Spec, and what the API shows of them.
// Messages are shown by content.Service.MessageOut: the recipients'
// inbox, content's own public routes, shows them the same way.
// Parts of the same shape on both sides are converted with a type
// conversion, so a field added to one side only stops the build here.

// RuleDef is a notify rule as the content package takes it.
func RuleDef(in wire.NotifyRule) content.RuleDef {
	return content.RuleDef{Name: in.Name, Events: in.Events, If: in.If, Recipient: in.Recipient,
		Directory: (*content.DirectoryDef)(in.Directory), Template: in.Template, DigestTemplate: in.DigestTemplate,
		Channels: in.Channels, Category: in.Category,
		Lookups: each(in.Lookups, func(l wire.Lookup) content.LookupDef { return content.LookupDef(l) }),
		SendAt:  in.SendAt, PageTTL: in.PageTTL, WebhookType: in.WebhookType, Track: in.Track, Enabled: in.Enabled}
}

// notifyRule is a rule definition as the API shows it (redact it first).
func notifyRule(d content.RuleDef) wire.NotifyRule {
	return wire.NotifyRule{Name: d.Name, Events: d.Events, If: d.If, Recipient: d.Recipient,
		Directory: (*wire.RecipientDirectory)(d.Directory), Template: d.Template, DigestTemplate: d.DigestTemplate,
		Channels: d.Channels, Category: d.Category,
		Lookups: each(d.Lookups, func(l content.LookupDef) wire.Lookup { return wire.Lookup(l) }),
		SendAt:  d.SendAt, PageTTL: d.PageTTL, WebhookType: d.WebhookType, Track: d.Track, Enabled: d.Enabled}
}

// NotifyRuleOut is a stored notify rule as the API shows it: lookup
// headers by name only.
func NotifyRuleOut(r store.NotifyRule) wire.NotifyRuleOut {
	def, _ := content.ParseRuleDef(r)
	for i := range def.Lookups {
		// Lookup headers carry credentials: names only.
		def.Lookups[i].Headers = redact.Values(def.Lookups[i].Headers)
	}
	enabled := r.Enabled
	def.Enabled = &enabled
	return wire.NotifyRuleOut{NotifyRule: notifyRule(def), CreatedAt: wire.TimeOf(r.CreatedAt), UpdatedAt: wire.TimeOf(r.UpdatedAt)}
}

// prefs are a recipient's prefs as the content package takes them.
func prefs(in wire.RecipientPrefs) content.Prefs {
	return content.Prefs{Channels: in.Channels, Categories: in.Categories, Digest: in.Digest,
		QuietHours: (*content.QuietHours)(in.QuietHours)}
}

// RecipientOf is a recipient as the content package takes it.
func RecipientOf(in wire.Recipient) content.Recipient {
	return content.Recipient{ID: in.ID, Email: in.Email, Name: in.Name, Locale: in.Locale, TimeZone: in.TimeZone,
		Prefs: prefs(in.Prefs), Data: in.Data}
}

// RecipientOut is a stored recipient as the API shows it.
func RecipientOut(sr store.Recipient) wire.Recipient {
	r := content.RecipientOf(sr)
	p := r.Prefs
	return wire.Recipient{ID: r.ID, Email: r.Email, Name: r.Name, Locale: r.Locale, TimeZone: r.TimeZone, Data: r.Data,
		Prefs: wire.RecipientPrefs{Channels: p.Channels, Categories: p.Categories, Digest: p.Digest,
			QuietHours: (*wire.QuietHours)(p.QuietHours)},
		CreatedAt: wire.TimeOf(sr.CreatedAt), UpdatedAt: wire.TimeOf(sr.UpdatedAt)}
}

// templateSpec is a template spec as the renderer takes it, and stores.
func templateSpec(in wire.TemplateSpec) render.Spec {
	return render.Spec{Name: in.Name, Subject: in.Subject, Text: in.Text, HTML: in.HTML,
		Locales:       eachValue(in.Locales, func(l wire.TemplateLocale) render.Localized { return render.Localized(l) }),
		DefaultLocale: in.DefaultLocale, Strict: in.Strict}
}

// TemplateOut is a stored template version as the API shows it.
func TemplateOut(t store.Template) wire.Template {
	var spec render.Spec
	_ = json.Unmarshal(t.Spec, &spec)
	return wire.Template{TemplateSpec: wire.TemplateSpec{Name: spec.Name, Subject: spec.Subject, Text: spec.Text, HTML: spec.HTML,
		Locales:       eachValue(spec.Locales, func(l render.Localized) wire.TemplateLocale { return wire.TemplateLocale(l) }),
		DefaultLocale: spec.DefaultLocale, Strict: spec.Strict},
		Version: t.Version, CreatedAt: wire.TimeOf(t.CreatedAt)}
}

// RenderedOut is a rendered template as the API shows it.
func RenderedOut(r render.Rendered) wire.Rendered {
	return wire.Rendered{Locale: r.Locale, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
}
