// Package deploy_test checks the deployment files of this directory and
// the Dockerfile at the root against the code they run: the variables
// they set are settings the server reads, the probes are routes it
// answers, and the image's build command builds a static binary that
// serves and passes its own HEALTHCHECK. The image itself is built by
// .ci/run where a Docker engine is available.
package deploy_test

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
)

// settingVars are the environment variables `hookline serve` reads.
func settingVars(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	for _, s := range config.Settings() {
		if s.Env != "" {
			vars[s.Env] = true
		}
	}
	require.NotEmpty(t, vars)
	return vars
}

// probePaths answers GET path on a real server: the status of each.
func probeStatus(t *testing.T, paths ...string) map[string]int {
	t.Helper()
	a := apptest.Run(t, apptest.Config(t), app.Options{})
	out := map[string]int{}
	for _, p := range paths {
		res, err := http.Get("http://" + a.Addr() + p)
		require.NoError(t, err)
		res.Body.Close()
		out[p] = res.StatusCode
	}
	return out
}

// TestCompose: the compose file parses, runs two or more nodes on its
// PostgreSQL service with the same encryption key and their own node ids,
// builds the image from the Dockerfile, and sets only real settings.
func TestCompose(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("compose.yaml")
	require.NoError(t, err)
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       map[string]string `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			DependsOn   map[string]any    `yaml:"depends_on"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	pg, ok := doc.Services["postgres"]
	require.True(t, ok, "a postgres service")
	require.NotEmpty(t, pg.Healthcheck, "postgres has a health check the nodes wait for")

	vars := settingVars(t)
	keys, ids, ports := map[string]bool{}, map[string]bool{}, map[string]bool{}
	nodes := 0
	for name, svc := range doc.Services {
		if name == "postgres" {
			continue
		}
		nodes++
		require.Equal(t, "..", svc.Build["context"], name)
		_, err := os.Stat(filepath.Join("..", svc.Build["dockerfile"]))
		require.NoError(t, err, "%s builds from a Dockerfile that exists", name)
		require.Contains(t, svc.DependsOn, "postgres", name)
		for v := range svc.Environment {
			assert.True(t, vars[v], "%s sets %s, which serve does not read", name, v)
		}
		db := svc.Environment["HOOKLINE_DATABASE"]
		require.True(t, app.IsPostgres(db), "%s: HOOKLINE_DATABASE %q", name, db)
		require.Contains(t, db, "@postgres:5432/", "%s reaches the postgres service", name)
		keys[svc.Environment["HOOKLINE_ENCRYPTION_KEY"]] = true
		ids[svc.Environment["HOOKLINE_NODE_ID"]] = true
		require.Len(t, svc.Ports, 1, name)
		require.True(t, strings.HasSuffix(svc.Ports[0], ":8080"), "%s publishes the image's port 8080: %s", name, svc.Ports[0])
		ports[svc.Ports[0]] = true
	}
	require.GreaterOrEqual(t, nodes, 2, "several hookline nodes")
	require.Len(t, keys, 1, "every node has the same encryption key")
	require.Len(t, ids, nodes, "every node has its own node id")
	require.Len(t, ports, nodes, "every node its own host port")
	require.NotContains(t, ids, "")
}

// TestKubernetes: the manifests parse; the Deployment's readiness probe
// is /readyz and its liveness probe /healthz on the container's port, both
// routes a server answers 200; its Secret and variables are settings the
// server reads; the Service targets the container's port.
func TestKubernetes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("kubernetes/hookline.yaml")
	require.NoError(t, err)
	type probe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
	}
	type container struct {
		Name  string `yaml:"name"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name string `yaml:"name"`
		} `yaml:"env"`
		EnvFrom []struct {
			SecretRef struct {
				Name string `yaml:"name"`
			} `yaml:"secretRef"`
		} `yaml:"envFrom"`
		ReadinessProbe  probe `yaml:"readinessProbe"`
		LivenessProbe   probe `yaml:"livenessProbe"`
		SecurityContext struct {
			ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
	}
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		StringData map[string]string `yaml:"stringData"`
		Spec       struct {
			Template struct {
				Spec struct {
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
						RunAsUser    int  `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []container `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
			Ports []struct {
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	objs := map[string]object{}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		objs[o.Kind] = o
	}
	require.Contains(t, objs, "Secret")
	require.Contains(t, objs, "Deployment")
	require.Contains(t, objs, "Service")

	vars := settingVars(t)
	secret := objs["Secret"]
	for k := range secret.StringData {
		assert.True(t, vars[k], "the Secret holds %s, which serve does not read", k)
	}
	require.Contains(t, secret.StringData, "HOOKLINE_ENCRYPTION_KEY")
	require.Contains(t, secret.StringData, "HOOKLINE_DATABASE")

	pod := objs["Deployment"].Spec.Template.Spec
	require.True(t, pod.SecurityContext.RunAsNonRoot)
	require.Equal(t, 65532, pod.SecurityContext.RunAsUser, "the image's user")
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	require.True(t, c.SecurityContext.ReadOnlyRootFilesystem)
	require.Len(t, c.EnvFrom, 1)
	require.Equal(t, secret.Metadata.Name, c.EnvFrom[0].SecretRef.Name)
	for _, e := range c.Env {
		assert.True(t, vars[e.Name], "the container sets %s, which serve does not read", e.Name)
	}
	require.Len(t, c.Ports, 1)
	port := c.Ports[0]
	require.Equal(t, 8080, port.ContainerPort, "the image's port")
	require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	require.Equal(t, port.Name, c.ReadinessProbe.HTTPGet.Port)
	require.Equal(t, port.Name, c.LivenessProbe.HTTPGet.Port)
	require.Equal(t, port.Name, objs["Service"].Spec.Ports[0].TargetPort)

	require.Equal(t, map[string]int{"/readyz": 200, "/healthz": 200},
		probeStatus(t, c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path), "the probes are routes a server answers")
}

// TestSystemdUnit: the unit runs serve as an unprivileged user and sets
// only real settings.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	f, err := os.Open("hookline.service")
	require.NoError(t, err)
	defer f.Close()
	unit := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "not a key=value line: %q", line)
			unit[section+"."+k] = append(unit[section+"."+k], v)
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, []string{"hookline"}, unit["Service.User"])
	exec := strings.Fields(unit["Service.ExecStart"][0])
	require.Equal(t, []string{"/usr/local/bin/hookline", "serve"}, exec[:2])
	vars := settingVars(t)
	for _, e := range unit["Service.Environment"] {
		name, _, _ := strings.Cut(e, "=")
		assert.True(t, vars[name], "the unit sets %s, which serve does not read", name)
	}
	require.Equal(t, []string{"/var/lib/hookline"}, unit["Service.ReadWritePaths"])
	require.Contains(t, unit["Service.Environment"], "HOOKLINE_DATA_DIR=/var/lib/hookline")
	require.Equal(t, []string{"/bin/kill -HUP $MAINPID"}, unit["Service.ExecReload"], "reload is SIGHUP")
}

// dockerfile is what the tests read of the Dockerfile: its instructions,
// continuation lines joined.
type dockerfile []string

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	var out dockerfile
	var cur strings.Builder
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimRight(line, "\n")
		if t := strings.TrimSpace(line); cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s)
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// all returns the arguments of every instruction named op.
func (d dockerfile) all(op string) []string {
	var args []string
	for _, in := range d {
		if o, rest, _ := strings.Cut(in, " "); strings.EqualFold(o, op) {
			args = append(args, strings.TrimSpace(rest))
		}
	}
	return args
}

// TestDockerfile runs the image's build command as it stands in the
// Dockerfile: the binary is static (no interpreter, no shared libraries),
// carries the version given, and, run with the image's environment, serves
// and passes the image's HEALTHCHECK command, then stops on SIGTERM.
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	t.Parallel()
	d := readDockerfile(t)

	froms := d.all("FROM")
	require.Len(t, froms, 2, "multi-stage")
	require.Equal(t, "gcr.io/distroless/static-debian12:nonroot", froms[1], "a small static base with CA certificates")
	require.Equal(t, []string{"65532:65532"}, d.all("USER"), "the image runs as distroless's nonroot user")
	require.Equal(t, []string{`["/usr/local/bin/hookline"]`}, d.all("ENTRYPOINT"))
	require.Equal(t, []string{`["serve"]`}, d.all("CMD"))

	var build string
	for _, r := range d.all("RUN") {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	require.Equal(t, `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/hookline/hookline/internal/buildinfo.version=${VERSION}" -o /out/hookline ./cmd/hookline`, build)
	bin := filepath.Join(t.TempDir(), "hookline")
	cmd := exec.Command("sh", "-c", strings.Replace(build, "/out/hookline", bin, 1))
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "VERSION=v9.9.9-docker-test")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	f, err := elf.Open(bin)
	require.NoError(t, err)
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	require.Empty(t, libs, "a static binary")
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "no dynamic loader")
	}
	f.Close()
	out, err = exec.Command(bin, "version", "-o", "json").Output()
	require.NoError(t, err)
	var v struct{ Version string }
	require.NoError(t, json.Unmarshal(out, &v))
	require.Equal(t, "v9.9.9-docker-test", v.Version)

	// The image's environment, with a free port and a data dir of this
	// test instead of the volume.
	env := map[string]string{}
	for _, e := range d.all("ENV") {
		for _, kv := range strings.Fields(e) {
			k, val, ok := strings.Cut(kv, "=")
			require.True(t, ok, "ENV %s", kv)
			env[k] = val
		}
	}
	vars := settingVars(t)
	for k := range env {
		require.True(t, vars[k], "the image sets %s, which serve does not read", k)
	}
	host, port, err := net.SplitHostPort(env["HOOKLINE_ADDR"])
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0", host, "the container listens on every interface")
	require.Equal(t, []string{port}, d.all("EXPOSE"))
	require.Equal(t, []string{env["HOOKLINE_DATA_DIR"]}, jsonArray(t, d.all("VOLUME")[0]), "the data dir is the volume")
	env["HOOKLINE_ADDR"] = net.JoinHostPort(host, freePort(t))
	env["HOOKLINE_DATA_DIR"] = filepath.Join(t.TempDir(), "data")
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	slices.Sort(environ)

	hc := d.all("HEALTHCHECK")
	require.Len(t, hc, 1)
	_, probeJSON, ok := strings.Cut(hc[0], " CMD ")
	require.True(t, ok, hc[0])
	probe := jsonArray(t, probeJSON)
	require.Equal(t, []string{"/usr/local/bin/hookline", "healthcheck"}, probe)
	healthy := func() bool {
		c := exec.Command(bin, probe[1:]...)
		c.Env = environ
		return c.Run() == nil
	}
	require.False(t, healthy(), "unhealthy before the server runs")

	serve := exec.Command(bin, "serve")
	serve.Env = environ
	var logs strings.Builder
	serve.Stderr = &logs
	require.NoError(t, serve.Start())
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Kill()
		<-done
	})
	require.Eventually(t, healthy, 20*time.Second, 50*time.Millisecond, "the HEALTHCHECK passes once the server runs")
	require.NoError(t, serve.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		done <- err
		require.NoError(t, err, "serve stops cleanly on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	require.Regexp(t, regexp.MustCompile(`"msg":"hookline listening"`), logs.String(), "JSON logs, as the image sets")
}

func jsonArray(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	require.NoError(t, json.Unmarshal([]byte(s), &out), s)
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	return port
}
