package postgres

import (
	"strconv"
	"strings"
)

// filter is a WHERE clause of a list, assembled from constant fragments
// and their arguments, as the SQLite driver's is. A list names only the
// filters that are set: with optional terms (a parameter compared with
// the empty string, OR the column compared with it), a generic plan (pgx
// prepares its statements, and PostgreSQL plans them generically after
// five runs) cannot use the cursor's range or the index of the column
// compared, and reads the tenant's rows from the top.
type filter struct {
	conds []string
	args  []any
}

// where starts a filter with its first condition. A condition ends with
// the '$' of its placeholder; the filter numbers it.
func where(cond string, arg any) *filter {
	f := &filter{}
	f.and(true, cond, arg)
	return f
}

// and adds cond, with its argument, when set.
func (f *filter) and(set bool, cond string, arg any) {
	if set {
		f.args = append(f.args, arg)
		f.conds = append(f.conds, cond+strconv.Itoa(len(f.args)))
	}
}

func (f *filter) String() string { return strings.Join(f.conds, " AND ") }

// limit adds a page's size as the last argument and returns its LIMIT.
func (f *filter) limit(n int) string {
	f.args = append(f.args, n)
	return " LIMIT $" + strconv.Itoa(len(f.args))
}
