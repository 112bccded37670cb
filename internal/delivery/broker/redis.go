package broker

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/redis/go-redis/v9"
)

// RedisBodyField is the stream entry field that holds the payload; the
// other fields are the message's headers.
const RedisBodyField = "body"

// redisPublisher appends to a stream with XADD: a publish succeeds when
// Redis answers with the new entry's id.
type redisPublisher struct {
	c *redis.Client
}

func openRedis(ctx context.Context, t Target, d dialer) (publisher, error) {
	opts := &redis.Options{
		Addr: t.Addr, DB: t.DB, Dialer: d.dial, DialTimeout: d.timeout,
		// The engine retries; the attempt's context bounds each command.
		MaxRetries: -1, ContextTimeoutEnabled: true,
		PoolSize: 4, DisableIdentity: true,
	}
	switch {
	case t.HasPassword:
		opts.Username, opts.Password = t.User, t.Password
	case t.User != "":
		opts.Password = t.User
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis %s: %w", t.Addr, err)
	}
	return &redisPublisher{c: c}, nil
}

func (p *redisPublisher) publish(ctx context.Context, t Target, m Message, r *Receipt) error {
	values := make([]any, 0, 2*len(m.Headers)+2)
	for _, k := range slices.Sorted(maps.Keys(m.Headers)) {
		values = append(values, k, m.Headers[k])
	}
	values = append(values, RedisBodyField, m.Body)
	id, err := p.c.XAdd(ctx, &redis.XAddArgs{Stream: t.Name, MaxLen: t.MaxLen, Approx: t.MaxLen > 0, Values: values}).Result()
	if err != nil {
		return fmt.Errorf("xadd to %s: %w", t.Name, err)
	}
	r.EntryID = id
	return nil
}

// alive is always true: the client reconnects by itself.
func (p *redisPublisher) alive() bool { return true }

func (p *redisPublisher) close() error { return p.c.Close() }
