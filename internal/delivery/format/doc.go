// Package format encodes the body of an outgoing webhook as JSON, a form or
// XML, and decodes such bodies back.
//
// Every format carries the Standard Webhooks payload: an event type, a
// timestamp (RFC 3339, UTC, millisecond precision) and the event data, which
// is JSON. Whatever the format, decoding gives back the same JSON value:
//
//   - json: {"type":…,"timestamp":…,"data":…}, data byte for byte as given
//     (only insignificant white space removed, members never reordered).
//   - form: three fields, type, timestamp and data, with data holding the
//     JSON text. Bracket notation (data[order][total]=12.5) was rejected on
//     purpose: it turns every number, boolean and null into a string and
//     cannot express empty objects or arrays, so the receiver would get a
//     different value than the sender meant. A JSON string field keeps the
//     types and is one json.Unmarshal away on any stack.
//   - xml: <webhook><type>…</type><timestamp>…</timestamp><data>…</data></webhook>
//     with data mapped element by element, described below.
//
// # XML mapping
//
// A JSON value becomes one element; its name comes from the context and a
// type attribute says what it holds:
//
//   - a string is the element's text, with no type attribute;
//   - a number, boolean or null has type="number", "boolean" or "null", and
//     the number keeps its literal text (1.0 stays 1.0);
//   - an object has type="object" and one child per member, in order. The
//     child is named by the key when the key is a plain XML name (ASCII
//     letters, digits, '_', '-', '.', not starting with a digit, '-', '.' or
//     "xml", and not "entry"); otherwise it is <entry key="…">;
//   - an array has type="array" and one <item> child per element.
//
// Text that XML 1.0 cannot carry (most control characters, U+FFFE, U+FFFF)
// is written as a JSON string literal instead: a string value as
// <x type="string" encoding="json">"\u0001"</x>, a key as
// <entry key-json="&quot;\u0001&quot;">.
//
// XMLToJSON reads any XML document, not only this mapping: the root becomes
// {"root": value}; an element without a type attribute, attributes or child
// elements is a string; otherwise it is an object with "@name" members for
// attributes, one member per child name (an array when the name repeats)
// and "#text" for non-blank text. Namespaces are dropped.
//
// Nesting is limited to MaxDepth objects and arrays in every format, so a
// hostile body cannot exhaust the stack. Callers limit body sizes themselves
// (http.MaxBytesReader) before the body reaches this package.
package format
