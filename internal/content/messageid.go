package content

import (
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/event"
)

// ValidMessageID reports whether id is one a message gets: msg_ (dig_ for
// a digest), the ULID of the task that made it, '_' and its channel, such
// as msg_01j…_inbox. Lists of messages page by id, compared as text, so a
// cursor must be one.
func ValidMessageID(id string) bool {
	i := strings.LastIndexByte(id, '_')
	if i < 0 || !slices.Contains(channels, id[i+1:]) {
		return false
	}
	return event.ValidID("msg", id[:i]) || event.ValidID("dig", id[:i])
}
