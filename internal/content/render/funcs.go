package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	htemplate "html/template"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	ttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Names of the functions the engine inserts into parsed templates (see
// tree.go); they are not for users but harmless if called.
const (
	tickFunc  = "hookline_tick"
	valueFunc = "hookline_value"
)

// errStopped is returned by the tick of a render whose deadline passed.
var errStopped = errors.New("render stopped")

// state is what the functions of one executing template see: the
// recipient's locale and time zone, and whether to stop. A state belongs
// to one pooled clone, used by one render at a time.
type state struct {
	done   <-chan struct{}
	tz     *time.Location
	loc    *locale
	tag    string // the rendered locale, for title casing
	max    int    // bytes a function may return
	maxStr string // max, for errors
}

// funcs returns the helpers bound to st. html selects the html/template
// flavour of json. The same names exist in both flavours.
func funcs(st *state, html bool) map[string]any {
	m := map[string]any{
		"date":     st.date,
		"number":   st.number,
		"currency": st.currency,
		"plural":   st.plural,
		"default":  defaultValue,
		"truncate": st.truncate,
		"upper":    func(v any) (string, error) { return st.limit(strings.ToUpper(toString(v))) },
		"lower":    func(v any) (string, error) { return st.limit(strings.ToLower(toString(v))) },
		"title":    st.title,
		"json":     func(v any) (string, error) { return st.json(v, false) },
		// The builtins that build strings, bounded so that a loop
		// doubling a variable cannot exhaust memory before the output
		// limit is reached.
		"print":    st.print,
		"println":  st.println,
		"printf":   st.printf,
		"html":     func(args ...any) (string, error) { return st.escape(ttemplate.HTMLEscapeString, args) },
		"js":       func(args ...any) (string, error) { return st.escape(ttemplate.JSEscapeString, args) },
		"urlquery": func(args ...any) (string, error) { return st.escape(url.QueryEscape, args) },
		tickFunc:   st.tick,
		valueFunc:  value,
	}
	if html {
		m["json"] = func(v any) (htemplate.JS, error) {
			s, err := st.json(v, true)
			return htemplate.JS(s), err
		}
	}
	return m
}

// tick stops a render past its deadline; the engine calls it at the
// start of every loop iteration and template.
func (st *state) tick() (string, error) {
	select {
	case <-st.done:
		return "", errStopped
	default:
		return "", nil
	}
}

// value renders nil (a missing key, a JSON null) as empty text rather
// than text/template's "<no value>".
func value(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func (st *state) limit(s string) (string, error) {
	if len(s) > st.max {
		return "", fmt.Errorf("%w than %s", ErrTooLarge, st.maxStr)
	}
	return s, nil
}

// date formats a time in the recipient's time zone.
func (st *state) date(layout string, v any) (string, error) {
	t, ok, err := toTime(v, st.tz)
	if !ok {
		return "", err
	}
	t = t.In(st.tz)
	l := st.loc
	switch layout {
	case "short":
		return t.Format(l.shortDate), nil
	case "time":
		return t.Format(l.timeOfDay), nil
	case "datetime":
		return t.Format(l.shortDate) + l.dateTimeSep + t.Format(l.timeOfDay), nil
	case "long":
		return l.long(l.weekdays[t.Weekday()], strconv.Itoa(t.Day()), l.months[t.Month()-1], t.Year()), nil
	}
	if len(layout) > 256 {
		return "", errors.New("layout is longer than 256 bytes")
	}
	return t.Format(layout), nil
}

// toTime reads a time: a time.Time, an RFC 3339 string (or a date, or a
// date and time without zone, read in tz) or unix seconds. ok is false
// for nil and "" (a missing value renders empty).
func toTime(v any, tz *time.Location) (t time.Time, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return t, false, nil
	case time.Time:
		return x, true, nil
	case *time.Time:
		if x == nil {
			return t, false, nil
		}
		return *x, true, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return t, false, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true, nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, tz); err == nil {
				return t, true, nil
			}
		}
		return t, false, fmt.Errorf("%q is not a time (want RFC 3339 or unix seconds)", x)
	}
	f, err := toFloat(v)
	if err != nil {
		return t, false, fmt.Errorf("%v (%T) is not a time (want RFC 3339 or unix seconds)", v, v)
	}
	if math.Abs(f) > 1e13 { // beyond year 300000: a mistake, not a date
		return t, false, fmt.Errorf("%v is out of range for unix seconds", v)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// number formats a number with the locale's separators: with the given
// decimals, or up to 3 without trailing zeros.
func (st *state) number(v any, decimals ...any) (string, error) {
	d := -1
	switch len(decimals) {
	case 0:
	case 1:
		n, err := toInt(decimals[0])
		if err != nil || n < 0 || n > maxDecimals {
			return "", fmt.Errorf("decimals must be a whole number from 0 to %d, not %v", maxDecimals, decimals[0])
		}
		d = n
	default:
		return "", fmt.Errorf("want a value and at most one count of decimals, got %d arguments", 1+len(decimals))
	}
	return st.loc.number(v, d)
}

// currency formats an amount in a currency (ISO 4217 code).
func (st *state) currency(v any, code string) (string, error) {
	return st.loc.money(v, code)
}

// plural returns singular or plural by n and the locale's rule: 1 takes
// the singular, and in French and Portuguese so does 0.
func (st *state) plural(n any, singular, plural string) (string, error) {
	f := 0.0
	if n != nil {
		var err error
		if f, err = toFloat(n); err != nil {
			return "", fmt.Errorf("%v (%T) is not a number", n, n)
		}
	}
	f = math.Abs(f)
	if f == 1 || st.loc.oneUpToTwo && f < 2 {
		return singular, nil
	}
	return plural, nil
}

// defaultValue returns v unless it is empty (nil, "", or an empty list or
// map), fallback otherwise. 0 and false are values, not empty.
func defaultValue(fallback, v any) any {
	if v == nil {
		return fallback
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		if rv.Len() == 0 {
			return fallback
		}
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return fallback
		}
	}
	return v
}

// truncate shortens v to at most n runes, the last one "…" when cut.
func (st *state) truncate(n any, v any) (string, error) {
	max, err := toInt(n)
	if err != nil {
		return "", fmt.Errorf("length: %w", err)
	}
	s := toString(v)
	if utf8.RuneCountInString(s) <= max {
		return st.limit(s)
	}
	if max <= 0 {
		return "", nil
	}
	i, count := 0, 0
	for i = range s {
		if count == max-1 {
			break
		}
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…", nil
}

// title capitalises the first letter of each word by the locale's rules,
// leaving the other letters as they are.
func (st *state) title(v any) (string, error) {
	c := cases.Title(language.Make(st.tag), cases.NoLower) // a Caser is not safe to share
	return st.limit(c.String(toString(v)))
}

// json writes v as JSON. The text flavour leaves <, > and & as they
// are; the HTML one escapes them so the JSON is safe in a <script>.
func (st *state) json(v any, escapeHTML bool) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return st.limit(strings.TrimSuffix(b.String(), "\n"))
}

// budget bounds what print and printf build: each argument is written
// through it and, once max is spent, nothing more is.
type budget struct {
	left int
	over bool
}

func (b *budget) take(s string) bool {
	if b.over || len(s) > b.left {
		b.over = true
		return false
	}
	b.left -= len(s)
	return true
}

// boundedArg formats one printf argument within a budget; widths and
// flags are kept by rebuilding the verb.
type boundedArg struct {
	v any
	b *budget
}

func (a boundedArg) Format(f fmt.State, verb rune) {
	if a.b.over {
		return
	}
	if s := fmt.Sprintf(fmt.FormatString(f, verb), a.v); a.b.take(s) {
		_, _ = f.Write([]byte(s))
	}
}

func (st *state) printf(format string, args ...any) (string, error) {
	b := &budget{left: st.max}
	wrapped := make([]any, len(args))
	for i, a := range args {
		wrapped[i] = boundedArg{a, b}
	}
	s := fmt.Sprintf(format, wrapped...)
	if b.over {
		return "", fmt.Errorf("%w than %s", ErrTooLarge, st.maxStr)
	}
	return st.limit(s)
}

// print is fmt.Sprint within the limit: spaces between operands when
// neither is a string.
func (st *state) print(args ...any) (string, error) {
	return st.join(args, false)
}

func (st *state) println(args ...any) (string, error) {
	return st.join(args, true)
}

func (st *state) join(args []any, ln bool) (string, error) {
	b := &budget{left: st.max}
	var sb strings.Builder
	for i, a := range args {
		_, isStr := a.(string)
		if i > 0 {
			_, prevStr := args[i-1].(string)
			if ln || !isStr && !prevStr {
				if !b.take(" ") {
					break
				}
				sb.WriteByte(' ')
			}
		}
		s := fmt.Sprint(a)
		if !b.take(s) {
			break
		}
		sb.WriteString(s)
	}
	if ln && b.take("\n") {
		sb.WriteByte('\n')
	}
	if b.over {
		return "", fmt.Errorf("%w than %s", ErrTooLarge, st.maxStr)
	}
	return sb.String(), nil
}

// escape applies an escaper of text/template's builtins (html, js,
// urlquery) to its arguments printed as the builtins print them.
func (st *state) escape(esc func(string) string, args []any) (string, error) {
	var s string
	if len(args) == 1 {
		if x, ok := args[0].(string); ok {
			s = x
		}
	}
	if s == "" {
		var err error
		if s, err = st.print(args...); err != nil {
			return "", err
		}
	}
	return st.limit(esc(s))
}

// toString prints v for the string helpers; nil is empty.
func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// toInt reads a whole number, as templates write it (int) or as JSON
// decodes it (float64).
func toInt(v any) (int, error) {
	f, err := toFloat(v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, fmt.Errorf("%v is not a whole number", v)
	}
	return int(f), nil
}
