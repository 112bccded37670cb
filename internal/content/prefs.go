package content

import (
	"context"
	"fmt"
	"slices"

	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/content/schedule"
	"github.com/hookline/hookline/internal/field"
)

// ValidatePrefs checks a recipient's preferences; errors are *field.Error
// relative to prefs.
func ValidatePrefs(p Prefs) error {
	for ch := range p.Channels {
		if !slices.Contains(channels, ch) {
			return fieldErr("channels."+ch, "%q is not one of email, inbox, page, webhook", ch)
		}
	}
	for cat, chs := range p.Categories {
		for ch := range chs {
			if !slices.Contains(channels, ch) {
				return fieldErr("categories."+cat+"."+ch, "%q is not one of email, inbox, page, webhook", ch)
			}
		}
	}
	if q := p.QuietHours; q != nil {
		if err := q.quiet().Validate(); err != nil {
			return field.Wrap("quiet_hours", err)
		}
	}
	for cat, w := range p.Digest {
		if err := schedule.ValidateWindow(w); err != nil {
			return field.Wrap("digest."+cat, err)
		}
	}
	return nil
}

// Preview renders t for a sample recipient and event.
func (s *Service) Preview(ctx context.Context, t *render.Template, rcpt Recipient, ev map[string]any, records map[string]any) (render.Rendered, error) {
	vars := map[string]any{"event": ev, "data": ev["data"], "recipient": recipientValue(rcpt), "records": records,
		"message": map[string]any{"id": "msg_preview", "channel": "preview"}}
	out, err := t.Render(ctx, rcpt.Locale, location(rcpt.TimeZone), vars)
	if err != nil {
		return render.Rendered{}, fmt.Errorf("%w", err)
	}
	return out, nil
}
