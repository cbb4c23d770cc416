//go:build tools

// Package prometheusadapter pins prometheus-adapter, which serves the custom metrics API
// (custom.metrics.k8s.io) from Prometheus for the journey test's HPA (test/journey). A module of
// its own so its dependencies cannot clash with Kubernetes'.
package prometheusadapter

import _ "sigs.k8s.io/prometheus-adapter/cmd/adapter"
