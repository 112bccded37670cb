package broker_test

import (
	"errors"
	"testing"

	"github.com/hookline/hookline/internal/delivery/broker"
	"github.com/hookline/hookline/internal/testkit"
)

type target = broker.Target

func TestParse(t *testing.T) {
	t.Parallel()
	testkit.Table(t, broker.Parse, []testkit.Case[string, target]{
		{In: "nats://127.0.0.1/orders.created", Want: target{System: "nats", Host: "127.0.0.1", Addr: "127.0.0.1:4222", Name: "orders.created"}},
		{In: "nats://tok@nats.example.com:4333/a", Want: target{System: "nats", Host: "nats.example.com", Addr: "nats.example.com:4333", User: "tok", Name: "a"}},
		{In: "amqp://app:pw@mq:5673/orders/order.created?vhost=shop", Want: target{System: "amqp", Host: "mq", Addr: "mq:5673",
			User: "app", Password: "pw", HasPassword: true, Name: "orders", Key: "order.created", Vhost: "shop"}},
		{In: "amqp://mq//jobs", Want: target{System: "amqp", Host: "mq", Addr: "mq:5672", Name: "", Key: "jobs", Vhost: "/"}},
		{In: "amqp://mq/topic/a%2Fb", Want: target{System: "amqp", Host: "mq", Addr: "mq:5672", Name: "topic", Key: "a/b", Vhost: "/"}},
		{In: "amqp://mq/fan/", Want: target{System: "amqp", Host: "mq", Addr: "mq:5672", Name: "fan", Vhost: "/"}},
		{In: "redis://:pw@[::1]/events?db=2&maxlen=1000", Want: target{System: "redis", Host: "::1", Addr: "[::1]:6379",
			Password: "pw", HasPassword: true, Name: "events", DB: 2, MaxLen: 1000}},
		{In: "kafka://broker/orders_v1", Want: target{System: "kafka", Host: "broker", Addr: "broker:9092", Name: "orders_v1"}},
		{In: "kafka://u:p@broker:19092/t", Want: target{System: "kafka", Host: "broker", Addr: "broker:19092", User: "u", Password: "p", HasPassword: true, Name: "t"}},

		{In: "nats:///orders", Err: "nats URL needs a host, as in nats://"},
		{In: "nats://h", Err: "path must name the subject"},
		{In: "nats://h/a/b", Err: "path must name the subject"},
		{In: "nats://h/orders.*", Err: "wildcards"},
		{In: "nats://h/a..b", Err: "dot-separated tokens"},
		{In: "nats://h/a?x=1", Err: "takes no query parameter"},
		{In: "nats://h:0/a", Err: `port "0" must be from 1 to 65535`},
		{In: "nats://h:99999/a", Err: "must be from 1 to 65535"},
		{In: "nats://h/a#frag", Err: "must not have a fragment"},
		{In: "amqp://h/only-exchange", Err: "path must be /exchange/routing-key"},
		{In: "amqp://h//", Err: "default exchange needs a routing key"},
		{In: "amqp://h/bad name/k", Err: "must be at most 255 letters"},
		{In: "amqp://h/amq.gen-x/k", Err: "reserved by the broker"},
		{In: "amqp://h/x/k?vhost=", Err: "vhost must be given once"},
		{In: "amqp://h/x/k?durable=1", Err: `query parameter "durable" is unknown (known: vhost)`},
		{In: "redis://h", Err: "path must name the stream"},
		{In: "redis://h/s?db=-1", Err: "must be a database number"},
		{In: "redis://h/s?maxlen=0", Err: "must be a positive number"},
		{In: "kafka://h/bad topic", Err: "must be 1 to 249 letters"},
		{In: "kafka://h/..", Err: "must be 1 to 249 letters"},
		{In: "kafka://tok@h/t", Err: "must be user:password"},
		{In: "ftp://h/x", Err: `scheme "ftp" is not nats, amqp, redis or kafka`},
		{In: "nats://h/%zz", Err: "invalid URL escape"},
	})
}

func TestParseErrorsWrapInvalidURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"nats://h", "amqp://h/x", "redis://", "kafka://h/a b", "%"} {
		if _, err := broker.Parse(raw); !errors.Is(err, broker.ErrInvalidURL) {
			t.Errorf("Parse(%q) = %v, want ErrInvalidURL", raw, err)
		}
	}
}

func TestHandles(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"nats://h/s": true, "AMQP://h/e/k": true, "redis://h/s": true, "kafka://h/t": true,
		"https://h/x": false, "http://h": false, "natsy://h/s": false, "nats:h": false, "": false,
	} {
		if got := broker.Handles(raw); got != want {
			t.Errorf("Handles(%q) = %v, want %v", raw, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"nats://u:p@h:1/a.b", "amqp://h/e/k?vhost=v", "redis://h/s?db=1&maxlen=2", "kafka://h/t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := broker.Parse(raw)
		if err != nil {
			if !errors.Is(err, broker.ErrInvalidURL) {
				t.Fatalf("Parse(%q): %v does not wrap ErrInvalidURL", raw, err)
			}
			return
		}
		if tg.Host == "" || tg.Addr == "" || (tg.Name == "" && tg.Key == "") {
			t.Fatalf("Parse(%q) = %+v: a target without an address or a destination", raw, tg)
		}
	})
}
