export { buildIngress, type IngressDeps } from './build-ingress.js';
