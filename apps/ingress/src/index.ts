export { buildIngress, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_BYTES, type IngressDeps } from './build-ingress.js';
