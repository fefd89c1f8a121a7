import type { ServiceDefinition } from '@grpc/grpc-js';

export const echoService: ServiceDefinition;
