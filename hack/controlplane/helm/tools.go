//go:build tools

// Package helm pins the helm CLI used by the chart tests, in a module of its own.
package helm

import _ "helm.sh/helm/v3/cmd/helm"
