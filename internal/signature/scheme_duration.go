package signature

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("5m",
// "90s") in JSON and YAML, where a bare number would leave the unit to guess.
type Duration struct {
	time.Duration
}

// MarshalJSON writes d as a duration string such as "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a duration string such as "5m"; null leaves d as is.
func (d *Duration) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf(`want a duration string such as "5m", got %s`, data)
	}
	return d.parse(s)
}

// MarshalYAML writes d as a duration string such as "5m0s". It is the
// InterfaceMarshaler of github.com/goccy/go-yaml (and the Marshaler of
// gopkg.in/yaml.v3).
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// UnmarshalYAML reads a duration string such as "5m". It is the
// InterfaceUnmarshaler of github.com/goccy/go-yaml (and the obsolete
// Unmarshaler that gopkg.in/yaml.v3 still honours).
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf(`want a duration string such as "5m": %w`, err)
	}
	return d.parse(s)
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`want a duration string such as "5m": %w`, err)
	}
	d.Duration = v
	return nil
}
