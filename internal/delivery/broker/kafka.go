package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// kafkaPublisher produces with acks=all (and the idempotent producer): a
// publish succeeds once every in-sync replica of the partition has the
// record.
type kafkaPublisher struct {
	c *kgo.Client
}

func openKafka(ctx context.Context, t Target, d dialer) (publisher, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(t.Addr), kgo.Dialer(d.dial), kgo.DialTimeout(d.timeout), kgo.ClientID("hookline"),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}
	if t.User != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: t.User, Pass: t.Password}.AsMechanism()))
	}
	c, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", t.Addr, err)
	}
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("kafka %s: %w", t.Addr, err)
	}
	return &kafkaPublisher{c: c}, nil
}

func (p *kafkaPublisher) publish(ctx context.Context, t Target, m Message, r *Receipt) error {
	rec := &kgo.Record{Topic: t.Name, Key: []byte(m.Key), Value: m.Body, Headers: make([]kgo.RecordHeader, 0, len(m.Headers))}
	for k, v := range m.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	if err := p.c.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("produce to %s: %w", t.Name, err)
	}
	r.Partition, r.Offset = &rec.Partition, &rec.Offset
	return nil
}

// alive is always true: the client reconnects by itself.
func (p *kafkaPublisher) alive() bool { return true }

func (p *kafkaPublisher) close() error {
	p.c.Close()
	return nil
}
