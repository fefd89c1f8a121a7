import type { OtlpRequest } from '../../../log-adapter/src/outputs/otlp-encode.js';

/**
 * For tests: the OTLP logs messages (opentelemetry-proto `collector/logs/v1`, `logs/v1`,
 * `common/v1`, `resource/v1`) as a protobufjs reflection schema, the independent reference the
 * adapter's own wire encoder (outputs/otlp-wire.ts) is checked against.
 */
const KV = { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } };
const SCHEMA = {
  nested: {
    ExportLogsServiceRequest: { fields: { resourceLogs: { rule: 'repeated', type: 'ResourceLogs', id: 1 } } },
    ExportLogsServiceResponse: { fields: { partialSuccess: { type: 'ExportLogsPartialSuccess', id: 1 } } },
    ExportLogsPartialSuccess: {
      fields: { rejectedLogRecords: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
    },
    ResourceLogs: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeLogs: { rule: 'repeated', type: 'ScopeLogs', id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    Resource: {
      fields: {
        attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
        droppedAttributesCount: { type: 'uint32', id: 2 },
      },
    },
    ScopeLogs: {
      fields: {
        scope: { type: 'InstrumentationScope', id: 1 },
        logRecords: { rule: 'repeated', type: 'LogRecord', id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    InstrumentationScope: {
      fields: {
        name: { type: 'string', id: 1 },
        version: { type: 'string', id: 2 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
        droppedAttributesCount: { type: 'uint32', id: 4 },
      },
    },
    LogRecord: {
      fields: {
        timeUnixNano: { type: 'fixed64', id: 1 },
        observedTimeUnixNano: { type: 'fixed64', id: 11 },
        severityNumber: { type: 'int32', id: 2 },
        severityText: { type: 'string', id: 3 },
        body: { type: 'AnyValue', id: 5 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 6 },
        droppedAttributesCount: { type: 'uint32', id: 7 },
        flags: { type: 'fixed32', id: 8 },
        traceId: { type: 'bytes', id: 9 },
        spanId: { type: 'bytes', id: 10 },
        eventName: { type: 'string', id: 12 },
      },
    },
    AnyValue: {
      oneofs: {
        value: {
          oneof: [
            'stringValue',
            'boolValue',
            'intValue',
            'doubleValue',
            'arrayValue',
            'kvlistValue',
            'bytesValue',
          ],
        },
      },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        arrayValue: { type: 'ArrayValue', id: 5 },
        kvlistValue: { type: 'KeyValueList', id: 6 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
    KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    KeyValue: { fields: KV },
  },
};

export interface OtlpProto {
  encodeRequest(request: OtlpRequest): Uint8Array;
  encodeResponse(rejected: number, message: string): Uint8Array;
  /** for tests: a protobuf request back to plain objects (int64 as strings, bytes as hex) */
  decodeRequest(body: Uint8Array): unknown;
}

let loaded: Promise<OtlpProto> | undefined;

export function loadOtlpProto(): Promise<OtlpProto> {
  loaded ??= (async () => {
    const { default: protobuf } = await import('protobufjs/light.js');
    const root = protobuf.Root.fromJSON(SCHEMA);
    const req = root.lookupType('ExportLogsServiceRequest');
    const res = root.lookupType('ExportLogsServiceResponse');
    return {
      encodeRequest: (request) => req.encode(request as unknown as Record<string, unknown>).finish(),
      encodeResponse: (rejected, message) =>
        res.encode({ partialSuccess: { rejectedLogRecords: rejected, errorMessage: message } }).finish(),
      decodeRequest: (body) =>
        req.toObject(req.decode(body), { longs: String, bytes: String, defaults: false, oneofs: false }),
    };
  })();
  return loaded;
}
