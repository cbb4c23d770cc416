import type { PackageDefinition } from '@grpc/proto-loader';
import descriptorModule from 'protobufjs/ext/descriptor/index.js';
import type { IDescriptorProto, IFileDescriptorProto } from 'protobufjs/ext/descriptor/index.js';

// the module's runtime export is the descriptor namespace (its .d.ts declares named exports only)
const descriptor = descriptorModule as unknown as typeof import('protobufjs/ext/descriptor/index.js');

/**
 * The name protoc gives a map field's entry type, and that protobuf-go (grpcurl, Go clients)
 * insists on: the field name in CamelCase + "Entry" (`properties` → `PropertiesEntry`).
 */
export function mapEntryName(field: string): string {
  const camel = field.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/_/g, '');
  return camel.charAt(0).toUpperCase() + camel.slice(1) + 'Entry';
}

function fixMessage(m: IDescriptorProto, scope: string): void {
  const full = `${scope}.${m.name}`;
  const renamed = new Map<string, string>();
  for (const nested of m.nestedType ?? []) {
    if (!nested.options?.mapEntry) continue;
    const field = (m.field ?? []).find((f) => f.typeName === nested.name || f.typeName === `${full}.${nested.name}`);
    if (!field?.name) continue;
    renamed.set(nested.name!, mapEntryName(field.name));
    field.typeName = `${full}.${mapEntryName(field.name)}`;
  }
  for (const nested of m.nestedType ?? []) {
    const to = renamed.get(nested.name!);
    if (to) nested.name = to;
    fixMessage(nested, full);
  }
}

/** One serialised FileDescriptorProto with its map entries named as protoc names them. */
export function fixFileDescriptor(bytes: Buffer | Uint8Array): Buffer {
  const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as IFileDescriptorProto;
  const scope = file.package ? `.${file.package}` : '';
  for (const m of file.messageType ?? []) fixMessage(m, scope);
  return Buffer.from(descriptor.FileDescriptorProto.encode(file as never).finish());
}

/**
 * A package definition whose file descriptors name map entry types as protoc does, for server
 * reflection: protobufjs (under proto-loader) names them after the field (`Properties`), which
 * protobuf-go's validation refuses ("invalid map: incorrect implicit map entry name"), so grpcurl
 * could list the services but not call them. The definition the server runs on is left as is.
 */
export function withProtocMapEntries(def: PackageDefinition): PackageDefinition {
  const cache = new Map<Buffer, Buffer>();
  const fix = (b: Buffer) => cache.get(b) ?? cache.set(b, fixFileDescriptor(b)).get(b)!;
  const out: PackageDefinition = {};
  for (const [name, value] of Object.entries(def)) {
    const protos = (value as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos;
    out[name] = Array.isArray(protos) ? ({ ...value, fileDescriptorProtos: protos.map(fix) } as typeof value) : value;
  }
  return out;
}
