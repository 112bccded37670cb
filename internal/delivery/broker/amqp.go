package broker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqpHeartbeat is how often an idle AMQP connection is checked.
const amqpHeartbeat = 10 * time.Second

// amqpPublisher publishes with publisher confirms on one channel, one
// message at a time, as mandatory: a publish succeeds once the broker has
// confirmed it and did not return it as unroutable.
type amqpPublisher struct {
	conn *amqp.Connection

	// mu serializes publishes, so a returned message belongs to the
	// publish it follows (the broker sends basic.return before the
	// confirm of the same message), and guards the channel.
	mu      sync.Mutex
	ch      *amqp.Channel
	returns chan amqp.Return
	closes  chan *amqp.Error
}

func openAMQP(_ context.Context, t Target, d dialer) (publisher, error) {
	u := url.URL{Scheme: "amqp", Host: t.Addr, Path: "/"}
	if t.User != "" {
		u.User = url.UserPassword(t.User, t.Password)
	}
	conn, err := amqp.DialConfig(u.String(), amqp.Config{
		Dial: d.Dial, Vhost: t.Vhost, Heartbeat: amqpHeartbeat,
		Properties: amqp.Table{"connection_name": "hookline"},
	})
	if err != nil {
		return nil, fmt.Errorf("amqp %s: %w", t.Addr, err)
	}
	p := &amqpPublisher{conn: conn}
	if err := p.channel(); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("amqp %s: %w", t.Addr, err)
	}
	return p, nil
}

// channel opens a channel in confirm mode. Called with p.mu held (or
// before p is shared).
func (p *amqpPublisher) channel() error {
	ch, err := p.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return fmt.Errorf("enable publisher confirms: %w", err)
	}
	p.returns = ch.NotifyReturn(make(chan amqp.Return, 1))
	p.closes = ch.NotifyClose(make(chan *amqp.Error, 1))
	p.ch = ch
	return nil
}

func (p *amqpPublisher) publish(ctx context.Context, t Target, m Message, _ *Receipt) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch.IsClosed() {
		// The broker closed the channel over an earlier publish (such as
		// one to a missing exchange); the connection is still good.
		if err := p.channel(); err != nil {
			return err
		}
	}
	headers := make(amqp.Table, len(m.Headers))
	for k, v := range m.Headers {
		headers[k] = v
	}
	dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, t.Name, t.Key, true, false, amqp.Publishing{
		Headers: headers, ContentType: m.Headers["content-type"], MessageId: m.Headers["webhook-id"],
		DeliveryMode: amqp.Persistent, Body: m.Body,
	})
	if err != nil {
		return fmt.Errorf("publish to exchange %q: %w", t.Name, err)
	}
	ack, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("publish to exchange %q: no confirm: %w", t.Name, err)
	}
	if !ack {
		select {
		case e := <-p.closes:
			if e != nil {
				return fmt.Errorf("publish to exchange %q: the broker closed the channel: %w", t.Name, e)
			}
		default:
		}
		return fmt.Errorf("publish to exchange %q: the broker refused the message (negative confirm)", t.Name)
	}
	select {
	case ret := <-p.returns:
		return fmt.Errorf("publish to exchange %q: unroutable: no queue is bound for routing key %q (%d %s)",
			t.Name, t.Key, ret.ReplyCode, ret.ReplyText)
	default:
	}
	return nil
}

func (p *amqpPublisher) alive() bool { return !p.conn.IsClosed() }

func (p *amqpPublisher) close() error {
	err := p.conn.Close()
	if errors.Is(err, amqp.ErrClosed) {
		return nil
	}
	return err
}
