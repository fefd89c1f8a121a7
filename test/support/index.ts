export * from './ports.js';
export * from './process.js';
export * from './self-signed.js';
export * from './services.js';
