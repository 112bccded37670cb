package bench

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echoServer answers every connection with what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// A round trip through the proxy takes at least twice its delay, and
// what goes through comes back whole and in order.
func TestDelayProxy(t *testing.T) {
	const delay = 20 * time.Millisecond
	p, err := startDelayProxy(echoServer(t), delay)
	require.NoError(t, err)
	defer p.close()
	c, err := net.Dial("tcp", p.addr())
	require.NoError(t, err)
	defer c.Close()

	start := time.Now()
	_, err = c.Write([]byte("ping"))
	require.NoError(t, err)
	got := make([]byte, 4)
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, "ping", string(got))
	require.GreaterOrEqual(t, time.Since(start), 2*delay, "a round trip is held once each way")

	big := make([]byte, 1<<20)
	rand.Read(big)
	go c.Write(big)
	back := make([]byte, len(big))
	_, err = io.ReadFull(c, back)
	require.NoError(t, err)
	require.True(t, bytes.Equal(big, back), "1 MiB came back changed")
}

// close cuts open connections, and the proxy takes no more.
func TestDelayProxyClose(t *testing.T) {
	p, err := startDelayProxy(echoServer(t), time.Millisecond)
	require.NoError(t, err)
	c, err := net.Dial("tcp", p.addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("x"))
	require.NoError(t, err)
	one := make([]byte, 1)
	_, err = io.ReadFull(c, one)
	require.NoError(t, err)
	p.close()
	_, err = io.ReadFull(c, one)
	require.Error(t, err, "the connection is cut")
	_, err = net.DialTimeout("tcp", p.addr(), time.Second)
	require.Error(t, err, "nothing listens after close")
}

func TestPostgresAddresses(t *testing.T) {
	hp, err := postgresHostPort("postgres://u:p@db.example:6543/app?sslmode=disable")
	require.NoError(t, err)
	require.Equal(t, "db.example:6543", hp)
	hp, err = postgresHostPort("postgres://u@db.example/app")
	require.NoError(t, err)
	require.Equal(t, "db.example:5432", hp)
	dsn, err := throughProxy("postgres://u:p@db.example:6543/app?sslmode=disable&search_path=s", "127.0.0.1:4000")
	require.NoError(t, err)
	require.Equal(t, "postgres://u:p@127.0.0.1:4000/app?sslmode=disable&search_path=s", dsn)
}
