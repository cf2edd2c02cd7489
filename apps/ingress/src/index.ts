export { acceptedSchema, buildIngress, WEBHOOK_ROUTE, type IngressDeps } from './build-ingress.js';
