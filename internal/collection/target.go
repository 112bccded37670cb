package collection

import (
	"strings"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// targetTTL bounds how long the sync executor reuses a subscription and
// its collection's spec once loaded, instead of reading both for every
// attempt. Changes through this process drop them at once (Invalidate);
// changes through another node show within it, as for endpoints
// (delivery's endpointTTL).
const targetTTL = 2 * time.Second

// maxTargets bounds the subscriptions kept; past it they are dropped.
const maxTargets = 100000

// syncTarget is a sync subscription and its collection's spec.
type syncTarget struct {
	sub  store.Subscription
	spec *Spec
}

// target returns the subscription subID of tenantID and its spec when
// they were loaded within targetTTL.
func (s *Service) target(tenantID, subID string) (syncTarget, bool) {
	return s.targets.Get(tenantID+"\x00"+subID, s.cfg.Clock.Now())
}

// keepTarget remembers sub and spec, just loaded, for target.
func (s *Service) keepTarget(sub store.Subscription, spec *Spec) syncTarget {
	tg := syncTarget{sub: sub, spec: spec}
	s.targets.Put(sub.TenantID+"\x00"+sub.ID, tg, s.cfg.Clock.Now())
	return tg
}

// Invalidate drops what the sync executor keeps of tenantID's
// subscriptions and collections, after a change through the API.
func (s *Service) Invalidate(tenantID string) {
	prefix := tenantID + "\x00"
	s.targets.DeleteFunc(func(k string) bool { return strings.HasPrefix(k, prefix) })
}
