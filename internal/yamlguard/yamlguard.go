// Package yamlguard bounds a YAML document before it is decoded, so that a
// small hostile document cannot make the parser recurse without end or make
// its aliases expand into gigabytes.
//
// Check runs in three passes, cheapest first:
//
//  1. a byte scan that needs no allocation per byte and refuses documents
//     whose collections nest deeper than Limits.MaxDepth (flow brackets,
//     indentation, and "- - -" entries on one line). It errs on the side of
//     counting too deep, so the crude bombs — a megabyte of "[" — cost a
//     single pass over the bytes;
//  2. goccy/go-yaml's tokenizer, which is not recursive: the nesting is
//     counted again from its tokens, exactly as the parser will see it;
//  3. the parser, whose recursion is now bounded, and a walk of its tree
//     that sizes every anchor once and refuses a document whose aliases
//     would expand past Limits.MaxBytes or MaxDepth.
//
// Only then is the document decoded (Unmarshal).
package yamlguard

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Defaults for Limits' zero fields.
const (
	// DefaultMaxDepth is deeper than any spec or declaration needs (a
	// workflow with a JSON Schema in a step nests about 12 levels).
	DefaultMaxDepth = 64
	// DefaultMaxBytes matches the API's default max_body_bytes.
	DefaultMaxBytes = 1 << 20
	// DefaultMaxTokens keeps what decoding a document costs to tens of
	// MiB (goccy/go-yaml spends 0.5–1 KiB on each token); a workflow of
	// 500 steps has about 10,000.
	DefaultMaxTokens = 32768
)

// Limits bound a document. Zero fields take the defaults.
type Limits struct {
	// MaxDepth bounds how deep collections nest, counted after aliases
	// are expanded.
	MaxDepth int
	// MaxBytes bounds the document's size, and the size it grows to when
	// its aliases are expanded.
	MaxBytes int64
	// MaxTokens bounds the tokens (keys, scalars, brackets, entries,
	// anchors) of the document as written.
	MaxTokens int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultMaxTokens
	}
	return l
}

// Error says why a document was refused (a limit it broke, bytes that are
// not UTF-8, a decoder failure) and where (1-based; Line is 0 when the
// place is the whole document).
type Error struct {
	Line, Column int
	// TooLarge is true when the document or its expansion is too big
	// (bytes or tokens), and false when it nests too deep or cannot be
	// read.
	TooLarge bool
	Msg      string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (line %d, column %d)", e.Msg, e.Line, e.Column)
}

func deepError(line, col, max int) *Error {
	return &Error{Line: line, Column: col, Msg: fmt.Sprintf("document nests deeper than %d levels", max)}
}

// Check refuses src, with an *Error, when it is not UTF-8 or breaks lim. A document that is
// not valid YAML passes Check if it breaks no limit: its syntax error is
// left to the decoder, which words it better.
func Check(src []byte, lim Limits) error {
	lim = lim.withDefaults()
	if int64(len(src)) > lim.MaxBytes {
		return &Error{TooLarge: true, Msg: fmt.Sprintf("document is larger than %d bytes", lim.MaxBytes)}
	}
	if !utf8.Valid(src) {
		// The parser would read U+FFFD in place of the bad bytes: the
		// document is not what its author sent.
		i := badUTF8(src)
		line, col := lineCol(src, i)
		return &Error{Line: line, Column: col, Msg: fmt.Sprintf("document is not valid UTF-8 at byte %d", i+1)}
	}
	if err := scanDepth(src, lim.MaxDepth, lim.MaxTokens); err != nil {
		return err
	}
	tokens := lexer.Tokenize(string(src))
	if err := tokenDepth(tokens, lim.MaxDepth); err != nil {
		return err
	}
	if !hasAlias(tokens) {
		return nil
	}
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil
	}
	return checkExpansion(file, lim)
}

// Unmarshal checks src against lim and then decodes it into v strictly
// (unknown keys are errors; types with an UnmarshalJSON method read their
// value as JSON).
//
// goccy/go-yaml panics on some malformed documents (found by FuzzDecodeYAML
// in internal/config); such a panic is returned as an error, so that a
// request or a reload cannot take the process down.
func Unmarshal(src []byte, v any, lim Limits) (err error) {
	if err := Check(src, lim); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Msg: fmt.Sprintf("document cannot be read: the YAML decoder failed (%v)", p)}
		}
	}()
	return yaml.UnmarshalWithOptions(src, v, yaml.Strict(), yaml.UseJSONUnmarshaler())
}

// tokenDepth counts the nesting of the parser's view of the document: flow
// collections by their brackets, block collections by the columns of their
// entries and keys, and node properties (anchors, tags) that wrap a node.
func tokenDepth(tokens token.Tokens, max int) error {
	var (
		flow  int
		props int
		name  bool
		stack []int
	)
	level := func(col int) bool {
		for len(stack) > 0 && stack[len(stack)-1] > col {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 || stack[len(stack)-1] < col {
			stack = append(stack, col)
		}
		return len(stack)+flow <= max
	}
	line := 0
	for i, tk := range tokens {
		ok := true
		if tk.Position.Line != line && flow == 0 {
			// A token that starts a line closes the levels right of it.
			line = tk.Position.Line
			for len(stack) > 0 && stack[len(stack)-1] > tk.Position.Column {
				stack = stack[:len(stack)-1]
			}
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
			ok = len(stack)+flow+props <= max
		case token.SequenceEndType, token.MappingEndType:
			flow = max0(flow - 1)
		case token.SequenceEntryType, token.MappingKeyType:
			if flow == 0 {
				ok = level(tk.Position.Column)
			}
		case token.MappingValueType:
			if flow == 0 && i > 0 {
				ok = level(tokens[i-1].Position.Column)
			}
		case token.DocumentHeaderType:
			stack, flow = stack[:0], 0
		}
		switch {
		case name:
			// The name of the anchor or alias before.
			name = false
		case tk.Type == token.AnchorType || tk.Type == token.TagType:
			props++
			ok = ok && len(stack)+flow+props <= max
		default:
			props = 0
		}
		if tk.Type == token.AnchorType || tk.Type == token.AliasType {
			name = true
		}
		if !ok {
			return deepError(tk.Position.Line, tk.Position.Column, max)
		}
	}
	return nil
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func hasAlias(tokens token.Tokens) bool {
	for _, tk := range tokens {
		if tk.Type == token.AliasType || tk.Type == token.MergeKeyType {
			return true
		}
	}
	return false
}

// badUTF8 returns the offset of the first byte of src that is not part of
// a valid UTF-8 sequence.
func badUTF8(src []byte) int {
	i := 0
	for i < len(src) {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	return i
}

// lineCol finds the 1-based line and column of offset i in src.
func lineCol(src []byte, i int) (int, int) {
	line := 1 + bytes.Count(src[:i], []byte{'\n'})
	return line, i - bytes.LastIndexByte(src[:i], '\n')
}
