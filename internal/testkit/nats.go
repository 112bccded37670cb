package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// Published is a message read back from a message system: its headers
// (or stream fields) and body.
type Published struct {
	Headers map[string]string
	Body    []byte
}

// JetStream is a JetStream stream on the local NATS server that captures
// one fresh subject, with a consumer to read it back.
type JetStream struct {
	Subject, Name string
	tb            testing.TB
	cons          jetstream.Consumer
}

// NewJetStream makes a JetStream stream on the local NATS server,
// deleted when the test ends, or skips tb when NATS is not reachable.
func NewJetStream(tb testing.TB) *JetStream {
	tb.Helper()
	Service(tb, "NATS", NATSAddr)
	nc, err := nats.Connect("nats://" + NATSAddr)
	require.NoError(tb, err)
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(tb, err)
	ctx := context.Background()
	s := &JetStream{Subject: UniqueName("hookline.test."), Name: UniqueName("HOOKLINE_TEST_"), tb: tb}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: s.Name, Subjects: []string{s.Subject}, Storage: jetstream.MemoryStorage})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = js.DeleteStream(context.Background(), s.Name) })
	s.cons, err = st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(tb, err)
	return s
}

// URL is the nats:// URL of the stream's subject, with userinfo (such as
// "token@") before the host when not empty.
func (s *JetStream) URL(userinfo string) string {
	return "nats://" + userinfo + NATSAddr + "/" + s.Subject
}

// Fetch reads the next n messages of the stream, in order, failing when
// one does not come within 5 seconds.
func (s *JetStream) Fetch(n int) []Published {
	s.tb.Helper()
	var out []Published
	for len(out) < n {
		batch, err := s.cons.Fetch(n-len(out), jetstream.FetchMaxWait(5*time.Second))
		require.NoError(s.tb, err)
		got := 0
		for msg := range batch.Messages() {
			h := map[string]string{}
			for k := range msg.Headers() {
				h[k] = msg.Headers().Get(k)
			}
			out = append(out, Published{Headers: h, Body: msg.Data()})
			require.NoError(s.tb, msg.Ack())
			got++
		}
		require.NoError(s.tb, batch.Error())
		require.NotZero(s.tb, got, "no message within 5s; have %d of %d", len(out), n)
	}
	return out
}
