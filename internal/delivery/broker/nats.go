package broker

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsPublisher publishes to JetStream: a publish succeeds once a stream
// that captures the subject has stored the message and acknowledged it.
type natsPublisher struct {
	nc *nats.Conn
	js jetstream.JetStream
}

func openNATS(_ context.Context, t Target, d dialer) (publisher, error) {
	opts := []nats.Option{
		nats.Name("hookline"),
		nats.SetCustomDialer(d),
		nats.Timeout(d.timeout),
		// While reconnecting, a publish fails at once rather than wait
		// in a buffer: the engine retries it.
		nats.ReconnectBufSize(-1),
		nats.NoCallbacksAfterClientClose(),
	}
	switch {
	case t.HasPassword:
		opts = append(opts, nats.UserInfo(t.User, t.Password))
	case t.User != "":
		opts = append(opts, nats.Token(t.User))
	}
	nc, err := nats.Connect("nats://"+t.Addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", t.Addr, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats %s: jetstream: %w", t.Addr, err)
	}
	return &natsPublisher{nc: nc, js: js}, nil
}

func (p *natsPublisher) publish(ctx context.Context, t Target, m Message, r *Receipt) error {
	msg := &nats.Msg{Subject: t.Name, Data: m.Body, Header: make(nats.Header, len(m.Headers))}
	for k, v := range m.Headers {
		msg.Header.Set(k, v)
	}
	ack, err := p.js.PublishMsg(ctx, msg)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", t.Name, err)
	}
	r.Stream, r.Sequence = ack.Stream, ack.Sequence
	return nil
}

func (p *natsPublisher) alive() bool { return !p.nc.IsClosed() }

func (p *natsPublisher) close() error {
	p.nc.Close()
	return nil
}
