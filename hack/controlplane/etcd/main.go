// Command etcd is etcd 3.6's server entry point, built from its Go module (Debian ships 3.4,
// which current Kubernetes no longer supports).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
