package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxTemplateOutput bounds what one template renders.
const MaxTemplateOutput = 256 << 10

// Template is a string with {{ expression }} parts, such as
// "https://shop.example/customers/{{ key }}". Text outside the braces is
// kept as is.
type Template struct {
	src   string
	parts []templatePart
}

type templatePart struct {
	text string
	prog *Program // nil for text
}

// CompileTemplate compiles every {{ }} part of src as an expression over
// vars. Errors name the part.
func CompileTemplate(src string, vars ...string) (*Template, error) {
	if len(src) > MaxTemplateOutput {
		return nil, fmt.Errorf("template is longer than %d bytes", MaxTemplateOutput)
	}
	t := &Template{src: src}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, templatePart{text: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, templatePart{text: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("template: %q has no closing }}", rest[i:min(len(rest), i+40)])
		}
		code := strings.TrimSpace(rest[i+2 : i+2+j])
		if code == "" {
			return nil, errors.New("template: empty {{ }}")
		}
		p, err := Compile(code, vars...)
		if err != nil {
			return nil, fmt.Errorf("template: {{ %s }}: %w", code, err)
		}
		t.parts = append(t.parts, templatePart{prog: p})
		rest = rest[i+2+j+2:]
	}
	return t, nil
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// Static reports whether the template has no {{ }} parts.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.prog != nil {
			return false
		}
	}
	return true
}

// Render evaluates the template over vars. Strings are inserted as they
// are, numbers in plain notation, nil as nothing, and other values as JSON.
func (t *Template) Render(vars map[string]any) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.prog == nil {
			b.WriteString(p.text)
		} else {
			v, err := p.prog.Eval(vars)
			if err != nil {
				return "", fmt.Errorf("template: {{ %s }}: %w", p.prog.src, err)
			}
			s, err := Text(v)
			if err != nil {
				return "", fmt.Errorf("template: {{ %s }}: %w", p.prog.src, err)
			}
			b.WriteString(s)
		}
		if b.Len() > MaxTemplateOutput {
			return "", fmt.Errorf("template: output is larger than %d bytes", MaxTemplateOutput)
		}
	}
	return b.String(), nil
}

// Text formats a value for a template or a key: strings as they are,
// numbers in plain notation (integers without exponent), nil as "", and
// anything else as JSON.
func Text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("value cannot be written as text: %w", err)
	}
	return string(b), nil
}
