package fakeslack

import "strings"

// Enterprise Grid, as Slack runs an app installed for a whole
// organisation:
//
//   - AddOrgWorkspace makes a workspace part of an organisation; its
//     users are the organisation's, known by the same IDs in each of its
//     workspaces.
//   - An admin installs the app for the organisation (Install.OrgWide):
//     oauth.v2.access answers is_enterprise_install with no team, and one
//     token for the organisation.
//   - The app is in no workspace until an admin adds it (GrantTeamAccess,
//     which posts team_access_granted); the token then acts in each
//     workspace added, on the users or conversations a call names (or its
//     team_id), and in no other.
//   - Requests from those workspaces carry enterprise_id and
//     is_enterprise_install, and events an authorization of the
//     organisation's install.
//   - UninstallOrg revokes the organisation's tokens and posts
//     app_uninstalled for the organisation.

// AddOrgWorkspace makes team a workspace of the organisation enterprise.
func (s *Server) AddOrgWorkspace(enterprise, team string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth.orgOf == nil {
		s.oauth.orgOf, s.oauth.granted = map[string]string{}, map[string]bool{}
	}
	s.oauth.orgOf[team] = enterprise
}

// GrantTeamAccess adds an organisation's app to some of its workspaces, as
// an admin does after an org-wide install, and posts team_access_granted
// to the events URL.
func (s *Server) GrantTeamAccess(enterprise string, teams ...string) ([]Delivery, error) {
	s.mu.Lock()
	for _, t := range teams {
		if s.oauth.orgOf[t] == enterprise {
			s.oauth.granted[t] = true
		}
	}
	s.mu.Unlock()
	return s.postOrgEvent(enterprise, "", obj{"type": "team_access_granted", "team_ids": teams})
}

// RevokeTeamAccess takes an organisation's app from some of its
// workspaces and posts team_access_revoked.
func (s *Server) RevokeTeamAccess(enterprise string, teams ...string) ([]Delivery, error) {
	s.mu.Lock()
	for _, t := range teams {
		if s.oauth.orgOf[t] == enterprise {
			delete(s.oauth.granted, t)
		}
	}
	s.mu.Unlock()
	return s.postOrgEvent(enterprise, "", obj{"type": "team_access_revoked", "team_ids": teams})
}

// UninstallOrg removes an organisation's app: its tokens are revoked and
// app_uninstalled is posted for the organisation's install.
func (s *Server) UninstallOrg(enterprise string) ([]Delivery, error) {
	s.mu.Lock()
	for _, m := range []map[string]*issuedToken{s.oauth.tokens, s.oauth.refresh} {
		for _, t := range m {
			if t.team == "" && t.enterprise == enterprise {
				t.revoked = true
			}
		}
	}
	s.mu.Unlock()
	return s.postOrgEvent(enterprise, "", obj{"type": "app_uninstalled"})
}

// sameOrgLocked reports whether two workspaces are of one organisation.
func (s *Server) sameOrgLocked(a, b string) bool {
	e := s.oauth.orgOf[a]
	return e != "" && e == s.oauth.orgOf[b]
}

// orgInstalledLocked reports whether an organisation has the app installed
// for all its workspaces (a token of its install not revoked).
func (s *Server) orgInstalledLocked(enterprise string) bool {
	for _, t := range s.oauth.tokens {
		if t.team == "" && t.enterprise == enterprise && !t.revoked {
			return true
		}
	}
	return false
}

// orgFieldsLocked fills an event's enterprise fields when its workspace
// is of an organisation: enterprise_id, and the authorization of the
// organisation's install when the app came to the workspace through it.
func (s *Server) orgFieldsLocked(cb *eventCallback) {
	e := s.oauth.orgOf[cb.TeamID]
	if e == "" {
		return
	}
	cb.EnterpriseID = e
	a := &cb.Authorizations[0]
	a.EnterpriseID = &e
	if s.oauth.granted[cb.TeamID] && s.orgInstalledLocked(e) {
		a.IsEnterpriseInstall = true
	}
}

// orgTeamLocked returns the workspace a call with an organisation's token
// acts in: its team_id, else the workspace of the users or conversation
// it names; ok is false when that workspace is not one the app was added
// to in the organisation.
func (s *Server) orgTeamLocked(enterprise string, p params) (team string, ok bool) {
	team = p["team_id"]
	if team == "" {
		for _, k := range []string{"user", "users", "channel"} {
			for id := range strings.SplitSeq(p[k], ",") {
				id = strings.TrimPrefix(strings.TrimSpace(id), "D")
				if u, found := s.users[id]; found && team == "" {
					team = u.TeamID
				}
			}
		}
	}
	if team == "" {
		return "", true // a call that names no workspace (auth.test)
	}
	return team, s.oauth.orgOf[team] == enterprise && s.oauth.granted[team]
}
