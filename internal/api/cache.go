package api

import "time"

// cacheTTL bounds how long the API reuses what it looked up for a request
// (API keys, event-type schemas). Changes made through this process drop
// the entry at once; changes through another node show within the TTL.
const cacheTTL = 10 * time.Second

// maxCacheEntries bounds each cache; it is cleared when full.
const maxCacheEntries = 100000
