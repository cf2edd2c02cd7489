export { classifyOutcome, type AttemptOutcome } from './classify-outcome.js';
export { createHttpSender, RESPONSE_SNIPPET_BYTES, type HttpSender } from './http-sender.js';
export { isSendFailure, TIMEOUT_ERROR_CODE, type OutboundDelivery, type Sender, type SendFailure, type SendResponse, type SendResult } from './sender.js';
