package api

import (
	"net/http"
	"sort"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/wire"
)

// clusterNode is one node in GET /v1/cluster.
type clusterNode struct {
	ID          string    `json:"id"`
	Addr        string    `json:"addr,omitempty"`
	Self        bool      `json:"self,omitempty"`
	StartedAt   wire.Time `json:"started_at"`
	HeartbeatAt wire.Time `json:"heartbeat_at"`
	// Buckets are the destination buckets the node owns (of 64).
	Buckets []int `json:"buckets"`
	// LeaseAgeMS is how long ago the node last renewed its bucket leases.
	LeaseAgeMS int64 `json:"lease_age_ms"`
}

// getCluster serves GET /v1/cluster (admin keys only): live nodes, the
// buckets each owns and how fresh their leases are.
func (s *Server) getCluster(w http.ResponseWriter, r *http.Request, a *auth) error {
	if !a.admin {
		return errorf(http.StatusForbidden, codeForbidden, "the cluster view needs an admin API key")
	}
	st, err := s.engine.ClusterStatus(r.Context())
	if engine.ErrNoCluster(err) {
		writeJSON(w, http.StatusOK, map[string]any{"mode": "single", "nodes": []clusterNode{}})
		return nil
	}
	if err != nil {
		return err
	}
	now := s.clock.Now()
	byID := map[string]*clusterNode{}
	nodes := make([]*clusterNode, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		cn := &clusterNode{ID: n.ID, Addr: n.Addr, Self: n.ID == st.Self, StartedAt: wire.TimeOf(n.StartedAt), HeartbeatAt: wire.TimeOf(n.HeartbeatAt),
			Buckets: []int{}, LeaseAgeMS: now.Sub(n.HeartbeatAt).Milliseconds()}
		byID[n.ID] = cn
		nodes = append(nodes, cn)
	}
	unowned := []int{}
	for _, o := range st.Owners {
		if cn := byID[o.NodeID]; cn != nil && o.LeaseUntil.After(now) {
			cn.Buckets = append(cn.Buckets, o.Bucket)
		} else {
			unowned = append(unowned, o.Bucket)
		}
	}
	for _, cn := range nodes {
		sort.Ints(cn.Buckets)
	}
	writeJSON(w, http.StatusOK, map[string]any{"mode": "cluster", "self": st.Self, "nodes": nodes, "unowned_buckets": unowned})
	return nil
}
