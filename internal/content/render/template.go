package render

import (
	"cmp"
	"errors"
	"fmt"
	htemplate "html/template"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	ttemplate "text/template"
	"text/template/parse"
	"time"
	_ "time/tzdata" // recipients' time zones on machines without zoneinfo
)

// Limits and defaults.
const (
	// MaxSource is the largest source of one part (subject, text, html).
	MaxSource = 64 << 10
	// MaxOutput is the largest rendered part.
	MaxOutput = 256 << 10
	// DefaultTimeout bounds one render.
	DefaultTimeout = time.Second
	// DefaultLocale is a spec's default locale when it names none.
	DefaultLocale = "en"
)

var (
	// ErrTimeout is wrapped by the error of a render that took longer
	// than its limit: "template took longer than 1s".
	ErrTimeout = errors.New("template took longer")
	// ErrTooLarge is wrapped by the error of a render whose output is
	// over the limit: "html: output is larger than 256 KiB".
	ErrTooLarge = errors.New("output is larger")
)

// Spec is a template as users write it.
type Spec struct {
	Name string `json:"name"`
	// Subject and Text are text/template; Subject is rendered on one
	// line (line breaks become spaces) and trimmed.
	Subject string `json:"subject"`
	Text    string `json:"text,omitempty"`
	// HTML is html/template: values are escaped for their context.
	HTML string `json:"html,omitempty"`
	// Locales override parts by locale ("fr", "fr-CA"); a part a locale
	// leaves empty is the base one.
	Locales map[string]Localized `json:"locales,omitempty"`
	// DefaultLocale is the locale of the base parts, and the one tried
	// when the recipient's has no override ("en" when empty).
	DefaultLocale string `json:"default_locale,omitempty"`
	// Strict makes a missing key an error naming it, instead of empty
	// text.
	Strict bool `json:"strict,omitempty"`
}

// Localized overrides the parts of a Spec for one locale.
type Localized struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// Rendered is a template rendered for one recipient.
type Rendered struct {
	// Locale is the locale whose parts were rendered: the recipient's,
	// its language, or the template's default.
	Locale              string
	Subject, Text, HTML string
}

// Option changes a limit of Compile.
type Option func(*options)

type options struct {
	timeout   time.Duration
	maxOutput int
}

// WithTimeout sets how long one Render may take (DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithMaxOutput sets the largest rendered part in bytes (MaxOutput).
func WithMaxOutput(n int) Option { return func(o *options) { o.maxOutput = n } }

// Template is a compiled Spec, safe for concurrent Renders.
type Template struct {
	name          string
	defaultLocale string
	base          *variant
	locales       map[string]*variant // by lowercase tag
	timeout       time.Duration
	maxOutput     int
}

// variant is the parts rendered for one locale.
type variant struct {
	locale              string
	subject, text, html *part // text or html may be nil
}

var localeTag = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)

// Compile parses every part of every locale. Errors name the part:
// "locales.fr.html: template: welcome:3: unexpected EOF".
func Compile(s Spec, opts ...Option) (*Template, error) {
	o := options{timeout: DefaultTimeout, maxOutput: MaxOutput}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 || o.maxOutput <= 0 {
		return nil, errors.New("template limits must be positive")
	}
	t := &Template{
		name:          cmp.Or(s.Name, "template"),
		defaultLocale: cmp.Or(s.DefaultLocale, DefaultLocale),
		locales:       map[string]*variant{},
		timeout:       o.timeout,
		maxOutput:     o.maxOutput,
	}
	if !localeTag.MatchString(t.defaultLocale) {
		return nil, fmt.Errorf("default_locale: %q is not a locale tag", t.defaultLocale)
	}
	if strings.TrimSpace(s.Subject) == "" {
		return nil, errors.New("subject: a template needs a subject")
	}
	if strings.TrimSpace(s.Text) == "" && strings.TrimSpace(s.HTML) == "" {
		return nil, errors.New("text, html: a template needs a text or an html part, or both")
	}
	c := compiler{t: t, strict: s.Strict}
	var err error
	t.base = &variant{locale: t.defaultLocale}
	if t.base.subject, err = c.part("subject", s.Subject, false); err != nil {
		return nil, err
	}
	if t.base.text, err = c.part("text", s.Text, false); err != nil {
		return nil, err
	}
	if t.base.html, err = c.part("html", s.HTML, true); err != nil {
		return nil, err
	}
	for _, tag := range slices.Sorted(maps.Keys(s.Locales)) {
		l := s.Locales[tag]
		if !localeTag.MatchString(tag) {
			return nil, fmt.Errorf("locales: %q is not a locale tag", tag)
		}
		key := strings.ToLower(strings.ReplaceAll(tag, "_", "-"))
		if prev, ok := t.locales[key]; ok {
			return nil, fmt.Errorf("locales: %q and %q are the same locale", prev.locale, tag)
		}
		v := &variant{locale: tag, subject: t.base.subject, text: t.base.text, html: t.base.html}
		prefix := "locales." + tag + "."
		if l.Subject != "" {
			if v.subject, err = c.part(prefix+"subject", l.Subject, false); err != nil {
				return nil, err
			}
		}
		if l.Text != "" {
			if v.text, err = c.part(prefix+"text", l.Text, false); err != nil {
				return nil, err
			}
		}
		if l.HTML != "" {
			if v.html, err = c.part(prefix+"html", l.HTML, true); err != nil {
				return nil, err
			}
		}
		t.locales[key] = v
	}
	return t, nil
}

type compiler struct {
	t      *Template
	strict bool
}

// treesOf maps the templates one parse defined, html/template's or
// text/template's, to their parse trees by name.
func treesOf[T interface{ Name() string }](ts []T, tree func(T) *parse.Tree) map[string]*parse.Tree {
	trees := make(map[string]*parse.Tree, len(ts))
	for _, x := range ts {
		trees[x.Name()] = tree(x)
	}
	return trees
}

// part parses one source; nil for an empty one.
func (c compiler) part(name, src string, html bool) (*part, error) {
	if src == "" {
		return nil, nil
	}
	if len(src) > MaxSource {
		return nil, fmt.Errorf("%s: source is larger than %s", name, size(MaxSource))
	}
	p := &part{name: name, html: html, max: c.t.maxOutput}
	switch {
	case html:
		p.kind = kindHTML
	case name == "subject" || strings.HasSuffix(name, ".subject"):
		p.kind = kindSubject
	default:
		p.kind = kindText
	}
	missing := "missingkey=default"
	if c.strict {
		missing = "missingkey=error"
	}
	fm := funcs(&state{}, html)
	var trees map[string]*parse.Tree
	var err error
	if html {
		if p.htmlT, err = htemplate.New(c.t.name).Option(missing).Funcs(fm).Parse(src); err == nil {
			trees = treesOf(p.htmlT.Templates(), func(x *htemplate.Template) *parse.Tree { return x.Tree })
		}
	} else {
		if p.textT, err = ttemplate.New(c.t.name).Option(missing).Funcs(fm).Parse(src); err == nil {
			trees = treesOf(p.textT.Templates(), func(x *ttemplate.Template) *parse.Tree { return x.Tree })
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkRecursion(trees); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, tr := range trees {
		instrument(tr, !html)
	}
	if html {
		// html/template escapes on first execution; do it now so that
		// its errors ("… in an ambiguous context") are compile errors.
		// The state is stopped: the first node of the template (a tick)
		// ends the execution before anything runs.
		in, err := p.clone()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		stopped := make(chan struct{})
		close(stopped)
		in.st.done = stopped
		err = in.html.Execute(io.Discard, nil)
		var escErr *htemplate.Error
		if errors.As(err, &escErr) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in.st.done = nil
		p.pool.Put(in) // escaped: the first render need not
	}
	return p, nil
}

// size writes a byte count for errors.
func size(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}
