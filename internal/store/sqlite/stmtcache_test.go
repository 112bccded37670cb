package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// openCached opens a one-connection database through the caching
// connector and gives the cache of its connection.
func openCached(t *testing.T) (*sql.DB, func() *cachingConn) {
	t.Helper()
	c, err := newConnector("file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)`)
	require.NoError(t, err)
	conn := func() *cachingConn {
		var cc *cachingConn
		c, err := db.Conn(context.Background())
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Raw(func(dc any) error {
			cc = dc.(*cachingConn)
			return nil
		}))
		return cc
	}
	return db, conn
}

func TestStmtCacheReusesStatements(t *testing.T) {
	db, conn := openCached(t)
	for i := range 100 {
		_, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, ?)`, i, fmt.Sprint("v", i))
		require.NoError(t, err)
	}
	var v string
	for i := range 100 {
		require.NoError(t, db.QueryRow(`SELECT v FROM kv WHERE k = ?`, i).Scan(&v))
		require.Equal(t, fmt.Sprint("v", i), v)
	}
	cc := conn()
	require.Contains(t, cc.stmts, `INSERT INTO kv (k, v) VALUES (?, ?)`)
	require.Contains(t, cc.stmts, `SELECT v FROM kv WHERE k = ?`)
	for q, cs := range cc.stmts {
		require.False(t, cs.busy, "statement %q is still marked busy after its rows closed", q)
	}
}

// The same SQL run while its own rows are still open gets a statement of
// its own: both result sets stay whole.
func TestStmtCacheNestedSameQuery(t *testing.T) {
	db, _ := openCached(t)
	for i := range 5 {
		_, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, ?)`, i, fmt.Sprint(i))
		require.NoError(t, err)
	}
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	const q = `SELECT k FROM kv WHERE k >= ? ORDER BY k`
	outer, err := tx.Query(q, 0)
	require.NoError(t, err)
	var got []string
	for outer.Next() {
		var k int
		require.NoError(t, outer.Scan(&k))
		inner, err := tx.Query(q, k)
		require.NoError(t, err)
		n := 0
		for inner.Next() {
			n++
		}
		require.NoError(t, inner.Err())
		require.NoError(t, inner.Close())
		got = append(got, fmt.Sprintf("%d:%d", k, n))
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, []string{"0:5", "1:4", "2:3", "3:2", "4:1"}, got)
}

// More distinct statements than the cache holds: it stays within its
// bound and every statement still runs.
func TestStmtCacheBound(t *testing.T) {
	db, conn := openCached(t)
	for i := range maxCachedStmts + 50 {
		var n int
		require.NoError(t, db.QueryRow(fmt.Sprintf(`SELECT count(*) + %d FROM kv`, i)).Scan(&n))
		require.Equal(t, i, n)
	}
	require.LessOrEqual(t, len(conn().stmts), maxCachedStmts)
}

// A statement that fails to prepare is not cached and says why; a script
// of several statements still runs them all.
func TestStmtCacheErrorsAndScripts(t *testing.T) {
	db, conn := openCached(t)
	_, err := db.Exec(`INSERT INTO nope (k) VALUES (?)`, 1)
	require.ErrorContains(t, err, "no such table: nope")
	require.NotContains(t, conn().stmts, `INSERT INTO nope (k) VALUES (?)`)
	_, err = db.Exec(`INSERT INTO kv (k, v) VALUES (1, 'a'); INSERT INTO kv (k, v) VALUES (2, 'b')`)
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM kv`).Scan(&n))
	require.Equal(t, 2, n)
}
