export { acceptedSchema, buildIngress, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_BYTES, WEBHOOK_ROUTE, type IngressDeps } from './build-ingress.js';
