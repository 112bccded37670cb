package apply

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

const (
	// maxRecipientData bounds a recipient's data, as JSON.
	maxRecipientData = 64 << 10
	// MaxRecipientID bounds the length of a recipient id, in bytes.
	MaxRecipientID = 200
)

// Recipient validates a recipient and returns it as stored. A mistake is
// a *field.Error.
func Recipient(tenantID string, in wire.Recipient, now time.Time) (store.Recipient, error) {
	if in.ID == "" || len(in.ID) > MaxRecipientID {
		return store.Recipient{}, field.Errorf("id", "is required, at most %d characters", MaxRecipientID)
	}
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil {
			return store.Recipient{}, field.Errorf("time_zone", "%q is not an IANA time zone such as Europe/Paris", in.TimeZone)
		}
	}
	p := prefs(in.Prefs)
	if err := content.ValidatePrefs(p); err != nil {
		return store.Recipient{}, field.Wrap("prefs", err)
	}
	stored, err := json.Marshal(p)
	if err != nil {
		return store.Recipient{}, err
	}
	var data []byte
	if in.Data != nil {
		if data, err = json.Marshal(in.Data); err != nil {
			return store.Recipient{}, field.Errorf("data", "%v", err)
		}
		if len(data) > maxRecipientData {
			return store.Recipient{}, field.Errorf("data", "is larger than %d bytes", maxRecipientData)
		}
	}
	return store.Recipient{TenantID: tenantID, ID: in.ID, Email: in.Email, Name: in.Name, Locale: in.Locale, TimeZone: in.TimeZone,
		Prefs: stored, Data: data, CreatedAt: now, UpdatedAt: now}, nil
}

// CheckTemplate validates a template spec: its name, and that it
// compiles. A mistake is a *field.Error.
func CheckTemplate(in wire.TemplateSpec) error {
	_, err := checkTemplate(in)
	return err
}

// checkTemplate is CheckTemplate returning the spec as stored.
func checkTemplate(in wire.TemplateSpec) ([]byte, error) {
	if in.Name == "" || !content.Name.MatchString(in.Name) {
		return nil, field.Errorf("name", "must be 1-63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
	spec := templateSpec(in)
	if _, err := render.Compile(spec); err != nil {
		return nil, field.Errorf("template", "%v", err)
	}
	return json.Marshal(spec)
}

// SaveTemplate checks a template spec and stores it as the next version
// of its template when it differs from the latest; it returns the latest
// version and the action (Created, Updated or Unchanged). Another save of
// the same template at the same moment is a *ConflictError.
func (a *Applier) SaveTemplate(ctx context.Context, tenantID string, in wire.TemplateSpec) (store.Template, string, error) {
	spec, err := checkTemplate(in)
	if err != nil {
		return store.Template{}, "", err
	}
	st := a.cfg.Store
	cur, err := st.GetTemplate(ctx, tenantID, in.Name, 0)
	version, action := 1, Created
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return cur, "", err
	case jsonEqual(cur.Spec, spec):
		return cur, Unchanged, nil
	default:
		version, action = cur.Version+1, Updated
	}
	t := store.Template{TenantID: tenantID, Name: in.Name, Version: version, Spec: spec, CreatedAt: a.now()}
	if err := st.CreateTemplate(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return t, "", conflictf("template %s was saved concurrently; try again", in.Name)
		}
		return t, "", err
	}
	return t, action, nil
}

// NotifyRule validates a notify rule and returns it as stored. A mistake
// is a *field.Error.
func NotifyRule(tenantID string, in wire.NotifyRule, now time.Time) (store.NotifyRule, error) {
	def := RuleDef(in)
	if _, err := content.CompileRule(def, true); err != nil {
		return store.NotifyRule{}, err
	}
	// Whether it runs is the rule's row, not its spec.
	enabled := def.Enabled == nil || *def.Enabled
	def.Enabled = nil
	spec, err := json.Marshal(def)
	if err != nil {
		return store.NotifyRule{}, err
	}
	return store.NotifyRule{TenantID: tenantID, Name: in.Name, Spec: spec, Enabled: enabled, CreatedAt: now, UpdatedAt: now}, nil
}

// KeepRedacted puts back the stored values of lookup headers a client
// sends as redact.Marker (as reads show them), so that read, edit, save
// keeps credentials. A marker with no stored value stays as it is.
func KeepRedacted(in *wire.NotifyRule, cur store.NotifyRule) {
	old, err := content.ParseRuleDef(cur)
	if err != nil {
		return
	}
	for i, l := range in.Lookups {
		for _, ol := range old.Lookups {
			if ol.Name == l.Name {
				in.Lookups[i].Headers, _ = redact.Keep(l.Headers, ol.Headers)
			}
		}
	}
}

// planTemplate compares a declared template with the latest version of
// its name.
func (a *Applier) planTemplate(ctx context.Context, tenantID string, decl wire.TemplateSpec) (step, error) {
	spec, err := checkTemplate(decl)
	if err != nil {
		return step{}, err
	}
	s := step{change: wire.Change{Kind: "template", Name: decl.Name}}
	cur, err := a.cfg.Store.GetTemplate(ctx, tenantID, decl.Name, 0)
	if s.change.Action, err = action(err, jsonEqual(cur.Spec, spec)); err != nil {
		return s, err
	}
	s.write = func(ctx context.Context) error {
		_, _, err := a.SaveTemplate(ctx, tenantID, decl)
		return err
	}
	return s, nil
}

// action is what a plan does to a resource whose stored version was read
// with err: actionOf whether there is one. Other errors of the read are
// returned.
func action(err error, same bool) (string, error) {
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return actionOf(err == nil, same), nil
}

// actionOf is what a plan does to a resource: Created when none is
// stored, Unchanged when the stored one is the same as declared (same),
// else Updated.
func actionOf(stored, same bool) string {
	switch {
	case !stored:
		return Created
	case same:
		return Unchanged
	}
	return Updated
}

// planRecipient compares a declared recipient with the stored one of its
// id. Opt-outs the recipient made (unsubscribe links) outlive applying
// the declaration again, unless it states them.
func (a *Applier) planRecipient(ctx context.Context, tenantID string, decl wire.Recipient, now time.Time) (step, error) {
	rec, err := Recipient(tenantID, decl, now)
	if err != nil {
		return step{}, err
	}
	st := a.cfg.Store
	s := step{change: wire.Change{Kind: "recipient", Name: decl.ID}}
	cur, err := st.GetRecipient(ctx, tenantID, decl.ID)
	if err == nil {
		rec.Prefs = keepOptOuts(cur.Prefs, prefs(decl.Prefs))
	}
	same := cur.Email == rec.Email && cur.Name == rec.Name && cur.Locale == rec.Locale && cur.TimeZone == rec.TimeZone &&
		jsonEqual(cur.Prefs, rec.Prefs) && jsonEqual(cur.Data, rec.Data)
	if s.change.Action, err = action(err, same); err != nil {
		return s, err
	}
	if s.change.Action == Updated {
		rec.CreatedAt = cur.CreatedAt
	}
	s.write = func(ctx context.Context) error { return st.UpsertRecipient(ctx, rec) }
	return s, nil
}

// planNotifyRule compares a declared notify rule with the stored one of
// its name; lookup headers declared as shown (redacted) keep the stored
// values.
func (a *Applier) planNotifyRule(ctx context.Context, tenantID string, decl wire.NotifyRule, now time.Time) (step, error) {
	st := a.cfg.Store
	cur, curErr := st.GetNotifyRule(ctx, tenantID, decl.Name)
	if curErr == nil {
		KeepRedacted(&decl, cur)
	}
	rule, err := NotifyRule(tenantID, decl, now)
	if err != nil {
		return step{}, err
	}
	s := step{change: wire.Change{Kind: "notify_rule", Name: decl.Name}}
	act, err := action(curErr, jsonEqual(cur.Spec, rule.Spec) && cur.Enabled == rule.Enabled)
	if err != nil {
		return s, err
	}
	if act == Updated {
		rule.CreatedAt = cur.CreatedAt
	}
	s.decide(act, func(ctx context.Context) error { return st.CreateNotifyRule(ctx, rule) },
		func(ctx context.Context) error { return st.UpdateNotifyRule(ctx, rule) })
	return s, nil
}

// keepOptOuts is declared prefs with the stored channel and category
// opt-outs the declaration does not mention.
func keepOptOuts(stored []byte, declared content.Prefs) []byte {
	var cur content.Prefs
	_ = json.Unmarshal(stored, &cur)
	for ch, on := range cur.Channels {
		if _, ok := declared.Channels[ch]; !ok && !on {
			if declared.Channels == nil {
				declared.Channels = map[string]bool{}
			}
			declared.Channels[ch] = false
		}
	}
	for cat, chs := range cur.Categories {
		for ch, on := range chs {
			if _, ok := declared.Categories[cat][ch]; !ok && !on {
				if declared.Categories == nil {
					declared.Categories = map[string]map[string]bool{}
				}
				if declared.Categories[cat] == nil {
					declared.Categories[cat] = map[string]bool{}
				}
				declared.Categories[cat][ch] = false
			}
		}
	}
	b, _ := json.Marshal(declared)
	return b
}
