package render

import (
	"context"
	"errors"
	"fmt"
	htemplate "html/template"
	"runtime/debug"
	"strings"
	"sync"
	ttemplate "text/template"
	"time"
)

type partKind int

const (
	kindSubject partKind = iota
	kindText
	kindHTML
)

// part is one compiled source. Its templates are never executed: each
// render takes a clone from the pool, whose functions are bound to the
// clone's own state (locale, time zone, deadline), and gives it back when
// done. html/template escapes a clone once, on its first execution.
type part struct {
	name  string // "subject", "locales.fr.html", for errors
	kind  partKind
	html  bool
	max   int
	textT *ttemplate.Template
	htmlT *htemplate.Template
	pool  sync.Pool // *instance
}

// instance is a clone of a part's template with its state.
type instance struct {
	st   *state
	text *ttemplate.Template
	html *htemplate.Template
}

func (p *part) clone() (*instance, error) {
	st := &state{max: p.max, maxStr: size(p.max)}
	in := &instance{st: st}
	if p.html {
		c, err := p.htmlT.Clone()
		if err != nil {
			return nil, err
		}
		in.html = c.Funcs(funcs(st, true))
	} else {
		c, err := p.textT.Clone()
		if err != nil {
			return nil, err
		}
		in.text = c.Funcs(funcs(st, false))
	}
	return in, nil
}

func (p *part) get() (*instance, error) {
	if in, ok := p.pool.Get().(*instance); ok {
		return in, nil
	}
	return p.clone()
}

// exec renders the part into a string of at most p.max bytes.
func (p *part) exec(done <-chan struct{}, tz *time.Location, loc *locale, tag string, vars map[string]any) (string, error) {
	in, err := p.get()
	if err != nil {
		return "", fmt.Errorf("%s: %w", p.name, err)
	}
	*in.st = state{done: done, tz: tz, loc: loc, tag: tag, max: p.max, maxStr: in.st.maxStr}
	w := &limitedWriter{max: p.max}
	if in.html != nil {
		err = in.html.Execute(w, vars)
	} else {
		err = in.text.Execute(w, vars)
	}
	*in.st = state{max: p.max, maxStr: in.st.maxStr} // keep no references in the pool
	p.pool.Put(in)
	if errors.Is(err, errStopped) {
		return "", errStopped
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", p.name, err)
	}
	s := w.b.String()
	if p.kind == kindSubject {
		s = strings.TrimSpace(lineBreaks.Replace(s))
	}
	return s, nil
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// limitedWriter fails the write that would take it past max bytes, which
// ends the execution.
type limitedWriter struct {
	b   strings.Builder
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, fmt.Errorf("%w than %s", ErrTooLarge, size(w.max))
	}
	return w.b.Write(p)
}

// Render renders the template for a recipient: the parts of their
// locale (exact tag, then its language, then the template's default
// locale, then the base parts; a part a locale does not override is the
// base one), with dates in tz (UTC when nil) and numbers written the way
// of the rendered locale. vars is the dot of every part.
//
// Any error leaves Rendered empty: never a partial message. A render is
// bounded in time (WithTimeout) and each part in size (WithMaxOutput).
// It runs in a goroutine of its own; past the deadline Render returns
// "template took longer than 1s" at once, and the goroutine stops in the
// background at the template's next loop iteration or template call.
// vars must not change until then; they are only read.
func (t *Template) Render(ctx context.Context, locale string, tz *time.Location, vars map[string]any) (Rendered, error) {
	if err := ctx.Err(); err != nil {
		return Rendered{}, fmt.Errorf("render: %w", err)
	}
	if tz == nil {
		tz = time.UTC
	}
	v := t.variant(locale)
	runCtx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	type result struct {
		out Rendered
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("render: panic: %v\n%s", p, debug.Stack())}
			}
			done <- r
		}()
		r.out, r.err = v.exec(runCtx.Done(), tz, vars)
	}()
	select {
	case r := <-done:
		if !errors.Is(r.err, errStopped) {
			if r.err != nil {
				return Rendered{}, r.err
			}
			return r.out, nil
		}
	case <-runCtx.Done():
	}
	if err := ctx.Err(); err != nil {
		return Rendered{}, fmt.Errorf("render: %w", err)
	}
	return Rendered{}, fmt.Errorf("%w than %s", ErrTimeout, t.timeout)
}

func (v *variant) exec(done <-chan struct{}, tz *time.Location, vars map[string]any) (Rendered, error) {
	out := Rendered{Locale: v.locale}
	loc := localeFor(v.locale)
	for _, p := range []*part{v.subject, v.text, v.html} {
		if p == nil {
			continue
		}
		s, err := p.exec(done, tz, loc, v.locale, vars)
		if err != nil {
			return Rendered{}, err
		}
		switch p.kind {
		case kindSubject:
			out.Subject = s
		case kindText:
			out.Text = s
		case kindHTML:
			out.HTML = s
		}
	}
	return out, nil
}

// variant finds the parts for a locale tag: the tag, then shorter tags
// ("zh-Hant-TW", "zh-Hant", "zh"), then the same for the default locale,
// then the base parts.
func (t *Template) variant(tag string) *variant {
	for _, tag := range []string{tag, t.defaultLocale} {
		key := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
		for key != "" {
			if v, ok := t.locales[key]; ok {
				return v
			}
			i := strings.LastIndexByte(key, '-')
			if i < 0 {
				break
			}
			key = key[:i]
		}
	}
	return t.base
}
