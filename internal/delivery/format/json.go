package format

import (
	"encoding/json"
	"errors"
	"fmt"
)

func encodeJSON(typ, ts string, data []byte) []byte {
	b := make([]byte, 0, len(typ)+len(ts)+len(data)+40)
	b = append(b, `{"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"timestamp":"`...)
	b = append(b, ts...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	return append(b, '}')
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
