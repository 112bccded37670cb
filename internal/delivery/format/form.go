package format

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
)

func encodeForm(typ, ts string, data []byte) []byte {
	return []byte(url.Values{
		"type":      {typ},
		"timestamp": {ts},
		"data":      {string(data)},
	}.Encode())
}

func decodeForm(body []byte) (Payload, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return Payload{}, err
	}
	field := func(name string) (string, error) {
		switch v := values[name]; len(v) {
		case 0:
			return "", fmt.Errorf("missing %s", name)
		case 1:
			return v[0], nil
		default:
			return "", fmt.Errorf("%s given %d times", name, len(v))
		}
	}
	typ, err := field("type")
	if err != nil {
		return Payload{}, err
	}
	if typ == "" {
		return Payload{}, fmt.Errorf("missing type")
	}
	rawTS, err := field("timestamp")
	if err != nil {
		return Payload{}, err
	}
	ts, err := parseTimestamp(rawTS)
	if err != nil {
		return Payload{}, err
	}
	rawData, err := field("data")
	if err != nil {
		return Payload{}, err
	}
	data, err := normaliseData([]byte(rawData))
	if err != nil {
		return Payload{}, fmt.Errorf("data: %w", err)
	}
	return Payload{Type: typ, Timestamp: ts, Data: data}, nil
}

// FormToJSON converts an application/x-www-form-urlencoded body to a JSON
// object with its keys sorted: a field given once becomes a string, a field
// given several times an array of strings in body order. Keys are kept as
// they are; bracket notation is not expanded.
func FormToJSON(body []byte) ([]byte, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form to json: %w", err)
	}
	keys := slices.Sorted(maps.Keys(values))
	out := make([]byte, 0, len(body)+16)
	return appendList(out, '{', '}', keys, func(out []byte, k string) []byte {
		out = append(appendString(out, k), ':')
		if v := values[k]; len(v) == 1 {
			return appendString(out, v[0])
		}
		return appendList(out, '[', ']', values[k], appendString)
	}), nil
}

// appendList appends items to dst, each by each, comma separated between
// open and close.
func appendList[T any](dst []byte, open, close byte, items []T, each func([]byte, T) []byte) []byte {
	dst = append(dst, open)
	for i, v := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = each(dst, v)
	}
	return append(dst, close)
}
