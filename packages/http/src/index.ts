export { errorHandler, notFoundHandler } from './error-handler.js';
