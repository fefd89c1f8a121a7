// The resource attributes every dds log record carries live in core: the HTTP proxies' access
// logs write the same resource as the log adapter.
export { buildResource, resourceMember } from '@dds/core/telemetry/resource';
