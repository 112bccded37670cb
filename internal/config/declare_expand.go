package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/hookline/hookline/wire"
)

// refPattern matches a ${NAME} reference, or "$${", the escape that
// stands for a literal "${".
var refPattern = regexp.MustCompile(`\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandDeclaration replaces each ${NAME} in every string value of d
// (including list items and map values, but not event type schemas) with
// the value lookup gives NAME, and "$${" with "${". Anything else,
// including a lone "$", stays as written. A NAME that lookup does not know
// is a *FileError at the line of the value; a set but empty one expands to
// "".
func expandDeclaration(path string, raw []byte, d *wire.Declaration, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	x := expander{lookup: lookup, unset: func(at yamlPath, name string) error {
		line, _ := locatePath(raw, at, 1)
		return NewFileError(path, raw, line, fmt.Sprintf("%s: ${%s} is not set", at.display(), name))
	}}
	return x.value(reflect.ValueOf(d).Elem(), nil)
}

type expander struct {
	lookup func(string) (string, bool)
	// unset is the error for a reference to an unknown variable.
	unset func(at yamlPath, name string) error
}

// value expands the strings in v, found at path at of the file.
func (x expander) value(v reflect.Value, at yamlPath) error {
	switch v.Kind() {
	case reflect.String:
		out, err := x.str(v.String(), at)
		if err != nil {
			return err
		}
		v.SetString(out)
	case reflect.Pointer:
		if !v.IsNil() {
			return x.value(v.Elem(), at)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			key, inline := fieldKey(f)
			if !f.IsExported() || key == "-" {
				continue
			}
			next := at
			if !inline {
				next = at.key(key)
			}
			if err := x.value(v.Field(i), next); err != nil {
				return err
			}
		}
	case reflect.Slice:
		// Byte slices are JSON documents (event type schemas), not text.
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := range v.Len() {
			if err := x.value(v.Index(i), at.index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			return nil
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			out, err := x.str(v.MapIndex(k).String(), at.key(k.String()))
			if err != nil {
				return err
			}
			v.SetMapIndex(k, reflect.ValueOf(out).Convert(v.Type().Elem()))
		}
	}
	return nil
}

// str expands the references of one string found at at.
func (x expander) str(s string, at yamlPath) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var missing string
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$${" {
			return "${"
		}
		name := m[2 : len(m)-1]
		v, ok := x.lookup(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", x.unset(at, missing)
	}
	return out, nil
}

// fieldKey returns the YAML key of a struct field the way goccy/go-yaml
// reads it (the yaml tag, else the json tag, else the lowercased name),
// and whether the field is inlined into its parent.
func fieldKey(f reflect.StructField) (key string, inline bool) {
	tag := f.Tag.Get("yaml")
	if tag == "" {
		tag = f.Tag.Get("json")
	}
	key, opts, _ := strings.Cut(tag, ",")
	inline = slices.Contains(strings.Split(opts, ","), "inline")
	if key == "" {
		key = strings.ToLower(f.Name)
	}
	return key, inline
}
