package sqlite

import "strings"

// filter is a WHERE clause of a list, assembled from constant fragments
// and their arguments. A list names only the filters that are set: SQLite
// then sees the cursor's range and the columns compared, and picks the
// index that serves them, which it cannot when each filter is an optional
// term that holds for an empty argument.
type filter struct {
	conds []string
	args  []any
}

// where starts a filter with its first condition.
func where(cond string, arg any) *filter {
	return &filter{conds: []string{cond}, args: []any{arg}}
}

// and adds cond, with its argument, when set.
func (f *filter) and(set bool, cond string, arg any) {
	if set {
		f.conds = append(f.conds, cond)
		f.args = append(f.args, arg)
	}
}

func (f *filter) String() string { return strings.Join(f.conds, " AND ") }
