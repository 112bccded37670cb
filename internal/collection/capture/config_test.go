package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := Config{DSN: "postgres://u@db/app", Source: "shopdb", Tables: []string{"orders", "sales.line_items"}}
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" when valid
	}{
		{"valid", func(*Config) {}, ""},
		{"source with dash", func(c *Config) { c.Source = "shop-db_2" }, ""},
		{"mixed-case table", func(c *Config) { c.Tables = []string{"Orders"} }, ""},
		{"no dsn", func(c *Config) { c.DSN = "" }, "dsn"},
		{"bad dsn", func(c *Config) { c.DSN = "postgres://u:secret@db:notaport/app" }, "dsn"},
		{"no source", func(c *Config) { c.Source = "" }, "source"},
		{"upper source", func(c *Config) { c.Source = "ShopDB" }, "source"},
		{"source with dot", func(c *Config) { c.Source = "shop.db" }, "source"},
		{"long source", func(c *Config) { c.Source = strings.Repeat("s", 41) }, "source"},
		{"no tables", func(c *Config) { c.Tables = nil }, "tables"},
		{"empty table", func(c *Config) { c.Tables = []string{""} }, "tables[0]"},
		{"three parts", func(c *Config) { c.Tables = []string{"orders", "a.b.c"} }, "tables[1]"},
		{"empty schema part", func(c *Config) { c.Tables = []string{".orders"} }, "tables[0]"},
		{"quote in table", func(c *Config) { c.Tables = []string{`orders"; drop table x; --`} }, "tables[0]"},
		{"duplicate", func(c *Config) { c.Tables = []string{"orders", "public.orders"} }, "tables[1]"},
		{"the outbox", func(c *Config) { c.Tables = []string{"hookline.capture_outbox"} }, "tables[0]"},
		{"the owners", func(c *Config) { c.Tables = []string{"hookline.capture_owners"} }, "tables[0]"},
		{"bad schema", func(c *Config) { c.Schema = "Hook-line" }, "schema"},
		{"long schema", func(c *Config) { c.Schema = strings.Repeat("h", 49) }, "schema"},
		{"negative batch", func(c *Config) { c.Batch = -1 }, "batch"},
		{"huge batch", func(c *Config) { c.Batch = MaxBatch + 1 }, "batch"},
		{"negative poll", func(c *Config) { c.PollInterval = -time.Second }, "poll_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			c.Tables = append([]string(nil), valid.Tables...)
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var cerr *ConfigError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, tt.field, cerr.Field, "error: %v", err)
			require.NotContains(t, err.Error(), "secret", "error leaks the DSN password")
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := Config{DSN: "postgres://u@db/app", Source: "shopdb", Tables: []string{"orders"}}.compile()
	require.NoError(t, err)
	require.Equal(t, DefaultSchema, c.schema)
	require.Equal(t, DefaultBatch, c.batch)
	require.Equal(t, DefaultPollInterval, c.poll)
	require.Equal(t, []table{{"public", "orders"}}, c.tables)
	require.Equal(t, "hookline_shopdb", c.triggerName())
	require.Equal(t, "hookline_capture", c.channel())
	require.Equal(t, `"hookline"."capture_outbox"`, c.outbox())
}

// TestRetryDelayBounds: the wait after failed sessions doubles from 100 ms
// to 30 s and is spread by ±20%.
func TestRetryDelayBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		base    time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{5, 1600 * time.Millisecond},
		{9, 25600 * time.Millisecond},
		{10, 30 * time.Second},
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		lo := retryDelay.Delay(tt.attempt, func() float64 { return 0 })
		mid := retryDelay.Delay(tt.attempt, func() float64 { return 0.5 })
		hi := retryDelay.Delay(tt.attempt, func() float64 { return 0.999999 })
		require.Equal(t, tt.base*8/10, lo, "attempt %d shortest", tt.attempt)
		require.Equal(t, tt.base, mid, "attempt %d middle", tt.attempt)
		require.Less(t, hi, tt.base*12/10, "attempt %d longest", tt.attempt)
		require.Greater(t, hi, tt.base*119/100, "attempt %d longest", tt.attempt)
	}
}

func TestQuoteLiteral(t *testing.T) {
	t.Parallel()
	require.Equal(t, `'shop'`, quoteLiteral("shop"))
	require.Equal(t, `'it''s'`, quoteLiteral("it's"))
	require.Equal(t, `''`, quoteLiteral(""))
}
