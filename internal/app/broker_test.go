package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/faultproxy"
	"github.com/hookline/hookline/internal/testkit"
)

// requireSigned checks that m is ev's delivery to ep, signed with ep's
// secret as an HTTP delivery is, so a consumer can verify it.
func requireSigned(t *testing.T, ep *client.Endpoint, ev *client.Event, m testkit.Published) {
	t.Helper()
	// The Standard Webhooks library verifies it, as docs/destinations.md
	// tells consumers to (ignoring the timestamp's age, which is that of
	// the test's clock).
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	require.NoError(t, err)
	h := http.Header{}
	for k, v := range m.Headers {
		h[http.CanonicalHeaderKey(k)] = []string{v}
	}
	require.NoError(t, wh.VerifyIgnoringTimestamp(m.Body, h), "headers %v", m.Headers)
	require.Equal(t, ev.ID, m.Headers["webhook-id"])
	require.Equal(t, "application/json", m.Headers["content-type"])
	require.NotEmpty(t, m.Headers["hookline-delivery-id"])
	var payload struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Body, &payload))
	require.Equal(t, ev.Type, payload.Type)
}

// requirePublishAttempt checks the last attempt of a delivery that
// succeeded: a publish to url, with the receipt's fields.
func requirePublishAttempt(t *testing.T, d *client.Delivery, url string, detail map[string]any) {
	t.Helper()
	require.Equal(t, client.DeliverySucceeded, d.Status)
	at := d.AttemptLog[len(d.AttemptLog)-1]
	require.Equal(t, "publish", at.Kind)
	require.Equal(t, "success", at.Outcome)
	require.Equal(t, url, at.RequestURL)
	require.Equal(t, "redacted", at.RequestHeaders["webhook-signature"])
	var got map[string]any
	require.NoError(t, json.Unmarshal(at.Detail, &got))
	for k, v := range detail {
		require.Equal(t, v, got[k], "detail %s in %s", k, at.Detail)
	}
}

func TestNATSDestination(t *testing.T) {
	t.Parallel()
	js := testkit.NewJetStream(t)
	b := setup(t)
	url := js.URL("")
	ep := b.endpoint(client.EndpointCreate{URL: url})
	require.Equal(t, url, ep.URL)
	ev := b.send("order.created", `{"id": 1}`)
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	requirePublishAttempt(t, d, url, map[string]any{"system": "nats", "destination": js.Subject, "stream": js.Name, "sequence": 1.0})
	msgs := js.Fetch(1)
	requireSigned(t, ep, ev, msgs[0])
	require.Equal(t, d.ID, msgs[0].Headers["hookline-delivery-id"])

	// One connection, reused, and closed when the endpoint goes.
	b.send("order.created", `{"id": 2}`)
	js.Fetch(1)
	require.Equal(t, 1.0, gaugeValue(t, b.url, "hookline_broker_connections"))
	require.NoError(t, b.client.DeleteEndpoint(context.Background(), ep.ID))
	require.Equal(t, 0.0, gaugeValue(t, b.url, "hookline_broker_connections"))
}

// TestNATSOrdered: an ordered endpoint publishes one message at a time,
// in accept order, so the stream holds them in that order.
func TestNATSOrdered(t *testing.T) {
	t.Parallel()
	js := testkit.NewJetStream(t)
	b := setup(t)
	ep := b.endpoint(client.EndpointCreate{URL: js.URL(""), Ordered: true})
	var ids []string
	for i := range 20 {
		ids = append(ids, b.send("order.created", fmt.Sprintf(`{"i": %d}`, i)).ID)
	}
	var got []string
	for _, m := range js.Fetch(len(ids)) {
		got = append(got, m.Headers["webhook-id"])
	}
	require.Equal(t, ids, got)
	require.True(t, ep.Ordered)
}

// TestBrokerCircuitOpens: deliveries to a broker nobody listens on fail
// as network errors and open the endpoint's circuit, as an HTTP
// endpoint's would.
func TestBrokerCircuitOpens(t *testing.T) {
	t.Parallel()
	b := setup(t, withClock(retryClock()), withBreaker(2, 10*time.Minute))
	ep := b.endpoint(client.EndpointCreate{URL: "nats://" + testkit.FreeAddr(t) + "/orders", MaxInFlight: 1, RetrySchedule: []string{"1h"}})
	var evs []*client.Event
	for range 4 {
		evs = append(evs, b.send("order.created", `{}`))
	}
	eventually(t, func() bool { return b.getEndpoint(ep.ID).Circuit == "open" }, "two failures open the circuit")
	// The circuit opens as the second attempt ends; its result is
	// committed a moment later.
	var ds []*client.Delivery
	attempts := func() int {
		ds = ds[:0]
		n := 0
		for _, ev := range evs {
			d := b.delivery(ev.ID)
			ds = append(ds, d)
			n += d.Attempts
		}
		return n
	}
	eventually(t, func() bool { return attempts() == 2 }, "the two attempts recorded")
	for _, d := range ds {
		if d.Attempts > 0 {
			require.Equal(t, "network_error", d.AttemptLog[0].Outcome)
			require.Equal(t, "publish", d.AttemptLog[0].Kind)
			require.Contains(t, d.LastError, "connect")
		}
	}
	require.Equal(t, 2, attempts(), "the others wait behind the open circuit")
}

// getAMQP waits for the next message of queue.
func getAMQP(t *testing.T, ch *amqp.Channel, queue string) testkit.Published {
	t.Helper()
	var m amqp.Delivery
	eventually(t, func() bool {
		var ok bool
		var err error
		m, ok, err = ch.Get(queue, true)
		require.NoError(t, err)
		return ok
	}, "a message in %s", queue)
	h := map[string]string{}
	for k, v := range m.Headers {
		h[k] = fmt.Sprint(v)
	}
	return testkit.Published{Headers: h, Body: m.Body}
}

// TestAMQPDestination publishes with confirms to an exchange that is
// missing, then has no queue bound, then routes to one: the first two
// attempts fail and are retried, the third is read back from the queue.
// The URL's password is never shown.
func TestAMQPDestination(t *testing.T) {
	t.Parallel()
	ch := testkit.RabbitMQ(t)
	clk := retryClock()
	logs := &testkit.Buffer{}
	b := setup(t, withClock(clk), withRand(func() float64 { return 0.5 }), withLogger(logs))
	exchange, key := testkit.UniqueName("hookline-test-"), "order.created"
	url := "amqp://guest:guest@" + testkit.RabbitMQAddr + "/" + exchange + "/" + key
	shown := "amqp://guest:redacted@" + testkit.RabbitMQAddr + "/" + exchange + "/" + key
	ep := b.endpoint(client.EndpointCreate{URL: url, RetrySchedule: []string{"1s", "1s"}})
	require.Equal(t, shown, ep.URL, "the password is not echoed")
	require.Equal(t, shown, b.getEndpoint(ep.ID).URL)

	ev := b.send("order.created", `{"id": 7}`)
	var d *client.Delivery
	eventually(t, func() bool { d = b.delivery(ev.ID); return d.Attempts == 1 && d.Status == client.DeliveryRetrying }, "the first attempt failed")
	require.Equal(t, "rejected", d.AttemptLog[0].Outcome)
	require.Contains(t, d.LastError, "NOT_FOUND")
	require.Equal(t, shown, d.AttemptLog[0].RequestURL)

	require.NoError(t, ch.ExchangeDeclare(exchange, "direct", false, true, false, false, nil))
	t.Cleanup(func() { _ = ch.ExchangeDelete(exchange, false, false) })
	clk.Advance(time.Second)
	eventually(t, func() bool { d = b.delivery(ev.ID); return d.Attempts == 2 && d.Status == client.DeliveryRetrying }, "the second attempt failed")
	require.Equal(t, "rejected", d.AttemptLog[1].Outcome)
	require.Contains(t, d.LastError, "unroutable")

	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	require.NoError(t, err)
	require.NoError(t, ch.QueueBind(q.Name, key, exchange, false, nil))
	clk.Advance(time.Second)
	d = b.waitStatus(ev.ID, client.DeliverySucceeded)
	requirePublishAttempt(t, d, shown, map[string]any{"system": "amqp", "destination": exchange, "routing_key": key})
	m := getAMQP(t, ch, q.Name)
	requireSigned(t, ep, ev, m)

	// The URL sent back as shown keeps the password: deliveries go on.
	_, err = b.client.UpdateEndpoint(context.Background(), ep.ID, client.EndpointUpdate{URL: &shown, RetrySchedule: &[]string{}})
	require.NoError(t, err)
	ev2 := b.send("order.created", `{"id": 8}`)
	b.waitStatus(ev2.ID, client.DeliverySucceeded)
	requireSigned(t, ep, ev2, getAMQP(t, ch, q.Name))

	// A wrong password is a connection that fails, retried.
	wrong := strings.Replace(url, "guest:guest", "guest:wrong", 1)
	_, err = b.client.UpdateEndpoint(context.Background(), ep.ID, client.EndpointUpdate{URL: &wrong})
	require.NoError(t, err)
	ev3 := b.send("order.created", `{"id": 9}`)
	eventually(t, func() bool { d = b.delivery(ev3.ID); return d.Attempts == 1 }, "the attempt with the wrong password")
	require.Equal(t, "network_error", d.AttemptLog[0].Outcome)
	require.NotContains(t, d.LastError, "wrong")
	require.NotContains(t, logs.String(), "guest:guest")
	require.NotContains(t, logs.String(), "guest:wrong")
}

// TestRedisDestination appends to a stream through a proxy that freezes,
// as a hung Redis would: the attempt times out and is retried once Redis
// answers again, and the stream holds the message once.
func TestRedisDestination(t *testing.T) {
	t.Parallel()
	testkit.Service(t, "Redis", testkit.RedisAddr)
	proxy, err := faultproxy.Start(testkit.RedisAddr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = proxy.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: testkit.RedisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	stream := testkit.UniqueName("hookline-test-")
	t.Cleanup(func() { rdb.Del(context.Background(), stream) })

	clk := retryClock()
	b := setup(t, withClock(clk), withRand(func() float64 { return 0.5 }))
	url := "redis://" + proxy.Addr() + "/" + stream + "?maxlen=1000"
	ep := b.endpoint(client.EndpointCreate{URL: url, Timeout: "1s", RetrySchedule: []string{"1s"}})
	proxy.Freeze()
	ev := b.send("order.created", `{"id": 3}`)
	var d *client.Delivery
	eventually(t, func() bool { d = b.delivery(ev.ID); return d.Attempts == 1 && d.Status == client.DeliveryRetrying }, "the attempt timed out")
	require.Contains(t, []string{"timeout", "network_error"}, d.AttemptLog[0].Outcome)
	proxy.Thaw()
	clk.Advance(time.Second)
	d = b.waitStatus(ev.ID, client.DeliverySucceeded)

	entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, entries, 1)
	requirePublishAttempt(t, d, url, map[string]any{"system": "redis", "destination": stream, "entry_id": entries[0].ID})
	h := map[string]string{}
	var body []byte
	for k, v := range entries[0].Values {
		if k == "body" {
			body = []byte(v.(string))
			continue
		}
		h[k] = v.(string)
	}
	requireSigned(t, ep, ev, testkit.Published{Headers: h, Body: body})
}

// kafkaRecords reads n records of topic from the cluster at addr, logging
// in with opts.
func kafkaRecords(t *testing.T, addr, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	consumer, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(consumer.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fetches := consumer.PollRecords(ctx, n-len(out))
		require.NoError(t, fetches.Err(), "have %d of %d records", len(out), n)
		out = append(out, fetches.Records()...)
	}
	return out
}

// recordPublished is a Kafka record as a message read back.
func recordPublished(rec *kgo.Record) testkit.Published {
	h := map[string]string{}
	for _, hd := range rec.Headers {
		h[hd.Key] = string(hd.Value)
	}
	return testkit.Published{Headers: h, Body: rec.Value}
}

// TestKafkaDestination produces to an in-process Kafka cluster that
// requires a SASL login, and reads the record back; a wrong password is a
// failed connection.
func TestKafkaDestination(t *testing.T) {
	t.Parallel()
	topic := testkit.UniqueName("hookline-test-")
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "app", "s3cret"))
	require.NoError(t, err)
	t.Cleanup(cluster.Close)
	addr := cluster.ListenAddrs()[0]

	b := setup(t)
	ep := b.endpoint(client.EndpointCreate{URL: "kafka://app:s3cret@" + addr + "/" + topic})
	shown := "kafka://app:redacted@" + addr + "/" + topic
	require.Equal(t, shown, ep.URL)
	ev := b.send("order.created", `{"id": 5}`)
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	requirePublishAttempt(t, d, shown, map[string]any{"system": "kafka", "destination": topic, "partition": 0.0, "offset": 0.0})

	rec := kafkaRecords(t, addr, topic, 1, kgo.SASL(plain.Auth{User: "app", Pass: "s3cret"}.AsMechanism()))[0]
	require.Equal(t, ev.ID, string(rec.Key), "the record key is the event id")
	requireSigned(t, ep, ev, recordPublished(rec))

	wrong := "kafka://app:wrong@" + addr + "/" + topic
	_, err = b.client.UpdateEndpoint(context.Background(), ep.ID, client.EndpointUpdate{URL: &wrong, Timeout: new("2s")})
	require.NoError(t, err)
	ev2 := b.send("order.created", `{"id": 6}`)
	eventually(t, func() bool { d = b.delivery(ev2.ID); return d.Attempts == 1 }, "the attempt with the wrong password")
	require.Contains(t, []string{"network_error", "timeout"}, d.AttemptLog[0].Outcome, d.LastError)
}

// TestKafkaOrdered: an ordered endpoint's records share one partition of
// a topic that has several, in accept order; an unordered endpoint's are
// keyed by event id.
func TestKafkaOrdered(t *testing.T) {
	t.Parallel()
	topic := testkit.UniqueName("hookline-test-")
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topic))
	require.NoError(t, err)
	t.Cleanup(cluster.Close)
	addr := cluster.ListenAddrs()[0]
	b := setup(t)
	ep := b.endpoint(client.EndpointCreate{URL: "kafka://" + addr + "/" + topic, Ordered: true})
	var ids []string
	for i := range 12 {
		ids = append(ids, b.send("order.created", fmt.Sprintf(`{"i": %d}`, i)).ID)
	}
	var got []string
	for _, rec := range kafkaRecords(t, addr, topic, len(ids)) {
		require.Equal(t, ep.ID, string(rec.Key))
		got = append(got, recordPublished(rec).Headers["webhook-id"])
	}
	require.Equal(t, ids, got, "one partition, in accept order")
}
