package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/hookline/hookline/internal/yamlguard"
	"github.com/hookline/hookline/wire"
)

// FileError is a mistake at a line of a config file: a YAML syntax error,
// an unknown key, a value of the wrong type, an unset ${NAME}, or a
// declaration the server refused, located with Locate.
type FileError struct {
	Path string
	// Line is 1-based.
	Line int
	// Column is 1-based; 0 when only the line is known.
	Column int
	Msg    string
	// Snippet shows the file up to Line, which is marked with ">", for
	// people; it may be empty.
	Snippet string
}

// Error returns "path:line[:column]: message" on one line.
func (e *FileError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// NewFileError returns a *FileError at line of path, whose contents are
// raw, with a snippet of the lines up to it.
func NewFileError(path string, raw []byte, line int, msg string) *FileError {
	return &FileError{Path: path, Line: line, Msg: msg, Snippet: snippet(raw, line, 0)}
}

// LoadDeclaration reads the resources declared in the YAML file at path,
// with ${NAME} references expanded through lookup, and returns them with
// the file's raw bytes (for Locate). The file may be a whole serve config:
// its server keys are checked like Load does but otherwise ignored. A
// mistake in the file is a *FileError.
func LoadDeclaration(path string, lookup func(string) (string, bool)) (wire.Declaration, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return wire.Declaration{}, nil, fmt.Errorf("read declaration: %w", err)
	}
	var cfg Config
	if err := decodeFile(path, data, &cfg, lookup); err != nil {
		return wire.Declaration{}, data, err
	}
	return cfg.Declaration, data, nil
}

// DeclarationKeys returns the top-level keys under which a file declares
// resources (event_types, endpoints, …), in the order of the fields of
// wire.Declaration. They are read from its field tags — the names the
// decoder accepts — so that help texts built from them cannot drift.
func DeclarationKeys() []string {
	t := reflect.TypeFor[wire.Declaration]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if key := yamlKey(t.Field(i)); key != "" {
			keys = append(keys, key)
		}
	}
	return keys
}

// yamlKey returns the key a struct field is read from: its yaml tag, else
// its json tag (go-yaml falls back to it), else the lower-cased field
// name; "" for a field that is skipped or inlined.
func yamlKey(f reflect.StructField) string {
	tag, ok := f.Tag.Lookup("yaml")
	if !ok {
		tag = f.Tag.Get("json")
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" || f.Anonymous || strings.Contains(","+opts+",", ",inline,") {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// decodeFile decodes data, the contents of the file at path, into cfg and
// expands the ${NAME} references of its declaration. Unknown keys are
// errors; event type schemas are read as JSON.
func decodeFile(path string, data []byte, cfg *Config, lookup func(string) (string, bool)) error {
	if err := DecodeYAML(path, data, cfg); err != nil {
		return err
	}
	return expandDeclaration(path, data, &cfg.Declaration, lookup)
}

// MaxFileBytes bounds a YAML file read by the server or the CLI, and what
// its aliases may expand to; MaxFileTokens bounds its tokens (keys,
// scalars, brackets, entries).
const (
	MaxFileBytes  = 16 << 20
	MaxFileTokens = 1 << 20
)

// DecodeYAML decodes data, the contents of the file at path, into v
// strictly: unknown keys are errors, and types with an UnmarshalJSON
// method read their value as JSON. The document's nesting and the
// expansion of its aliases are bounded before it is parsed (yamlguard). A
// mistake in the file is a *FileError.
func DecodeYAML(path string, data []byte, v any) error {
	err := yamlguard.Unmarshal(data, v, yamlguard.Limits{MaxBytes: MaxFileBytes, MaxTokens: MaxFileTokens})
	if err == nil {
		return nil
	}
	var ge *yamlguard.Error
	if errors.As(err, &ge) {
		line := max(ge.Line, 1)
		return &FileError{Path: path, Line: line, Column: ge.Column, Msg: ge.Msg, Snippet: snippet(data, line, ge.Column)}
	}
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pos := ye.GetToken().Position
	return &FileError{Path: path, Line: pos.Line, Column: pos.Column, Msg: yamlMessage(ye), Snippet: snippet(data, pos.Line, pos.Column)}
}

// yamlMessage words a decoding error for people: type errors name the
// expected kind of value instead of Go types.
func yamlMessage(err yaml.Error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && te.DstType != nil && te.SrcType != nil {
		return fmt.Sprintf("expected %s, got %s", kindName(te.DstType), kindName(te.SrcType))
	}
	return err.GetMessage()
}

// kindName names the YAML value a Go type is read from.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// snippet returns up to three lines of raw ending at line (1-based), the
// last marked with ">", and a caret under column when it is known.
func snippet(raw []byte, line, column int) string {
	lines := strings.Split(string(raw), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	var b strings.Builder
	for n := max(1, line-2); n <= line; n++ {
		mark := " "
		if n == line {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s %3d | %s\n", mark, n, strings.TrimRight(lines[n-1], "\r"))
	}
	if column > 0 {
		fmt.Fprintf(&b, "%s^\n", strings.Repeat(" ", len("  123 | ")+column-1))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
