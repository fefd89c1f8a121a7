export * from './ports.js';
export * from './process.js';
export * from './services.js';
export * from './self-signed.js';
