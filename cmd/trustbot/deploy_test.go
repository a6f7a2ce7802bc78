package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The deployment files live in deploy/ at the root of the repository; these
// tests check them against what the program does, so that they cannot drift
// apart unnoticed.
const deployDir = "../../deploy"

// k8sDoc is one YAML document of deploy/k8s, with the fields the tests read.
type k8sDoc struct {
	File       string
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	node yaml.Node
}

type k8sSecurityContext struct {
	RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	RunAsUser                *int  `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

type k8sContainer struct {
	Name  string `yaml:"name"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name     string `yaml:"name"`
				Key      string `yaml:"key"`
				Optional bool   `yaml:"optional"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	LivenessProbe   *k8sProbe          `yaml:"livenessProbe"`
	ReadinessProbe  *k8sProbe          `yaml:"readinessProbe"`
	SecurityContext k8sSecurityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type k8sVolume struct {
	Name                  string `yaml:"name"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
		Items      []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"secret"`
	EmptyDir any `yaml:"emptyDir"`
}

type k8sDeployment struct {
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Spec struct {
				SecurityContext k8sSecurityContext `yaml:"securityContext"`
				Containers      []k8sContainer     `yaml:"containers"`
				Volumes         []k8sVolume        `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// readK8s parses every document of every deploy/k8s/*.yaml.
func readK8s(t *testing.T) []k8sDoc { return readK8sDir(t, "k8s") }

// readK8sDir parses every document of every deploy/DIR/*.yaml.
func readK8sDir(t *testing.T, dir string) []k8sDoc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no manifests in %s/%s", deployDir, dir)
	}
	var docs []k8sDoc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var d k8sDoc
			if err := dec.Decode(&d.node); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := d.node.Decode(&d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d.File = filepath.Base(f)
			if d.APIVersion == "" || d.Kind == "" {
				t.Errorf("%s: a document without apiVersion or kind", d.File)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

// TestDeployKubernetes checks the manifests of one replica on a SQLite
// file (deploy/k8s) and of three replicas on PostgreSQL
// (deploy/k8s-postgres).
func TestDeployKubernetes(t *testing.T) {
	t.Run("k8s", func(t *testing.T) { checkK8s(t, "k8s", false) })
	t.Run("k8s-postgres", func(t *testing.T) { checkK8s(t, "k8s-postgres", true) })
}

// checkK8s checks the manifests of deploy/DIR: shared, several replicas
// on PostgreSQL, else one replica on a SQLite file.
func checkK8s(t *testing.T, dir string, shared bool) {
	docs := readK8sDir(t, dir)
	var deps []k8sDoc
	byKind := map[string]k8sDoc{}
	for _, d := range docs {
		if d.Kind == "Deployment" {
			deps = append(deps, d)
		}
		byKind[d.Kind] = d
	}
	if len(deps) != 1 {
		t.Fatalf("want exactly one Deployment in deploy/k8s, found %d", len(deps))
	}
	var dep k8sDeployment
	if err := deps[0].node.Decode(&dep); err != nil {
		t.Fatal(err)
	}
	spec := dep.Spec.Template.Spec

	// SQLite has one writer: one replica, and the old pod gone before the
	// new one starts. On PostgreSQL: three, replaced one at a time with
	// one more started first, and a disruption budget of one.
	replicas, strategy := 1, "Recreate"
	if shared {
		replicas, strategy = 3, "RollingUpdate"
	}
	if r := dep.Spec.Replicas; r == nil || *r != replicas {
		got := "unset"
		if r != nil {
			got = strconv.Itoa(*r)
		}
		t.Errorf("Deployment replicas = %s, want %d", got, replicas)
	}
	if dep.Spec.Strategy.Type != strategy {
		t.Errorf("Deployment strategy = %q, want %s", dep.Spec.Strategy.Type, strategy)
	}
	if shared {
		checkRolling(t, deps[0], byKind)
	}
	if len(spec.Containers) == 0 {
		t.Fatal("Deployment has no containers")
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	if !isTrue(spec.SecurityContext.RunAsNonRoot) {
		t.Error("pod securityContext: runAsNonRoot must be true")
	}
	if u := spec.SecurityContext.RunAsUser; u == nil || *u == 0 {
		t.Error("pod securityContext: runAsUser must be a non-root UID")
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if !isTrue(sc.RunAsNonRoot) && !isTrue(spec.SecurityContext.RunAsNonRoot) {
			t.Errorf("container %s: runAsNonRoot must be true", c.Name)
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			t.Errorf("container %s: readOnlyRootFilesystem must be true", c.Name)
		}
		if !isFalse(sc.AllowPrivilegeEscalation) {
			t.Errorf("container %s: allowPrivilegeEscalation must be false", c.Name)
		}
		if !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("container %s: capabilities must drop ALL", c.Name)
		}
	}

	c := spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		if e.Value != nil {
			env[e.Name] = *e.Value
		}
	}
	// The probes must reach the port trustbot listens on.
	_, listen, ok := strings.Cut(env["TRUSTBOT_HTTP_ADDR"], ":")
	if !ok {
		t.Fatalf("container %s: TRUSTBOT_HTTP_ADDR = %q, want a value such as :8080", c.Name, env["TRUSTBOT_HTTP_ADDR"])
	}
	portOf := func(p any) string {
		switch p := p.(type) {
		case int:
			return strconv.Itoa(p)
		case string:
			for _, cp := range c.Ports {
				if cp.Name == p {
					return strconv.Itoa(cp.ContainerPort)
				}
			}
		}
		return ""
	}
	for _, p := range []struct {
		name  string
		probe *k8sProbe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("container %s: want an httpGet %s on %s", c.Name, p.name, p.path)
		case p.probe.HTTPGet.Path != p.path:
			t.Errorf("container %s: %s path = %q, want %q", c.Name, p.name, p.probe.HTTPGet.Path, p.path)
		case portOf(p.probe.HTTPGet.Port) != listen:
			t.Errorf("container %s: %s port %v is not TRUSTBOT_HTTP_ADDR's %s", c.Name, p.name, p.probe.HTTPGet.Port, listen)
		}
	}

	// Teams' public port: a container port of its own, never the one of
	// the probes and /metrics; the Services keep the two apart, and an
	// Ingress reaches the public one only.
	_, public, ok := strings.Cut(env["TRUSTBOT_PUBLIC_ADDR"], ":")
	switch {
	case !ok || public == "":
		t.Errorf("container %s: TRUSTBOT_PUBLIC_ADDR = %q, want a value such as :3978", c.Name, env["TRUSTBOT_PUBLIC_ADDR"])
	case public == listen:
		t.Errorf("container %s: TRUSTBOT_PUBLIC_ADDR and TRUSTBOT_HTTP_ADDR share port %s: the public port must never serve /metrics", c.Name, public)
	case !slices.ContainsFunc(c.Ports, func(p struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	}) bool {
		return strconv.Itoa(p.ContainerPort) == public
	}):
		t.Errorf("container %s declares no port %s (TRUSTBOT_PUBLIC_ADDR)", c.Name, public)
	}
	// The replicas' manifests name the SQLite ones' Ingress example.
	checkServices(t, docs, portOf, listen, public, !shared)

	if shared {
		checkSharedDB(t, c, spec.Volumes, byKind)
	} else {
		checkSQLiteVolume(t, c, spec.Volumes, env, byKind)
	}
	checkSecretAndKustomization(t, dir, docs, c, byKind)
}

// checkRolling: a rolling update replaces one replica at a time, a new
// one started before an old one stops (never fewer ready than asked
// for, and at most one Socket Mode connection more than the replicas:
// Slack allows ten per app), and a PodDisruptionBudget lets one go at a
// time.
func checkRolling(t *testing.T, dep k8sDoc, byKind map[string]k8sDoc) {
	t.Helper()
	var d struct {
		Spec struct {
			Replicas int `yaml:"replicas"`
			Strategy struct {
				RollingUpdate struct {
					MaxSurge       any `yaml:"maxSurge"`
					MaxUnavailable any `yaml:"maxUnavailable"`
				} `yaml:"rollingUpdate"`
			} `yaml:"strategy"`
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	if err := dep.node.Decode(&d); err != nil {
		t.Fatal(err)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if ru.MaxSurge != 1 || ru.MaxUnavailable != 0 {
		t.Errorf("%s: rollingUpdate maxSurge %v, maxUnavailable %v; want 1 and 0", dep.File, ru.MaxSurge, ru.MaxUnavailable)
	}
	if d.Spec.Replicas+1 > 10 {
		t.Errorf("%s: %d replicas and one more during a rollout pass Slack's 10 Socket Mode connections per app", dep.File, d.Spec.Replicas)
	}
	pdbDoc, ok := byKind["PodDisruptionBudget"]
	if !ok {
		t.Fatalf("no PodDisruptionBudget beside %s", dep.File)
	}
	var pdb struct {
		Spec struct {
			MaxUnavailable any `yaml:"maxUnavailable"`
			MinAvailable   any `yaml:"minAvailable"`
			Selector       struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	if err := pdbDoc.node.Decode(&pdb); err != nil {
		t.Fatal(err)
	}
	if pdb.Spec.MaxUnavailable != 1 || pdb.Spec.MinAvailable != nil {
		t.Errorf("%s: PodDisruptionBudget maxUnavailable %v, minAvailable %v; want maxUnavailable 1 alone", pdbDoc.File, pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable)
	}
	if !maps.Equal(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
		t.Errorf("%s: the budget selects %v, the Deployment's pods are %v", pdbDoc.File, pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels)
	}
}

// checkSharedDB: the replicas keep nothing on disk (no claimed volume);
// the database URL comes from the Secret as a file named by
// TRUSTBOT_DB_FILE, and the example Secret holds a postgres:// URL.
func checkSharedDB(t *testing.T, c k8sContainer, volumes []k8sVolume, byKind map[string]k8sDoc) {
	t.Helper()
	if _, ok := byKind["PersistentVolumeClaim"]; ok {
		t.Error("a PersistentVolumeClaim beside replicas on PostgreSQL: they keep nothing on disk")
	}
	var file string
	for _, e := range c.Env {
		switch {
		case e.Name == "TRUSTBOT_DB":
			t.Error("TRUSTBOT_DB set in the Deployment: the URL holds the password, it comes from the Secret through TRUSTBOT_DB_FILE")
		case e.Name == "TRUSTBOT_DB_FILE" && e.Value != nil:
			file = *e.Value
		}
	}
	if file == "" {
		t.Fatal("no TRUSTBOT_DB_FILE in the Deployment")
	}
	secret := byKind["Secret"]
	found := false
	for _, m := range c.VolumeMounts {
		for _, v := range volumes {
			if v.PersistentVolumeClaim != nil {
				t.Errorf("volume %s: a claimed volume on a replica", v.Name)
			}
			if v.Name != m.Name || v.Secret == nil || v.Secret.SecretName != secret.Metadata.Name {
				continue
			}
			for _, it := range v.Secret.Items {
				if it.Key == "TRUSTBOT_DB" && strings.TrimSuffix(m.MountPath, "/")+"/"+it.Path == file {
					found = true
				}
			}
		}
	}
	if !found {
		t.Errorf("TRUSTBOT_DB_FILE %s is not the Secret %s's key TRUSTBOT_DB mounted as a file", file, secret.Metadata.Name)
	}
	var sec struct {
		StringData map[string]string `yaml:"stringData"`
	}
	if err := secret.node.Decode(&sec); err != nil {
		t.Fatal(err)
	}
	if dbKind(sec.StringData["TRUSTBOT_DB"]) != Postgres {
		t.Errorf("%s: TRUSTBOT_DB = %q, want a postgres:// URL", secret.File, sec.StringData["TRUSTBOT_DB"])
	}
}

// checkSQLiteVolume: the database file is on the claimed volume.
func checkSQLiteVolume(t *testing.T, c k8sContainer, volumes []k8sVolume, env map[string]string, byKind map[string]k8sDoc) {
	t.Helper()
	db := env["TRUSTBOT_DB"]
	if !filepath.IsAbs(db) {
		t.Errorf("container %s: TRUSTBOT_DB = %q, want an absolute path on the volume", c.Name, db)
	}
	pvc, ok := byKind["PersistentVolumeClaim"]
	if !ok {
		t.Fatal("no PersistentVolumeClaim in deploy/k8s")
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range volumes {
			if v.Name == m.Name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Metadata.Name &&
				strings.HasPrefix(db, strings.TrimSuffix(m.MountPath, "/")+"/") {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("TRUSTBOT_DB %s is not on a volume from the claim %s", db, pvc.Metadata.Name)
	}
}

// checkSecretAndKustomization: every required key the Deployment takes
// from the Secret is in the example, and the kustomization lists every
// manifest but the examples.
func checkSecretAndKustomization(t *testing.T, dir string, docs []k8sDoc, c k8sContainer, byKind map[string]k8sDoc) {
	t.Helper()

	// Every required key the Deployment takes from the Secret is in the example.
	secret, ok := byKind["Secret"]
	if !ok {
		t.Fatalf("no example Secret in deploy/%s", dir)
	}
	var sec struct {
		StringData map[string]string `yaml:"stringData"`
	}
	if err := secret.node.Decode(&sec); err != nil {
		t.Fatal(err)
	}
	// Applied as it is, the example must not stop trustbot at start: an
	// optional key is commented out, not a placeholder trustbot refuses.
	if _, err := LoadConfig(func(k string) string { return sec.StringData[k] }); err != nil {
		t.Errorf("%s as it is makes trustbot refuse to start: %v", secret.File, err)
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != secret.Metadata.Name {
			t.Errorf("env %s comes from Secret %q, the example is %q", e.Name, ref.Name, secret.Metadata.Name)
		}
		if _, ok := sec.StringData[ref.Key]; !ok && !ref.Optional {
			t.Errorf("env %s needs key %s, missing from %s", e.Name, ref.Key, secret.File)
		}
	}

	// The kustomization lists every manifest but the example Secret.
	kust, ok := byKind["Kustomization"]
	if !ok {
		t.Fatalf("no kustomization.yaml in deploy/%s", dir)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := kust.node.Decode(&k); err != nil {
		t.Fatal(err)
	}
	// Examples (the Secret, the Ingress) are adapted and applied by hand.
	for _, d := range docs {
		listed := slices.Contains(k.Resources, d.File)
		example := strings.HasSuffix(d.File, ".example.yaml")
		switch {
		case d.File == kust.File:
		case d.Kind == "Secret" && (listed || !example):
			t.Errorf("%s: secrets must not be applied from the repository (keep the Secret in an example file that %s does not list)", d.File, kust.File)
		case example && listed:
			t.Errorf("%s lists %s: an example is adapted and applied by hand", kust.File, d.File)
		case !example && !listed:
			t.Errorf("%s does not list %s", kust.File, d.File)
		}
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(deployDir, dir, r)); err != nil {
			t.Errorf("%s: %v", kust.File, err)
		}
	}
}

// checkServices: each Service reaches either the internal port (probes,
// /metrics) or the public one (Teams), never both; one reaches the public
// port; and every Ingress routes only to a Service on the public port.
// portOf resolves a container port's name or number.
func checkServices(t *testing.T, docs []k8sDoc, portOf func(any) string, internal, public string, needIngress bool) {
	t.Helper()
	type service struct {
		Spec struct {
			Ports []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort any    `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	// reaches maps a Service's name and its port (name or number) to the
	// container port it forwards to.
	reaches := map[string]map[string]string{}
	publicServices := 0
	for _, d := range docs {
		if d.Kind != "Service" {
			continue
		}
		var svc service
		if err := d.node.Decode(&svc); err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		ports := map[string]string{}
		targets := map[string]bool{}
		for _, p := range svc.Spec.Ports {
			target := p.TargetPort
			if target == nil {
				target = p.Port
			}
			cp := portOf(target)
			if cp == "" {
				t.Errorf("%s: Service %s port %d forwards to %v, which the container does not declare", d.File, d.Metadata.Name, p.Port, target)
			}
			targets[cp] = true
			ports[strconv.Itoa(p.Port)] = cp
			if p.Name != "" {
				ports[p.Name] = cp
			}
		}
		reaches[d.Metadata.Name] = ports
		if targets[public] {
			publicServices++
			if targets[internal] {
				t.Errorf("%s: Service %s reaches both the public port %s and %s, which serves /metrics: give each its own Service", d.File, d.Metadata.Name, public, internal)
			}
		}
	}
	if publicServices == 0 {
		t.Errorf("no Service reaches the public port %s", public)
	}

	type backend struct {
		Service *struct {
			Name string `yaml:"name"`
			Port struct {
				Name   string `yaml:"name"`
				Number int    `yaml:"number"`
			} `yaml:"port"`
		} `yaml:"service"`
	}
	ingresses := 0
	for _, d := range docs {
		if d.Kind != "Ingress" {
			continue
		}
		ingresses++
		var ing struct {
			Spec struct {
				DefaultBackend *backend `yaml:"defaultBackend"`
				Rules          []struct {
					HTTP struct {
						Paths []struct {
							Path    string  `yaml:"path"`
							Backend backend `yaml:"backend"`
						} `yaml:"paths"`
					} `yaml:"http"`
				} `yaml:"rules"`
			} `yaml:"spec"`
		}
		if err := d.node.Decode(&ing); err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		var backends []backend
		if ing.Spec.DefaultBackend != nil {
			backends = append(backends, *ing.Spec.DefaultBackend)
		}
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				backends = append(backends, p.Backend)
			}
		}
		if len(backends) == 0 {
			t.Errorf("%s: Ingress %s routes nowhere", d.File, d.Metadata.Name)
		}
		for _, b := range backends {
			if b.Service == nil {
				t.Errorf("%s: Ingress %s has a backend that is not a Service", d.File, d.Metadata.Name)
				continue
			}
			port := b.Service.Port.Name
			if port == "" {
				port = strconv.Itoa(b.Service.Port.Number)
			}
			if got := reaches[b.Service.Name][port]; got != public {
				t.Errorf("%s: Ingress %s routes to Service %s port %s, which reaches %q: only the public port %s may be exposed", d.File, d.Metadata.Name, b.Service.Name, port, got, public)
			}
		}
	}
	if ingresses == 0 && needIngress {
		t.Error("no example Ingress in deploy/k8s for Teams' public port")
	}
}

// documentedEnv is every variable deploy/trustbot.env.example must list,
// besides those found in the code.
var documentedEnv = []string{
	"TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_APP_PASSWORD_FILE", "TEAMS_TENANT_ID",
	"TEAMS_OPENID_METADATA_URL", "TEAMS_TOKEN_URL", "TEAMS_DEV",
	"TRUSTBOT_PUBLIC_ADDR", "TRUSTBOT_PUBLIC_URL",
	"SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN_FILE",
	"SLACK_APP_TOKEN", "SLACK_APP_TOKEN_FILE",
	"SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_FILE",
	"SLACK_CLIENT_ID", "SLACK_CLIENT_ID_FILE", "SLACK_CLIENT_SECRET", "SLACK_CLIENT_SECRET_FILE", "SLACK_AUTHORIZE_URL",
	"SLACK_API_URL",
	"TRUSTBOT_DB", "TRUSTBOT_DB_FILE", "TRUSTBOT_HTTP_ADDR", "TRUSTBOT_PLAYBOOKS_DIR",
	"TRUSTBOT_DEFAULT_LANG", "TRUSTBOT_SEND_RATE", "TRUSTBOT_ADMINS",
	"TRUSTBOT_ENCRYPTION_KEY", "TRUSTBOT_ENCRYPTION_KEY_FILE",
	"TRUSTBOT_ENCRYPTION_OLD_KEYS", "TRUSTBOT_ENCRYPTION_OLD_KEYS_FILE",
	"TRUSTBOT_RETENTION",
	"LOG_LEVEL", "LOG_FORMAT",
}

var (
	// envLiteral is a string literal that names one of trustbot's variables.
	envLiteral = regexp.MustCompile("[\"`]((?:SLACK|TEAMS|TRUSTBOT|LOG)_[A-Z0-9_]*[A-Z0-9])[\"`]")
	// envLine is a variable in the example, set or commented out.
	envLine = regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]+)=(.*)$`)
	// realToken looks like an actual Slack token rather than a placeholder.
	realToken = regexp.MustCompile(`xox[abpre]-[0-9]{5,}|xapp-[0-9]-[A-Z0-9]{5,}`)
)

// codeEnv returns the variables the program reads: string literals in this
// package's non-test sources.
func codeEnv(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envLiteral.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func TestDeployEnvExample(t *testing.T) {
	name := filepath.Join(deployDir, "trustbot.env.example")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	prev := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if realToken.MatchString(line) {
			t.Errorf("%s:%d looks like a real Slack token: use a placeholder", name, n)
		}
		if m := envLine.FindStringSubmatch(line); m != nil {
			v := m[1]
			if listed[v] {
				t.Errorf("%s:%d: %s is listed twice", name, n, v)
			}
			listed[v] = true
			// Each variable has its own description just above it.
			if !strings.HasPrefix(prev, "#") || envLine.MatchString(prev) {
				t.Errorf("%s:%d: %s has no comment line above it", name, n, v)
			}
			if !strings.HasPrefix(line, "#") && strings.HasPrefix(v, "TRUSTBOT_ENCRYPTION_") && m[2] != "" {
				t.Errorf("%s:%d: %s must not hold a value in the example", name, n, v)
			}
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	inCode := codeEnv(t)
	if len(inCode) == 0 {
		t.Fatal("found no variables in the code: is the pattern still right?")
	}
	want := slices.Concat(inCode, documentedEnv)
	slices.Sort(want)
	for _, v := range slices.Compact(want) {
		if !listed[v] {
			t.Errorf("%s does not list %s", name, v)
		}
	}
}

// unitSettings returns the Key=Value lines of a systemd unit's [Service]
// section; a key set twice keeps its last value, as systemd does for these.
func unitSettings(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	section := ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			settings[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return settings
}

// unitEnvironment returns the variables a unit's Environment= lines set.
func unitEnvironment(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Environment="); ok {
			for _, kv := range strings.Fields(v) {
				k, val, _ := strings.Cut(kv, "=")
				env[k] = val
			}
		}
	}
	return env
}

func TestDeploySystemd(t *testing.T) {
	name := filepath.Join(deployDir, "systemd", "trustbot.service")
	// The public address is set by the unit and is a real listen address
	// (host:port) that trustbot accepts.
	env := unitEnvironment(t, name)
	if _, _, err := net.SplitHostPort(env["TRUSTBOT_PUBLIC_ADDR"]); err != nil {
		t.Errorf("%s: Environment=TRUSTBOT_PUBLIC_ADDR=%q: want host:port such as 127.0.0.1:3978", name, env["TRUSTBOT_PUBLIC_ADDR"])
	}
	if _, err := LoadConfig(func(k string) string { return env[k] }); err != nil {
		t.Errorf("%s: its Environment= lines make trustbot refuse to start: %v", name, err)
	}
	s := unitSettings(t, name)
	for k, want := range map[string]string{
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"DynamicUser":             "yes",
		"StateDirectory":          "trustbot",
		"WorkingDirectory":        "/var/lib/trustbot",
		"ExecStart":               "/usr/local/bin/trustbot serve",
		"KillSignal":              "SIGTERM",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	} {
		got, ok := s[k]
		if !ok || got != want {
			t.Errorf("%s: %s=%q, want %q", name, k, got, want)
		}
	}
}

// TestDeploySystemdReplica: the unit of a replica on PostgreSQL is the
// same hardened service, keeps nothing on the host, and reads the
// database URL from a credential of its own, never the environment file.
func TestDeploySystemdReplica(t *testing.T) {
	name := filepath.Join(deployDir, "systemd", "trustbot-replica.service")
	one := unitSettings(t, filepath.Join(deployDir, "systemd", "trustbot.service"))
	s := unitSettings(t, name)
	for k, v := range one {
		switch k {
		case "StateDirectory", "StateDirectoryMode", "WorkingDirectory", "Description", "Environment", "LoadCredential":
			continue
		}
		if s[k] != v {
			t.Errorf("%s: %s=%q, trustbot.service has %q", name, k, s[k], v)
		}
	}
	if _, ok := s["StateDirectory"]; ok {
		t.Errorf("%s: a replica keeps nothing on the host: no StateDirectory", name)
	}
	env := unitEnvironment(t, name)
	cred, _, _ := strings.Cut(s["LoadCredential"], ":")
	if cred == "" || env["TRUSTBOT_DB_FILE"] != "%d/"+cred {
		t.Errorf("%s: TRUSTBOT_DB_FILE=%q, LoadCredential=%q: want the URL from the unit's credential", name, env["TRUSTBOT_DB_FILE"], s["LoadCredential"])
	}
	if _, _, err := net.SplitHostPort(env["TRUSTBOT_PUBLIC_ADDR"]); err != nil {
		t.Errorf("%s: Environment=TRUSTBOT_PUBLIC_ADDR=%q: want host:port", name, env["TRUSTBOT_PUBLIC_ADDR"])
	}
}

func TestDeployDockerfile(t *testing.T) {
	name := filepath.Join(deployDir, "Dockerfile")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	// The instructions of the final stage: after the last FROM, each with
	// its continuation lines joined.
	var final [][2]string
	pending := ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		instr, arg, _ := strings.Cut(line, " ")
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			final = nil
		}
		final = append(final, [2]string{instr, strings.TrimSpace(arg)})
	}
	if len(final) == 0 || final[0][1] != "scratch" {
		t.Fatalf("%s: the final stage must be FROM scratch", name)
	}
	user := ""
	env := map[string]string{}
	var exposed []string
	for _, in := range final {
		switch in[0] {
		case "USER":
			user = in[1]
		case "ENV":
			for _, kv := range strings.Fields(in[1]) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "EXPOSE":
			for _, p := range strings.Fields(in[1]) {
				exposed = append(exposed, strings.TrimSuffix(p, "/tcp"))
			}
		}
	}
	// The internal port and Teams' public port: both set, both exposed,
	// never the same.
	var ports []string
	for _, v := range []string{"TRUSTBOT_HTTP_ADDR", "TRUSTBOT_PUBLIC_ADDR"} {
		_, port, ok := strings.Cut(env[v], ":")
		if !ok || port == "" {
			t.Errorf("%s: final stage ENV %s=%q, want an address such as :3978", name, v, env[v])
			continue
		}
		if !slices.Contains(exposed, port) {
			t.Errorf("%s: %s's port %s is not in EXPOSE %v", name, v, port, exposed)
		}
		ports = append(ports, port)
	}
	if len(ports) == 2 && ports[0] == ports[1] {
		t.Errorf("%s: TRUSTBOT_HTTP_ADDR and TRUSTBOT_PUBLIC_ADDR share port %s: the public port must never serve /metrics", name, ports[0])
	}
	// scratch has no /etc/passwd: the user must be numeric, and not root.
	uid, gid, hasGroup := strings.Cut(user, ":")
	numeric := func(id string) bool {
		n, err := strconv.Atoi(id)
		return err == nil && n > 0
	}
	if !numeric(uid) || hasGroup && !numeric(gid) {
		t.Errorf("%s: final stage USER %q, want a numeric non-root user such as 65532:65532", name, user)
	}
}

// stopGrace finds every stop grace period the deployment files and docs
// give, in seconds, by where it was found.
var stopGrace = []struct {
	file string
	re   *regexp.Regexp
}{
	{"deploy/systemd/trustbot.service", regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)`)},
	{"deploy/k8s/deployment.yaml", regexp.MustCompile(`terminationGracePeriodSeconds: (\d+)`)},
	{"deploy/k8s-postgres/deployment.yaml", regexp.MustCompile(`terminationGracePeriodSeconds: (\d+)`)},
	{"deploy/systemd/trustbot-replica.service", regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)`)},
	{"deploy/Dockerfile", regexp.MustCompile(`--stop-timeout (\d+)`)},
	{"deploy/Dockerfile", regexp.MustCompile(`docker stop -t (\d+)`)},
	{"docs/operations.md", regexp.MustCompile(`TimeoutStopSec=(\d+)`)},
	{"docs/operations.md", regexp.MustCompile(`terminationGracePeriodSeconds: (\d+)`)},
	{"docs/operations.md", regexp.MustCompile(`docker stop -t (\d+)`)},
	{"README.md", regexp.MustCompile(`give it\s+(\d+) seconds`)},
}

// TestDeployStopGrace: the unit, the Deployment, the Dockerfile and the
// docs give the same time to stop, and it covers what serve may take.
func TestDeployStopGrace(t *testing.T) {
	want := 0
	for _, g := range stopGrace {
		b, err := os.ReadFile(filepath.Join("../..", g.file))
		if err != nil {
			t.Fatal(err)
		}
		ms := g.re.FindAllSubmatch(b, -1)
		if len(ms) == 0 {
			t.Errorf("%s: no stop grace period matching %s", g.file, g.re)
		}
		for _, m := range ms {
			n, _ := strconv.Atoi(string(m[1]))
			if want == 0 {
				want = n
			}
			if n != want {
				t.Errorf("%s: %q gives %d s to stop, elsewhere %d s", g.file, m[0], n, want)
			}
		}
	}
	// serve waits for the dispatcher at most shutdownTime after the
	// socket's workers are done (up to 10 s): leave room beyond both.
	if min := int((shutdownTime + 10*time.Second + 5*time.Second) / time.Second); want < min {
		t.Errorf("a stop grace period of %d s is shorter than the %d s serve may need", want, min)
	}
}

// publicPort finds the public port each deployment file and doc gives
// TRUSTBOT_PUBLIC_ADDR, by where it was found.
var publicPort = []struct {
	file string
	re   *regexp.Regexp
}{
	{"deploy/Dockerfile", regexp.MustCompile(`TRUSTBOT_PUBLIC_ADDR=[^\s:]*:(\d+)`)},
	{"deploy/Dockerfile", regexp.MustCompile(`add -p (?:[0-9.]+:)?(\d+):\d+`)},
	{"deploy/systemd/trustbot.service", regexp.MustCompile(`(?m)^Environment=TRUSTBOT_PUBLIC_ADDR=[^\s:]*:(\d+)`)},
	{"deploy/trustbot.env.example", regexp.MustCompile(`TRUSTBOT_PUBLIC_ADDR=[^\s:]*:(\d+)`)},
	{"deploy/k8s/deployment.yaml", regexp.MustCompile(`name: TRUSTBOT_PUBLIC_ADDR\s+value: "[^":]*:(\d+)"`)},
	{"deploy/k8s/deployment.yaml", regexp.MustCompile(`- name: public\s+containerPort: (\d+)`)},
	{"deploy/k8s-postgres/deployment.yaml", regexp.MustCompile(`name: TRUSTBOT_PUBLIC_ADDR\s+value: "[^":]*:(\d+)"`)},
	{"deploy/k8s-postgres/deployment.yaml", regexp.MustCompile(`- name: public\s+containerPort: (\d+)`)},
	{"deploy/k8s-postgres/service-public.yaml", regexp.MustCompile(`port: (\d+)`)},
	{"deploy/systemd/trustbot-replica.service", regexp.MustCompile(`(?m)^Environment=TRUSTBOT_PUBLIC_ADDR=[^\s:]*:(\d+)`)},
	{"deploy/k8s/service-public.yaml", regexp.MustCompile(`port: (\d+)`)},
	{"docs/operations.md", regexp.MustCompile(`TRUSTBOT_PUBLIC_ADDR=[^\s:]*:(\d+)`)},
	{"README.md", regexp.MustCompile(`TRUSTBOT_PUBLIC_ADDR=[^\s:]*:(\d+)`)},
}

// TestDeployPublicPort: the image, the unit, the example environment, the
// Kubernetes files and the docs give Teams the same public port, and it is
// not the internal one.
func TestDeployPublicPort(t *testing.T) {
	want := ""
	for _, g := range publicPort {
		b, err := os.ReadFile(filepath.Join("../..", g.file))
		if err != nil {
			t.Fatal(err)
		}
		ms := g.re.FindAllSubmatch(b, -1)
		if len(ms) == 0 {
			t.Errorf("%s: no public port matching %s", g.file, g.re)
		}
		for _, m := range ms {
			port := string(m[1])
			if want == "" {
				want = port
			}
			if port != want {
				t.Errorf("%s: %q gives the public port %s, elsewhere %s", g.file, m[0], port, want)
			}
		}
	}
}

// TestOperationsRestoreRecipe: the Kubernetes restore in
// docs/operations.md mounts the claim and the path the Deployment uses,
// as the Deployment's user, and names the Deployment and its pods as
// deploy/k8s does.
func TestOperationsRestoreRecipe(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, rest, ok := strings.Cut(doc, "kubectl apply -f - <<'EOF'\n")
	manifest, _, ok2 := strings.Cut(rest, "   EOF\n")
	if !ok || !ok2 {
		t.Fatal("no restore pod manifest (kubectl apply -f - <<'EOF' … EOF) in docs/operations.md")
	}
	var lines []string
	for l := range strings.Lines(manifest) {
		lines = append(lines, strings.TrimPrefix(l, "   "))
	}
	var pod struct {
		Kind string `yaml:"kind"`
		Spec struct {
			SecurityContext k8sSecurityContext `yaml:"securityContext"`
			Containers      []k8sContainer     `yaml:"containers"`
			Volumes         []struct {
				Name                  string `yaml:"name"`
				PersistentVolumeClaim *struct {
					ClaimName string `yaml:"claimName"`
				} `yaml:"persistentVolumeClaim"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(strings.Join(lines, "")), &pod); err != nil {
		t.Fatalf("restore pod manifest: %v", err)
	}
	var dep k8sDeployment
	var depName, pvcName string
	var depLabels map[string]string
	for _, d := range readK8s(t) {
		switch d.Kind {
		case "Deployment":
			depName = d.Metadata.Name
			d.node.Decode(&dep)
			var sel struct {
				Spec struct {
					Selector struct {
						MatchLabels map[string]string `yaml:"matchLabels"`
					} `yaml:"selector"`
				} `yaml:"spec"`
			}
			d.node.Decode(&sel)
			depLabels = sel.Spec.Selector.MatchLabels
		case "PersistentVolumeClaim":
			pvcName = d.Metadata.Name
		}
	}
	if pod.Kind != "Pod" || len(pod.Spec.Containers) != 1 || len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].PersistentVolumeClaim == nil {
		t.Fatalf("restore manifest: want a Pod with one container and the claim as its volume: %+v", pod)
	}
	if c := pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName; c != pvcName {
		t.Errorf("the restore pod mounts claim %q, deploy/k8s has %q", c, pvcName)
	}
	depSpec := dep.Spec.Template.Spec
	if u, w := pod.Spec.SecurityContext.RunAsUser, depSpec.SecurityContext.RunAsUser; u == nil || w == nil || *u != *w {
		t.Errorf("the restore pod runs as another user than trustbot")
	}
	var db string
	for _, e := range depSpec.Containers[0].Env {
		if e.Name == "TRUSTBOT_DB" && e.Value != nil {
			db = *e.Value
		}
	}
	mounts := pod.Spec.Containers[0].VolumeMounts
	if len(mounts) != 1 || filepath.Dir(db) != mounts[0].MountPath {
		t.Errorf("the restore pod mounts %+v; trustbot's database is %s", mounts, db)
	}
	for _, want := range []string{
		"kubectl scale deploy/" + depName + " --replicas=0",
		"kubectl scale deploy/" + depName + " --replicas=1",
		"kubectl exec deploy/" + depName + " -- /trustbot backup - >",
		"rm -f " + filepath.Base(db) + "-wal " + filepath.Base(db) + "-shm",
		"mv restore.db " + filepath.Base(db),
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/operations.md lacks %q", want)
		}
	}
	for k, v := range depLabels {
		if !strings.Contains(doc, "kubectl wait --for=delete pod -l "+k+"="+v) {
			t.Errorf("docs/operations.md does not wait for the pods labelled %s=%s to go", k, v)
		}
	}
}
