// Package broker publishes endpoint deliveries to message systems: an
// endpoint whose URL names NATS JetStream (nats://), RabbitMQ (amqp://),
// Redis Streams (redis://) or Kafka (kafka://) instead of an HTTP server.
// delivery.Executor sends through a Pool, which keeps one connection per
// endpoint, dialled through the SSRF guard, and waits for each system's
// acknowledgement (a JetStream ack, a publisher confirm, the XADD reply,
// a produce with acks=all) before an attempt succeeds.
package broker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Systems, the schemes of the URLs they are named by.
const (
	NATS  = "nats"
	AMQP  = "amqp"
	Redis = "redis"
	Kafka = "kafka"
)

// maxURLLength bounds a broker URL, as netguard.MaxURLLength bounds an
// HTTP one.
const maxURLLength = 2048

// ErrInvalidURL is wrapped by Parse's errors.
var ErrInvalidURL = errors.New("invalid broker url")

// Target is a parsed broker URL: where to connect and what to publish to.
type Target struct {
	System string
	// Host is the URL's host name or address; Addr is Host with the port,
	// the system's default when the URL has none.
	Host, Addr string
	// User and Password are the URL's user information; a user with no
	// password is a token (NATS) or a password alone (Redis).
	User, Password string
	HasPassword    bool
	// Name is the subject (NATS), exchange (AMQP), stream (Redis) or
	// topic (Kafka).
	Name string
	// Key is the AMQP routing key.
	Key string
	// Vhost is the AMQP virtual host (query vhost), "/" by default.
	Vhost string
	// DB is the Redis database (query db).
	DB int
	// MaxLen trims a Redis stream to about this many entries (query
	// maxlen); 0 does not trim.
	MaxLen int64
}

// Handles reports whether raw names a message system rather than an HTTP
// server: its scheme is one of the Systems.
func Handles(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	_, known := systems[strings.ToLower(scheme)]
	return known
}

// system is what Parse and Pool know of one message system.
type system struct {
	port int
	// path parses the URL's path and query into t.
	path func(t *Target, segments []string, q url.Values) error
	// example is a valid URL, for error messages.
	example string
	open    opener
}

var systems = map[string]system{
	NATS:  {port: 4222, path: natsPath, example: "nats://user:password@nats.example.com:4222/orders.created", open: openNATS},
	AMQP:  {port: 5672, path: amqpPath, example: "amqp://user:password@mq.example.com:5672/orders/order.created?vhost=shop", open: openAMQP},
	Redis: {port: 6379, path: redisPath, example: "redis://:password@redis.example.com:6379/orders?db=0&maxlen=100000", open: openRedis},
	Kafka: {port: 9092, path: kafkaPath, example: "kafka://user:password@kafka.example.com:9092/orders", open: openKafka},
}

// Parse checks a broker URL and returns its target. Its errors wrap
// ErrInvalidURL and say what is wrong with an example of a valid URL.
func Parse(raw string) (Target, error) {
	var t Target
	if len(raw) > maxURLLength {
		return t, fmt.Errorf("longer than %d bytes: %w", maxURLLength, ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return t, errors.Join(ErrInvalidURL, err)
	}
	sys, ok := systems[u.Scheme]
	if !ok {
		return t, fmt.Errorf("scheme %q is not nats, amqp, redis or kafka: %w", u.Scheme, ErrInvalidURL)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s URL %s, as in %s: %w", u.Scheme, fmt.Sprintf(format, args...), sys.example, ErrInvalidURL)
	}
	t.System, t.Host = u.Scheme, u.Hostname()
	if t.Host == "" {
		return t, bad("needs a host")
	}
	if u.Fragment != "" || u.Opaque != "" {
		return t, bad("must not have a fragment")
	}
	port := sys.port
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return t, bad("port %q must be from 1 to 65535", p)
		}
		port = n
	}
	t.Addr = net.JoinHostPort(t.Host, strconv.Itoa(port))
	if u.User != nil {
		t.User = u.User.Username()
		t.Password, t.HasPassword = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return t, bad("query: %v", err)
	}
	var segments []string
	for s := range strings.SplitSeq(strings.TrimPrefix(u.EscapedPath(), "/"), "/") {
		seg, err := url.PathUnescape(s)
		if err != nil {
			return t, bad("path: %v", err)
		}
		segments = append(segments, seg)
	}
	if err := sys.path(&t, segments, q); err != nil {
		return t, bad("%v", err)
	}
	return t, nil
}

// onlyQuery refuses query parameters other than allowed.
func onlyQuery(q url.Values, allowed ...string) error {
	for k := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return fmt.Errorf("takes no query parameter, got %q", k)
			}
			return fmt.Errorf("query parameter %q is unknown (known: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// one is the single path segment of a URL that names one thing.
func one(segments []string, what string) (string, error) {
	if len(segments) != 1 || segments[0] == "" {
		return "", fmt.Errorf("path must name the %s, one segment", what)
	}
	return segments[0], nil
}

// natsSubject is a subject to publish to: dot-separated tokens of
// printable characters without wildcards.
var natsSubject = regexp.MustCompile(`^[^.*>\s]+(\.[^.*>\s]+)*$`)

func natsPath(t *Target, segments []string, q url.Values) error {
	subject, err := one(segments, "subject")
	if err != nil {
		return err
	}
	if len(subject) > 255 || !natsSubject.MatchString(subject) {
		return fmt.Errorf("subject %q must be dot-separated tokens without spaces or the wildcards * and >, at most 255 bytes", subject)
	}
	t.Name = subject
	return onlyQuery(q)
}

// amqpName is an exchange name as RabbitMQ accepts it.
var amqpName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{0,255}$`)

func amqpPath(t *Target, segments []string, q url.Values) error {
	if len(segments) != 2 {
		return errors.New("path must be /exchange/routing-key (an empty exchange is the default exchange, whose routing key names a queue)")
	}
	t.Name, t.Key = segments[0], segments[1]
	if !amqpName.MatchString(t.Name) {
		return fmt.Errorf("exchange %q must be at most 255 letters, digits, '-', '_', '.' or ':'", t.Name)
	}
	if strings.HasPrefix(t.Name, "amq.") && t.Name != "amq.direct" && t.Name != "amq.topic" && t.Name != "amq.fanout" &&
		t.Name != "amq.headers" && t.Name != "amq.match" {
		return fmt.Errorf("exchange %q is reserved by the broker", t.Name)
	}
	if len(t.Key) > 255 {
		return errors.New("routing key must be at most 255 bytes")
	}
	if t.Name == "" && t.Key == "" {
		return errors.New("the default exchange needs a routing key, the queue to deliver to")
	}
	t.Vhost = "/"
	if v, ok := q["vhost"]; ok {
		if len(v) != 1 || v[0] == "" {
			return errors.New("vhost must be given once and not be empty")
		}
		t.Vhost = v[0]
	}
	return onlyQuery(q, "vhost")
}

func redisPath(t *Target, segments []string, q url.Values) error {
	stream, err := one(segments, "stream")
	if err != nil {
		return err
	}
	if len(stream) > 1024 {
		return errors.New("stream name must be at most 1024 bytes")
	}
	t.Name = stream
	if v := q.Get("db"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<16 {
			return fmt.Errorf("db %q must be a database number from 0", v)
		}
		t.DB = n
	}
	if v := q.Get("maxlen"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("maxlen %q must be a positive number of entries", v)
		}
		t.MaxLen = n
	}
	return onlyQuery(q, "db", "maxlen")
}

// kafkaTopic is a legal Kafka topic name.
var kafkaTopic = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

func kafkaPath(t *Target, segments []string, q url.Values) error {
	topic, err := one(segments, "topic")
	if err != nil {
		return err
	}
	if !kafkaTopic.MatchString(topic) || topic == "." || topic == ".." {
		return fmt.Errorf("topic %q must be 1 to 249 letters, digits, '.', '_' or '-'", topic)
	}
	t.Name = topic
	if t.User != "" && !t.HasPassword {
		return errors.New("user information must be user:password (SASL PLAIN)")
	}
	return onlyQuery(q)
}
