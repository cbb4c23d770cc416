import type { V1Service } from '@kubernetes/client-node';
import { GRPC_PORT, HTTP_PORT, SERVICE_PORT, type Track } from '../api/constants.js';
import type { DigitModel } from '../api/types.js';
import { allTracksSelector, commonLabels, trackLabels, trackSelector } from './labels.js';
import { childNames } from './names.js';
import { ownerReference } from './owner.js';

function service(dm: DigitModel, name: string, labels: Record<string, string>, selector: Record<string, string>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: dm.metadata.namespace, labels, ownerReferences: [ownerReference(dm)] },
    spec: {
      type: 'ClusterIP',
      selector,
      // only the API, over HTTP and gRPC (h2c: cleartext HTTP/2, which Gateways and meshes read
      // from appProtocol); metrics stay on the pods' own port for scraping
      ports: [
        { name: 'http', port: SERVICE_PORT, targetPort: HTTP_PORT, protocol: 'TCP' },
        { name: 'grpc', port: GRPC_PORT, targetPort: GRPC_PORT, protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
      ],
    },
  };
}

/** `<name>`: spreads traffic over the ready pods of both tracks. */
export function allTracksService(dm: DigitModel): V1Service {
  const name = dm.metadata.name;
  return service(dm, childNames.service(name), commonLabels(name), allTracksSelector(name));
}

/** `<name>-stable` / `<name>-canary`: one track, the HTTPRoute's backends. */
export function trackService(dm: DigitModel, track: Track): V1Service {
  const name = dm.metadata.name;
  return service(dm, childNames.trackService(name, track), trackLabels(name, track), trackSelector(name, track));
}
