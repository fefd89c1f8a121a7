export * from './ports.js';
export * from './process.js';
export * from './redis-topologies.js';
export * from './rls.js';
export * from './self-signed.js';
export * from './services.js';
