export { startAdminServer } from './admin/admin-server.js';
export { adminTokenSchema, adminTokenSettings, authorizeAction } from './admin/admin-token.js';
export { type CommonConfig, commonFlags, commonSchema, commonSettings } from './config/common-flags.js';
export { formatDuration, parseDuration } from './config/duration.js';
export {
  camel,
  type FlagSpec,
  type FlagType,
  flagEnv,
  flagPath,
  parseArgv,
  renderHelp,
} from './config/flags.js';
export { type LoadedConfig, type LoadOptions, loadConfig, readConfigFile } from './config/load.js';
export { deepFreeze, getPath, isPlainObject, setPath } from './config/object-path.js';
export { isSecretKey, REDACTED, redact, redactUrl } from './config/redact.js';
export {
  zAddress,
  zAddressOrOff,
  zDuration,
  zLogLevel,
  zUpstreamUrl,
} from './config/schemas.js';
export { readSecretFile, zSecretFile } from './config/secret-file.js';
export { flagsOf, type Setting, type Settings, type ShapeOf, setting, shapeOf } from './config/settings.js';
export { ConfigError, type ConfigIssue, DdsError, type ErrorCode, EXIT, formatIssues } from './errors.js';
export { type ForwardOptions, isHopByHopResponse, upstreamHeaders } from './http/forward-headers.js';
export {
  applyHttpLimits,
  type ClientErrorKind,
  createHttpServer,
  type HttpLimits,
} from './http/http-server.js';
export {
  type HttpProxyConfig,
  httpLimitsOf,
  httpProxySchema,
  httpProxySettings,
  upstreamOptionsOf,
  upstreamSetting,
  zTrustedProxies,
} from './http/proxy-config.js';
export type {
  BodySource,
  HeaderInput,
  ProxyHandlerFn,
  ProxyRequest,
  ProxyResponse,
} from './http/proxy-contract.js';
export { type ProxyFailure, type ProxyHooks, proxyRequest } from './http/reverse-proxy.js';
export { H2Request, H2Response, serveH2Streams } from './http/server/h2-stream.js';
export type { Http1Request } from './http/server/http1-request.js';
export type { Http1Response } from './http/server/http1-response.js';
export {
  createHttp1Server,
  Http1Server,
  type LeanHttp1Handler,
} from './http/server/http1-server.js';
export { PreparedResponse } from './http/server/prepared-response.js';
export { normalizeIp, TrustedProxies } from './http/trusted-proxies.js';
export { proxyUpgrade, type TunnelTimeouts } from './http/upgrade-proxy.js';
export { createUpstream, type Upstream, type UpstreamOptions } from './http/upstream.js';
export { adoptSocket } from './internals/socket-adoption.js';
export { ConnectionTracker } from './lifecycle/connection-tracker.js';
export { Lifecycle, type ReadinessCheck, type ReadinessReport } from './lifecycle/lifecycle.js';
export { createLogger, type Logger } from './logger.js';
export {
  Counter,
  createRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  METRIC_PREFIX,
  Registry,
  Summary,
} from './metrics.js';
export { type Address, formatAddress, listenOptions, parseAddress } from './net/host-port.js';
export { listen } from './net/listen.js';
export { type OnRead, READ_BUFFER } from './net/read-buffer.js';
export { type WatchHandle, watchFiles } from './reload/file-watcher.js';
export { allFlags, type Component, type ComponentContext, type Instance, runComponent } from './runner.js';
export * from './tls/index.js';
