package yamlguard

import (
	"bytes"
	"fmt"
)

// scanDepth refuses src if its collections nest deeper than max, reading
// each byte once and keeping only the columns of the open block levels
// (at most max of them). It reads YAML's structure loosely: where it is
// unsure whether a bracket opens a collection it counts it, so it may find
// a document deeper than it is, never the opposite for the shapes that
// matter (brackets, "- - -", indentation, properties). tokenDepth checks
// the exact nesting afterwards; this pass exists so that the megabyte
// bombs are refused before the tokenizer spends memory on them.
//
// It also counts the document's tokens (keys, scalars, brackets, entries,
// anchors) about as the tokenizer will, and refuses more than maxTokens:
// the tokenizer and parser spend several hundred bytes on each, so this
// bounds what a document that passes costs to decode.
func scanDepth(src []byte, max, maxTokens int) error {
	s := depthScan{src: lineBreaks(src), max: max, maxTokens: maxTokens}
	return s.run()
}

// lineBreaks returns src with each lone "\r", a line break to YAML, made a
// "\n", so that the scan knows one kind of break ("\r\n" keeps its "\r",
// which the scan reads as a blank). src is copied only when it has one.
func lineBreaks(src []byte) []byte {
	lone := func(i int) bool { return src[i] == '\r' && (i+1 == len(src) || src[i+1] != '\n') }
	i := bytes.IndexByte(src, '\r')
	for i >= 0 && !lone(i) {
		j := bytes.IndexByte(src[i+1:], '\r')
		if j < 0 {
			return src
		}
		i += 1 + j
	}
	if i < 0 {
		return src
	}
	out := bytes.Clone(src)
	for ; i < len(out); i++ {
		if lone(i) {
			out[i] = '\n'
		}
	}
	return out
}

type depthScan struct {
	src       []byte
	max       int
	maxTokens int
	tokens    int
	i         int

	flow  int   // open flow collections
	stack []int // columns of the open block levels, increasing
	props int   // anchors and tags in a row before a node
	// node is true where a node may start: there a bracket opens a
	// collection and a quote a quoted scalar; inside a plain scalar both
	// are text.
	node bool
	// lineStart is the offset of the current line's first byte.
	lineStart int
	// scalarParent is the column a block scalar's content must be
	// indented past; -1 when the current line has no block scalar.
	scalarParent int
	// pendingScalar is set by a block scalar header: the lines after it
	// that are indented past scalarParent are its text.
	pendingScalar bool
}

func (s *depthScan) col() int { return s.i - s.lineStart }

func (s *depthScan) deep() error {
	line, col := lineCol(s.src, s.i)
	return deepError(line, col, s.max)
}

func (s *depthScan) depth() int { return len(s.stack) + s.flow + s.props }

// push opens a block level at column c unless one is open there already.
func (s *depthScan) push(c int) error {
	if n := len(s.stack); n > 0 && s.stack[n-1] >= c {
		return nil
	}
	s.stack = append(s.stack, c)
	if s.depth() > s.max {
		return s.deep()
	}
	return nil
}

func (s *depthScan) run() error {
	if err := s.newLine(); err != nil {
		return err
	}
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\n':
			s.i++
			s.lineStart = s.i
			if s.flow == 0 {
				if err := s.newLine(); err != nil {
					return err
				}
			}
			continue
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
			continue
		case c == '#' && (s.node || s.prevBlank()):
			s.skipLine()
			continue
		}
		if s.tokens++; s.maxTokens > 0 && s.tokens > s.maxTokens {
			line, col := lineCol(s.src, s.i)
			return &Error{Line: line, Column: col, TooLarge: true, Msg: fmt.Sprintf("document has more than %d tokens", s.maxTokens)}
		}
		if c != '&' && c != '!' && c != '*' {
			// Anchors and tags in a row, even over lines, wrap one node.
			s.props = 0
		}
		var err error
		if s.flow > 0 {
			err = s.flowByte(c)
		} else {
			err = s.blockByte(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *depthScan) prevBlank() bool {
	return s.i == 0 || s.src[s.i-1] == ' ' || s.src[s.i-1] == '\t' || s.src[s.i-1] == '\n'
}

// nextBlank reports whether the byte after i ends a token.
func (s *depthScan) nextBlank() bool {
	j := s.i + 1
	return j >= len(s.src) || s.src[j] == ' ' || s.src[j] == '\t' || s.src[j] == '\n' || s.src[j] == '\r'
}

// skipLine moves to the newline ending the current line.
func (s *depthScan) skipLine() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		s.i++
	}
}

// newLine starts a line in block context at s.i: it skips a pending block
// scalar's text, then sets the block levels from the indentation.
func (s *depthScan) newLine() error {
	if s.pendingScalar {
		s.pendingScalar = false
		s.skipBlockScalar()
	}
	s.node, s.scalarParent = true, -1
	for {
		j := s.i
		for j < len(s.src) && (s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		if j < len(s.src) && (s.src[j] == '\n' || s.src[j] == '\r' || s.src[j] == '#') {
			// A blank or comment line sets no level.
			for j < len(s.src) && s.src[j] != '\n' {
				j++
			}
			if j == len(s.src) {
				s.i = j
				return nil
			}
			s.i, s.lineStart = j+1, j+1
			continue
		}
		indent := j - s.i
		s.i = j
		if indent == 0 && (s.has("---") || s.has("...")) && s.blankAt(s.i+3) {
			s.stack = s.stack[:0]
			s.i += 3
			return nil
		}
		for n := len(s.stack); n > 0 && s.stack[n-1] > indent; n-- {
			s.stack = s.stack[:n-1]
		}
		return s.push(indent)
	}
}

func (s *depthScan) has(p string) bool {
	return len(s.src)-s.i >= len(p) && string(s.src[s.i:s.i+len(p)]) == p
}

func (s *depthScan) blankAt(j int) bool {
	return j >= len(s.src) || s.src[j] == ' ' || s.src[j] == '\t' || s.src[j] == '\n' || s.src[j] == '\r'
}

// skipBlockScalar skips the text lines of a block scalar ("|" or ">")
// whose header ended the previous line. Its indentation is that of its
// first non-blank line, which must be past scalarParent; a line indented
// less ends it. Taking the first line's indentation (and not a smaller
// explicit indicator) makes the text, if anything, shorter than the
// parser's, and what is not text is counted as structure.
func (s *depthScan) skipBlockScalar() {
	indent := -1
	for s.i < len(s.src) {
		j := s.i
		for j < len(s.src) && s.src[j] == ' ' {
			j++
		}
		blank := j >= len(s.src) || s.src[j] == '\n' || s.src[j] == '\r'
		if !blank {
			if indent < 0 {
				indent = j - s.i
				if indent <= s.scalarParent {
					return
				}
			} else if j-s.i < indent {
				return
			}
		}
		for j < len(s.src) && s.src[j] != '\n' {
			j++
		}
		if j < len(s.src) {
			j++
		}
		s.i, s.lineStart = j, j
	}
}

// blockByte reads one token starting at s.i in block context.
func (s *depthScan) blockByte(c byte) error {
	if !s.node {
		// Inside a plain scalar only ": " ends it (a key).
		if c == ':' && s.nextBlank() {
			s.i++
			s.node = true
			return nil
		}
		s.i++
		return nil
	}
	switch c {
	case '-', '?':
		if !s.nextBlank() {
			break
		}
		// A block entry; what follows it on the line nests inside.
		parent := s.col()
		s.i++
		for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
			s.i++
		}
		if s.i >= len(s.src) || s.src[s.i] == '\n' || s.src[s.i] == '\r' || s.src[s.i] == '#' {
			return nil
		}
		if c := s.src[s.i]; c == '|' || c == '>' {
			s.scalarParent = parent
			return nil
		}
		return s.push(s.col())
	case '[', '{':
		return s.openFlow()
	case '"', '\'':
		s.skipQuoted(c)
		return nil
	case '&', '!', '*':
		return s.property(c)
	case '%', '@', '`':
		// A directive or a reserved indicator: the tokenizer reads on as
		// if a node could start after it.
		s.i++
		return nil
	case '|', '>':
		if s.scalarParent < 0 && len(s.stack) > 0 {
			s.scalarParent = s.stack[len(s.stack)-1]
		}
		// Only a well-formed header makes the next lines text.
		s.pendingScalar = s.scalarHeader()
		s.skipLine()
		return nil
	case ':':
		if s.nextBlank() {
			// An empty key.
			c := s.col()
			s.i++
			return s.push(c)
		}
	}
	// A plain scalar starts. If it turns out to be a key further right than
	// the line's level ("a: b: c", "- a: b"), that is a level too.
	s.node = false
	keyCol := s.col()
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		c := s.src[s.i]
		if c == ':' && s.nextBlank() {
			s.i++
			s.node = true
			return s.push(keyCol)
		}
		if c == '#' && s.prevBlank() {
			return nil
		}
		s.i++
	}
	return nil
}

// scalarHeader reports whether the block scalar header at s.i is one every
// parser accepts: indicators from [1-9+-], then blanks or a comment.
func (s *depthScan) scalarHeader() bool {
	j := s.i + 1
	for ; j < len(s.src) && j-s.i <= 3; j++ {
		c := s.src[j]
		if c == '+' || c == '-' || (c >= '1' && c <= '9') {
			continue
		}
		break
	}
	for ; j < len(s.src); j++ {
		switch s.src[j] {
		case ' ', '\t', '\r':
			continue
		case '\n':
			return true
		case '#':
			return s.src[j-1] == ' ' || s.src[j-1] == '\t'
		}
		return false
	}
	return true
}

// flowByte reads one byte starting at s.i inside a flow collection. Every
// bracket outside quotes counts: plain scalars cannot hold them there.
func (s *depthScan) flowByte(c byte) error {
	switch c {
	case '[', '{':
		return s.openFlow()
	case ']', '}':
		s.i++
		s.flow--
		s.node = true
		return nil
	case ',':
		s.i++
		s.node = true
		return nil
	case ':':
		s.i++
		// Only a ": " is sure to end a key for every reader of YAML; after
		// "a:x" a quote is text.
		if s.i >= len(s.src) || s.blankAt(s.i) {
			s.node = true
		}
		return nil
	case '"', '\'':
		if s.node {
			s.skipQuoted(c)
			s.node = false
			return nil
		}
	case '&', '!', '*':
		if s.node {
			return s.property(c)
		}
	}
	// A plain scalar, up to what ends it in a flow collection.
	for s.i++; s.i < len(s.src); s.i++ {
		switch s.src[s.i] {
		case ',', '[', ']', '{', '}', ':', '\n', ' ', '\t', '\r':
			s.node = false
			return nil
		}
	}
	s.node = false
	return nil
}

func (s *depthScan) openFlow() error {
	s.i++
	s.flow++
	s.node = true
	if s.depth() > s.max {
		s.i--
		return s.deep()
	}
	return nil
}

// property skips an anchor, tag or alias and its name. Anchors and tags
// wrap the node after them, so a run of them counts as nesting.
func (s *depthScan) property(c byte) error {
	start := s.i
	s.i++
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\n', '\r':
			goto end
		case '\t':
			if c != '!' {
				goto end
			}
		case ',', '[', ']', '{', '}':
			// Flow indicators end a name in a flow collection only, but
			// a tag at "{" or "}" (which the tokenizer refuses).
			if s.flow > 0 || (c == '!' && (s.src[s.i] == '{' || s.src[s.i] == '}')) {
				goto end
			}
		case '&', '*':
			// "&&" is two anchors to the tokenizer; "&a*" and "!*" one
			// name each.
			if c != '!' && s.i == start+1 {
				goto end
			}
		}
		s.i++
	}
end:
	if c != '!' && s.i == start+1 {
		// "& name": the tokenizer takes the next word on the line as the
		// name.
		j := s.i
		for j < len(s.src) && (s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		for j < len(s.src) && !s.blankAt(j) && (s.flow == 0 || !isFlowIndicator(s.src[j])) {
			j++
		}
		s.i = j
	}
	if c == '*' {
		// An alias is a node of its own.
		s.node, s.props = true, 0
		return nil
	}
	s.props++
	if s.depth() > s.max {
		s.i = start
		return s.deep()
	}
	return nil
}

// skipQuoted skips a quoted scalar, which may span lines, starting at its
// opening quote q.
func (s *depthScan) skipQuoted(q byte) {
	s.i++
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\n':
			s.i++
			s.lineStart = s.i
			continue
		case q == '"' && c == '\\':
			s.i += 2
			if s.i <= len(s.src) && s.src[s.i-1] == '\n' {
				s.lineStart = s.i
			}
			continue
		case c == q:
			if q == '\'' && s.i+1 < len(s.src) && s.src[s.i+1] == '\'' {
				s.i += 2
				continue
			}
			s.i++
			// After a quoted scalar the parser starts a new token, so a
			// bracket there opens a collection.
			s.node = true
			return
		}
		s.i++
	}
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}
