//go:build tools

// Package k8s pins the Kubernetes release whose kube-apiserver, kube-controller-manager,
// kube-scheduler and kubectl the local control plane builds, and whose kubelet and kube-proxy
// run the optional real node (`cluster:up --real-node`) (hack/cluster/build.ts runs
// `go build` on these upstream main packages; nothing of theirs is copied here).
package k8s

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
