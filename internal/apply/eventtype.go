package apply

import (
	"bytes"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/wire"
)

// MaxSchemaSize bounds an event type's JSON Schema, in bytes.
const MaxSchemaSize = 64 << 10

// CheckEventType validates an event type: its name, description and JSON
// Schema. A mistake is a *field.Error.
func CheckEventType(et wire.EventType) error {
	if err := event.ValidateType(et.Name); err != nil {
		return &field.Error{Path: "name", Err: err}
	}
	if len(et.Description) > MaxDescription {
		return field.Errorf("description", "must be at most %d characters", MaxDescription)
	}
	if b := schemaBytes(et.Schema); b != nil {
		if len(b) > MaxSchemaSize {
			return field.Errorf("schema", "must be at most %d bytes", MaxSchemaSize)
		}
		if _, err := CompileSchema(b); err != nil {
			return &field.Error{Path: "schema", Err: err}
		}
	}
	return nil
}

// CompileSchema compiles an event type's JSON Schema. A schema may not
// refer to other documents, remote or local.
func CompileSchema(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("schema.json")
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references to %s are not allowed", url)
}
