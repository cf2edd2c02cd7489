export { errorHandler, notFoundHandler, redisStateError } from './error-handler.js';
