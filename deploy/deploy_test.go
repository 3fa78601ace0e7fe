//go:build deploy

// Package deploy_test checks the container build and the Kubernetes
// manifests offline: no cluster and no Docker engine, but the real
// kustomize build and the real Kubernetes API types, with unknown fields
// refused, so a typo in a manifest fails here rather than in a cluster.
//
// `make deploy-test` runs it (.ci/run does): the build tag keeps the
// Kubernetes and kustomize packages, some 150 of them, out of the default
// `go test -race ./...`, whose compile time on a fresh machine they would
// add a minute and a half to.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	kusttypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The base, and the example overlay with TLS and tokens.
const (
	base       = "kubernetes/base"
	tlsOverlay = "kubernetes/overlays/tls"
)

// manifests are the objects of the built base, decoded strictly.
type manifests struct {
	deployment *appsv1.Deployment
	services   map[string]*corev1.Service
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	pdb        *policyv1.PodDisruptionBudget
	policy     *networkingv1.NetworkPolicy
	account    *corev1.ServiceAccount
}

// decodeStrict decodes one object's YAML into the API type for its kind,
// refusing unknown and duplicate fields.
func decodeStrict(t *testing.T, name string, doc []byte, m *manifests) {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var into any
	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 Deployment":
		m.deployment = &appsv1.Deployment{}
		into = m.deployment
	case "v1 Service":
		s := &corev1.Service{}
		into = s
		defer func() { m.services[s.Name] = s }()
	case "autoscaling/v2 HorizontalPodAutoscaler":
		m.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
		into = m.hpa
	case "policy/v1 PodDisruptionBudget":
		m.pdb = &policyv1.PodDisruptionBudget{}
		into = m.pdb
	case "networking.k8s.io/v1 NetworkPolicy":
		m.policy = &networkingv1.NetworkPolicy{}
		into = m.policy
	case "v1 ServiceAccount":
		m.account = &corev1.ServiceAccount{}
		into = m.account
	default:
		t.Fatalf("%s: %s %s is not a kind this test knows", name, meta.APIVersion, meta.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s: %s: %v", name, meta.Kind, err)
	}
}

// Every file decodes strictly on its own, kustomization.yaml into
// kustomize's own type (the overlay's patch is a partial Deployment).
func TestManifestFilesDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*/*.yaml")
	more, _ := filepath.Glob("kubernetes/overlays/*/*.yaml")
	files = append(files, more...)
	if err != nil || len(files) < 9 {
		t.Fatalf("manifests %v: %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "kustomization.yaml" {
			if err := yaml.UnmarshalStrict(b, &kusttypes.Kustomization{}); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			continue
		}
		decodeStrict(t, f, b, &manifests{services: map[string]*corev1.Service{}})
	}
}

// build runs kustomize on dir, as `kubectl apply -k` would.
func build(t *testing.T, dir string) *manifests {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	m := &manifests{services: map[string]*corev1.Service{}}
	for _, r := range res.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		decodeStrict(t, r.CurId().String(), doc, m)
	}
	return m
}

func TestKustomizeBase(t *testing.T) {
	m := build(t, base)
	if m.deployment == nil || m.hpa == nil || m.pdb == nil || m.policy == nil || m.account == nil ||
		m.services["safethird"] == nil || m.services["safethird-headless"] == nil {
		t.Fatalf("the base lacks a kind: %+v", m)
	}
	d := m.deployment
	pod := d.Spec.Template
	podLabels := pod.Labels
	selects := func(what string, sel map[string]string) {
		t.Helper()
		if len(sel) == 0 {
			t.Errorf("%s selects every pod", what)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s selects %s=%s, which the pods lack (%v)", what, k, v, podLabels)
			}
		}
	}
	if d.Spec.Selector == nil || m.pdb.Spec.Selector == nil {
		t.Fatal("the Deployment or the PodDisruptionBudget has no selector")
	}
	selects("the Deployment", d.Spec.Selector.MatchLabels)
	selects("the PodDisruptionBudget", m.pdb.Spec.Selector.MatchLabels)
	selects("the NetworkPolicy", m.policy.Spec.PodSelector.MatchLabels)

	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas %v, want 2 or more", d.Spec.Replicas)
	}
	if h := m.hpa.Spec; h.ScaleTargetRef.Kind != "Deployment" || h.ScaleTargetRef.Name != d.Name || h.MinReplicas == nil || *h.MinReplicas < 2 || h.MaxReplicas <= *h.MinReplicas {
		t.Errorf("the HPA %+v does not scale the Deployment from 2 up", h)
	}
	if m.pdb.Spec.MaxUnavailable == nil || m.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("the PDB lets %v replicas go at once, want 1", m.pdb.Spec.MaxUnavailable)
	}

	// Pod and containers: non-root, no privilege escalation, read-only
	// root, every capability dropped, requests and limits.
	ps := pod.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
		t.Errorf("the pod may run as root: %+v", ps)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it does not use")
	}
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("container %s: security context %+v", c.Name, sc)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("container %s has no %s request", c.Name, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				t.Errorf("container %s has no %s limit", c.Name, r)
			}
		}
	}

	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want safethird alone", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if !(ports["grpc"] == 50051 && ports["http"] == 8080 && ports["metrics"] == 9090) {
		t.Errorf("container ports %v", ports)
	}
	// The probes: grpc.health.v1 on the gRPC port for readiness, /healthz
	// on the HTTP door for liveness, /readyz on it while the dataset loads.
	if p := c.ReadinessProbe; p == nil || p.GRPC == nil || p.GRPC.Port != ports["grpc"] {
		t.Errorf("readiness probe %+v, want grpc.health.v1 on port %d", p, ports["grpc"])
	}
	if p := c.LivenessProbe; p == nil || p.GRPC != nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "http" {
		t.Errorf("liveness probe %+v, want GET /healthz on the http port", p)
	}
	if p := c.StartupProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.String() != "http" {
		t.Errorf("startup probe %+v, want GET /readyz on the http port", p)
	}

	// The flags name the ports the probes and Services use.
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"--addr=0.0.0.0:50051", "--http-addr=0.0.0.0:8080", "--metrics-addr=0.0.0.0:9090", "--dataset=/srv/safethird/dataset"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Error("no preStop pause: endpoints could still send calls to a draining replica")
	}

	// The dataset: copied in by the init container, read-only in safethird.
	var mounted bool
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == "/srv/safethird/dataset" {
			mounted = vm.ReadOnly
			if !mounted {
				t.Error("the dataset is mounted writable")
			}
		}
	}
	if !mounted || len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Image == c.Image {
		t.Errorf("want the dataset from its own image, mounted read-only; init containers %d", len(pod.Spec.InitContainers))
	}

	// Services: gRPC and HTTP on the cluster address, gRPC on the
	// headless one, both to named container ports.
	svc, headless := m.services["safethird"], m.services["safethird-headless"]
	selects("the Service", svc.Spec.Selector)
	selects("the headless Service", headless.Spec.Selector)
	if headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("headless Service clusterIP %q, want None", headless.Spec.ClusterIP)
	}
	for _, s := range []*corev1.Service{svc, headless} {
		for _, p := range s.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s port %s targets %s, not a container port", s.Name, p.Name, p.TargetPort.String())
			}
		}
	}
	if names := portNames(svc); !slices.Equal(names, []string{"grpc", "http"}) {
		t.Errorf("Service ports %v, want grpc and http", names)
	}

	// NetworkPolicy: in on grpc and http; out nothing.
	var in []string
	for _, r := range m.policy.Spec.Ingress {
		for _, p := range r.Ports {
			in = append(in, p.Port.String())
		}
	}
	for _, want := range []string{"grpc", "http", "metrics"} {
		if !slices.Contains(in, want) {
			t.Errorf("the NetworkPolicy lets nothing in on %s: %v", want, in)
		}
	}
	if !slices.Contains(m.policy.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) || len(m.policy.Spec.Egress) != 0 {
		t.Errorf("egress %+v, want none allowed", m.policy.Spec.Egress)
	}
}

// The TLS overlay turns TLS and tokens on from Secrets mounted read-only,
// and moves the probes to HTTPS on the HTTP door, since Kubernetes' gRPC
// probes cannot speak TLS.
func TestKustomizeTLSOverlay(t *testing.T) {
	m := build(t, tlsOverlay)
	c := m.deployment.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"--addr=0.0.0.0:50051", "--http-addr=0.0.0.0:8080", "--dataset=/srv/safethird/dataset",
		"--tls-cert=/etc/safethird/tls/tls.crt", "--tls-key=/etc/safethird/tls/tls.key", "--auth-tokens-file=/etc/safethird/tokens/tokens.txt"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.GRPC != nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("%s probe %+v, want HTTPS on the HTTP door alone", name, p)
		}
	}
	mounts := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.Name] = vm.ReadOnly
	}
	if !mounts["tls"] || !mounts["tokens"] || !mounts["dataset"] {
		t.Errorf("mounts %v, want tls, tokens and the dataset, read-only", mounts)
	}
	secrets := map[string]string{}
	for _, v := range m.deployment.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = v.Secret.SecretName
		}
	}
	if secrets["tls"] != "safethird-tls" || secrets["tokens"] != "safethird-tokens" {
		t.Errorf("secret volumes %v", secrets)
	}
}

func portNames(s *corev1.Service) []string {
	var out []string
	for _, p := range s.Spec.Ports {
		out = append(out, p.Name)
	}
	return out
}

// The flags in the Deployment and in the image's CMD are flags `safethird
// serve` has: the real binary's help lists them.
func TestFlagsExist(t *testing.T) {
	var flags []string
	for _, dir := range []string{base, tlsOverlay} {
		flags = append(flags, build(t, dir).deployment.Spec.Template.Spec.Containers[0].Args[1:]...)
	}
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	cmd := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindSubmatch(dockerfile)
	if cmd == nil {
		t.Fatal("deploy/Dockerfile has no CMD")
	}
	var cmdArgs []string
	if err := json.Unmarshal(cmd[1], &cmdArgs); err != nil || len(cmdArgs) == 0 || cmdArgs[0] != "serve" {
		t.Fatalf("Dockerfile CMD %s: %v", cmd[1], err)
	}
	flags = append(flags, cmdArgs[1:]...)

	out, err := exec.Command("go", "run", "../cmd/safethird", "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	for _, f := range flags {
		if !strings.HasPrefix(f, "--") {
			continue // a flag's value
		}
		name, _, _ := strings.Cut(f, "=")
		if !bytes.Contains(out, []byte(fmt.Sprintf("\n      %s ", name))) {
			t.Errorf("serve has no flag %s", name)
		}
	}
}
