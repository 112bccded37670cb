package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLookup(t *testing.T) {
	t.Parallel()
	const data = `{
		"type": "invoice.paid",
		"data": {"object": {"id": "in_123", "amount": 4200, "rate": 1e3, "ratio": 0.50, "paid": true, "void": false, "note": null,
			"lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "tags": ["x", "y"]}]}},
		"items": [{"sku": "first"}],
		"escaped": "line\nbreak \u00e9 \"q\"",
		"empty": "",
		"0": "zero key",
		"dup": 1, "dup": 2,
		"a.b": "dotted key"
	}`
	tests := []struct {
		name   string
		data   string
		path   string
		want   string
		wantOK bool
	}{
		{"top-level string", data, "type", "invoice.paid", true},
		{"nested string", data, "data.object.id", "in_123", true},
		{"integer stays as written", data, "data.object.amount", "4200", true},
		{"exponent stays as written", data, "data.object.rate", "1e3", true},
		{"fraction stays as written", data, "data.object.ratio", "0.50", true},
		{"true", data, "data.object.paid", "true", true},
		{"false", data, "data.object.void", "false", true},
		{"null is absent", data, "data.object.note", "", false},
		{"array index", data, "items.0.sku", "first", true},
		{"nested array index", data, "data.object.lines.1.sku", "B-2", true},
		{"array as json", data, "data.object.lines.1.tags", `["x","y"]`, true},
		{"object as compact json", data, "data.object.lines.0", `{"sku":"A-1","qty":2}`, true},
		{"string unescaped", data, "escaped", "line\nbreak é \"q\"", true},
		{"empty string is present", data, "empty", "", true},
		{"digit key in object", data, "0", "zero key", true},
		{"last repeated key counts", data, "dup", "2", true},
		{"missing key", data, "data.object.missing", "", false},
		{"missing parent", data, "nope.id", "", false},
		{"index out of range", data, "items.1.sku", "", false},
		{"negative index", data, "items.-1", "", false},
		{"signed index", data, "items.+0", "", false},
		{"leading zero index", data, "items.00", "", false},
		{"huge index", data, "items.99999999999999999999999", "", false},
		{"key on array", data, "items.sku", "", false},
		{"descend into string", data, "type.x", "", false},
		{"descend into number", data, "data.object.amount.0", "", false},
		{"dotted key unreachable", data, "a.b", "", false},
		{"empty path", data, "", "", false},
		{"empty segment", data, "data..object", "", false},
		{"trailing dot", data, "type.", "", false},
		{"top-level array", `[10, 20]`, "1", "20", true},
		{"top-level scalar", `"x"`, "x", "", false},
		{"surrounding space", "  {\"a\": {\"b\": 1}}\n", "a", `{"b":1}`, true},
		{"malformed data", `{"a": 1`, "a", "", false},
		{"empty data", ``, "a", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Lookup(json.RawMessage(tt.data), tt.path)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzLookup(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,{"c":"x"}]}}`), "a.b.1.c", "key", "value")
	f.Add([]byte(`[1e3, null, true]`), "0", "", "")
	f.Add([]byte(`{"a":`), "a", "a b", "\n\"")
	f.Fuzz(func(t *testing.T, data []byte, path, key, value string) {
		if _, ok := Lookup(data, path); ok && !json.Valid(data) {
			t.Errorf("Lookup(%q, %q) found a value in data that is not JSON", data, path)
		}
		// Any key without a dot reaches the string stored under it.
		if strings.Contains(key, ".") || !utf8.ValidString(key) || !utf8.ValidString(value) {
			return
		}
		doc, err := json.Marshal(map[string]any{"outer": map[string]any{key: value}, "list": []string{value}})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := Lookup(doc, "outer."+key); !ok || got != value {
			t.Errorf("Lookup(%s, outer.%s) = %q, %v; want %q, true", doc, key, got, ok, value)
		}
		if got, ok := Lookup(doc, "list.0"); !ok || got != value {
			t.Errorf("Lookup(%s, list.0) = %q, %v; want %q, true", doc, got, ok, value)
		}
	})
}
