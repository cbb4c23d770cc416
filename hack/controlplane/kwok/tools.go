//go:build tools

// Package kwok pins kwok, which fakes the nodes of the local control plane and marks their pods
// Running and Ready. A module of its own so its dependencies cannot clash with Kubernetes'.
package kwok

import _ "sigs.k8s.io/kwok/cmd/kwok"
