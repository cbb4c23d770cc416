//go:build tools

// Package gatewayapi pins the Gateway API release whose standard-channel CRDs
// (config/crd/standard in the module) the local control plane installs.
package gatewayapi

import _ "sigs.k8s.io/gateway-api/apis/v1"
