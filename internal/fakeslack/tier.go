package fakeslack

import (
	"net/http"
	"strconv"
	"time"
)

// Rate tiers as Slack applies them: a method may be called so many times
// per window by each workspace (per token's workspace), and a call beyond
// that is answered 429 with Retry-After, the seconds until the window
// lets one through again. conversations.history is 1 a minute for apps
// distributed outside the Marketplace.

type tier struct {
	n   int
	per time.Duration
}

// SetTier limits method to n calls per window per workspace; n = 0 lifts
// the limit.
func (s *Server) SetTier(method string, n int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tiers == nil {
		s.tiers, s.tierCalls, s.tierLimited = map[string]tier{}, map[string][]time.Time{}, map[string]int{}
	}
	if n <= 0 {
		delete(s.tiers, method)
		return
	}
	s.tiers[method] = tier{n: n, per: per}
}

// TierLimited counts the calls of method answered 429 by its tier.
func (s *Server) TierLimited(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tierLimited[method]
}

// overTier answers 429 to a call beyond its method's tier and reports
// whether it did.
func (s *Server) overTier(w http.ResponseWriter, method, team string) bool {
	s.mu.Lock()
	t, ok := s.tiers[method]
	if !ok {
		s.mu.Unlock()
		return false
	}
	key := team + "/" + method
	now := time.Now()
	calls := s.tierCalls[key]
	for len(calls) > 0 && now.Sub(calls[0]) >= t.per {
		calls = calls[1:]
	}
	if len(calls) >= t.n {
		wait := calls[0].Add(t.per).Sub(now)
		s.tierLimited[method]++
		s.tierCalls[key] = calls
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeErr(w, http.StatusTooManyRequests, fail("ratelimited"))
		return true
	}
	s.tierCalls[key] = append(calls, now)
	s.mu.Unlock()
	return false
}
