package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// appendJSON appends p as a JSON body to dst, its data compacted in
// place (normaliseData's checks, without a copy of the data of its own).
func appendJSON(dst []byte, p Payload) ([]byte, error) {
	if len(bytes.TrimSpace(p.Data)) == 0 {
		return nil, errEmptyData
	}
	b := slices.Grow(dst, len(p.Type)+len(p.Data)+96)
	b = append(b, `{"type":`...)
	b = appendString(b, p.Type)
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, p.Timestamp)
	b = append(b, `","data":`...)
	start := len(b)
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, p.Data); err != nil {
		return nil, fmt.Errorf("data is not JSON: %w", err)
	}
	b = buf.Bytes()
	if err := checkDepth(b[start:]); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return append(b, '}'), nil
}

func decodeJSON(body []byte) (Payload, error) {
	var env struct {
		Type      *string         `json:"type"`
		Timestamp *string         `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Payload{}, err
	}
	if env.Type == nil || *env.Type == "" {
		return Payload{}, errors.New("missing type")
	}
	if env.Timestamp == nil {
		return Payload{}, errors.New("missing timestamp")
	}
	if env.Data == nil {
		return Payload{}, errors.New("missing data")
	}
	ts, err := parseTimestamp(*env.Timestamp)
	if err != nil {
		return Payload{}, err
	}
	data, err := normaliseData(env.Data)
	if err != nil {
		return Payload{}, fmt.Errorf("data: %w", err)
	}
	return Payload{Type: *env.Type, Timestamp: ts, Data: data}, nil
}
