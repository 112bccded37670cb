package wire

// ClusterStatus is the answer of GET /v1/cluster: the live nodes of a
// PostgreSQL cluster and the destination buckets each owns; Mode is
// "single" (no nodes) on SQLite.
type ClusterStatus struct {
	Mode string `json:"mode"`
	// Self is the id of the node that answered; absent in single mode.
	Self  string        `json:"self,omitempty"`
	Nodes []ClusterNode `json:"nodes"`
	// UnownedBuckets are the buckets no live node holds a lease on;
	// absent in single mode.
	UnownedBuckets []int `json:"unowned_buckets,omitzero"`
}

// ClusterNode is one node of GET /v1/cluster.
type ClusterNode struct {
	ID          string `json:"id"`
	Addr        string `json:"addr,omitempty"`
	Self        bool   `json:"self,omitempty"`
	StartedAt   Time   `json:"started_at"`
	HeartbeatAt Time   `json:"heartbeat_at"`
	// Buckets are the destination buckets the node owns (of 64).
	Buckets []int `json:"buckets"`
	// LeaseAgeMS is how long ago the node last renewed its bucket leases.
	LeaseAgeMS int64 `json:"lease_age_ms"`
}

// EndpointSecret is the answer of GET /v1/endpoints/{id}/secret: the
// endpoint's current signing secret.
type EndpointSecret struct {
	Secret string `json:"secret"`
}

// RecipientToken is the answer of GET /v1/recipients/{id}/token: the
// token of the recipient's inbox.
type RecipientToken struct {
	Token string `json:"token"`
}

// WorkflowVersions is the answer of GET /v1/workflows/{name}: a version
// of the workflow (the latest, or ?version=N) and the numbers of all its
// versions.
type WorkflowVersions struct {
	Workflow Workflow `json:"workflow"`
	Versions []int    `json:"versions"`
	// Schedules are the latest version's schedules, each with when it is
	// next due.
	Schedules []ScheduleState `json:"schedules,omitempty"`
}

// ScheduleState is a schedule of a workflow as it stands.
type ScheduleState struct {
	// Schedule is the cron expression, or "every" and the interval.
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone"`
	Missed   string `json:"missed"`
	// NextAt is when it next starts a run; none while the workflow is
	// disabled.
	NextAt *Time `json:"next_at,omitempty"`
}

// WorkflowEnable is the body of PATCH /v1/workflows/{name}.
type WorkflowEnable struct {
	Enabled *bool `json:"enabled"`
}
