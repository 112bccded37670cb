package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/telemetry"
)

// A Setting is one server key of Config as its struct tags describe it:
//
//	Workers int `yaml:"workers" env:"HOOKLINE_WORKERS"`
//	Addr string `yaml:"addr" env:"HOOKLINE_ADDR" flag:"addr" help:"listen address"`
//	APIKey string `yaml:"api_key" env:"HOOKLINE_API_KEY" secret:"true"`
//
// The environment is read from the env tags (applyEnv) and the CLI
// registers a flag per flag tag, so no name is written twice.
type Setting struct {
	// Key is the dotted YAML key: "workers", "smtp.host".
	Key string
	// Env is the environment variable that sets it; empty if none.
	Env string
	// Flag is the name of the `hookline serve` flag that sets it, and
	// Short its one-letter shorthand (flag:"name" or flag:"name,x");
	// empty if none.
	Flag, Short string
	// Help is the flag's usage, without the "(env …)" that Usage adds.
	Help string
	// Secret says the value is never shown, not even as a flag default.
	Secret bool

	index []int
}

// Usage is the flag's usage: Help, naming the environment variable too.
func (s Setting) Usage() string {
	if s.Env == "" {
		return s.Help
	}
	return s.Help + " (env " + s.Env + ")"
}

// Ptr returns a pointer to the setting's field of c: a *string, *bool,
// *int, *int64, *time.Duration, *[]string or an encoding.TextUnmarshaler.
func (s Setting) Ptr(c *Config) any {
	return reflect.ValueOf(c).Elem().FieldByIndex(s.index).Addr().Interface()
}

// Settings returns the server settings of Config in the order of its
// fields, nested ones (smtp.*) in place.
func Settings() []Setting { return slices.Clone(settings()) }

// EnvVar returns the environment variable of the YAML key, or "" if it
// has none.
func EnvVar(key string) string {
	for _, s := range settings() {
		if s.Key == key {
			return s.Env
		}
	}
	return ""
}

var settings = sync.OnceValue(func() []Setting {
	list := settingsOf(reflect.TypeFor[Config](), "", nil)
	var zero Config
	for _, s := range list {
		if s.Env != "" {
			if err := setText(s.Ptr(&zero), "0"); errors.Is(err, errUnsupported) {
				panic(fmt.Sprintf("config: %s: env tag on a field of type %T", s.Key, s.Ptr(&zero)))
			}
		}
	}
	return list
})

// settingsOf walks the fields of t with a YAML key: structs other than
// time.Duration without tags of their own (smtp) are walked into, the
// inlined declaration is not.
func settingsOf(t reflect.Type, prefix string, index []int) []Setting {
	var list []Setting
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous || key == "" || key == "-" {
			continue
		}
		idx := slices.Concat(index, []int{i})
		env, flag := f.Tag.Get("env"), f.Tag.Get("flag")
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() && env == "" && flag == "" {
			list = append(list, settingsOf(f.Type, prefix+key+".", idx)...)
			continue
		}
		name, short, _ := strings.Cut(flag, ",")
		list = append(list, Setting{
			Key: prefix + key, Env: env, Flag: name, Short: short, Help: f.Tag.Get("help"),
			Secret: f.Tag.Get("secret") == "true", index: idx,
		})
	}
	return list
}

// applyEnv sets the settings whose environment variable lookup finds
// non-empty; an empty variable counts as unset. Every value that does not
// parse is an error naming the variable.
func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	if lookup == nil {
		return nil
	}
	tracing, err := telemetry.FromEnv(lookup)
	c.Tracing = tracing
	errs := []error{err}
	for _, s := range settings() {
		if s.Env == "" {
			continue
		}
		if v, ok := lookup(s.Env); ok && v != "" {
			if err := setText(s.Ptr(c), v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", s.Env, v, err))
			}
		}
	}
	return errors.Join(errs...)
}

var errUnsupported = errors.New("unsupported type")

// setText sets *p from v. Lists are separated by commas or spaces. A value
// that does not parse leaves in *p what the parser returned.
func setText(p any, v string) (err error) {
	switch p := p.(type) {
	case *string:
		*p = v
	case *bool:
		*p, err = strconv.ParseBool(v)
	case *int:
		*p, err = strconv.Atoi(v)
	case *int64:
		*p, err = strconv.ParseInt(v, 10, 64)
	case *time.Duration:
		*p, err = time.ParseDuration(v)
	case *[]string:
		*p = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	case encoding.TextUnmarshaler:
		err = p.UnmarshalText([]byte(v))
	default:
		err = errUnsupported
	}
	return err
}
