package ingest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Lookup returns the value at a dotted path in JSON data, for event-type
// and deduplication rules. Each segment of the path is an object key or, in
// an array, a decimal index from 0: "data.object.id", "items.0.sku". A
// string is returned unquoted, a number as its literal text ("4200" stays
// "4200", 1e3 stays "1e3"), a boolean as "true" or "false", an object or
// array as compact JSON. Lookup reports false when the path is empty, the
// data is not JSON, or the value is absent or null. Keys holding a dot
// cannot be reached; of repeated keys the last counts.
func Lookup(data json.RawMessage, path string) (string, bool) {
	if path == "" {
		return "", false
	}
	cur := bytes.TrimSpace(data)
	for seg := range strings.SplitSeq(path, ".") {
		next, ok := lookupChild(cur, seg)
		if !ok {
			return "", false
		}
		cur = next
	}
	// cur came out of a parent that parsed, so it is valid and trimmed.
	switch cur[0] {
	case 'n':
		return "", false
	case '{', '[':
		var buf bytes.Buffer
		if json.Compact(&buf, cur) != nil {
			return "", false
		}
		return buf.String(), true
	}
	return textOfJSON(cur), true
}

// lookupChild returns the member seg of the object, or the element seg of the
// array, value.
func lookupChild(value []byte, seg string) (json.RawMessage, bool) {
	if len(value) == 0 {
		return nil, false
	}
	switch value[0] {
	case '{':
		var members map[string]json.RawMessage
		if json.Unmarshal(value, &members) != nil {
			return nil, false
		}
		v, ok := members[seg]
		return v, ok
	case '[':
		i, ok := lookupIndex(seg)
		if !ok {
			return nil, false
		}
		var elems []json.RawMessage
		if json.Unmarshal(value, &elems) != nil || i >= len(elems) {
			return nil, false
		}
		return elems[i], true
	}
	return nil, false
}

// lookupIndex parses a canonical decimal index: digits only, no sign, no
// leading zero.
func lookupIndex(seg string) (int, bool) {
	if seg == "" || seg[0] < '0' || seg[0] > '9' || len(seg) > 1 && seg[0] == '0' {
		return 0, false
	}
	for i := 1; i < len(seg); i++ {
		if seg[i] < '0' || seg[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(seg)
	return i, err == nil
}
