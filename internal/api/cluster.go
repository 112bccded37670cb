package api

import (
	"net/http"
	"sort"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/wire"
)

// getCluster serves GET /v1/cluster (admin keys only): live nodes, the
// buckets each owns and how fresh their leases are.
func (s *Server) getCluster(w http.ResponseWriter, r *http.Request, a *auth) error {
	if !a.admin {
		return errorf(http.StatusForbidden, codeForbidden, "the cluster view needs an admin API key")
	}
	st, err := s.engine.ClusterStatus(r.Context())
	if engine.ErrNoCluster(err) {
		answer.JSON(w, http.StatusOK, wire.ClusterStatus{Mode: "single", Nodes: []wire.ClusterNode{}})
		return nil
	}
	if err != nil {
		return err
	}
	now := s.clock.Now()
	byID := map[string]*wire.ClusterNode{}
	nodes := make([]*wire.ClusterNode, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		cn := &wire.ClusterNode{ID: n.ID, Addr: n.Addr, Self: n.ID == st.Self, StartedAt: wire.TimeOf(n.StartedAt), HeartbeatAt: wire.TimeOf(n.HeartbeatAt),
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
	out := wire.ClusterStatus{Mode: "cluster", Self: st.Self, Nodes: make([]wire.ClusterNode, len(nodes)), UnownedBuckets: unowned}
	for i, cn := range nodes {
		out.Nodes[i] = *cn
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}
