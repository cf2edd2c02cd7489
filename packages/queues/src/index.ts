export { DELIVERY_JOB_NAME, deliveryJob, deliveryJobSchema, type DeliveryJob, type DeliveryJobSpec, type JobEvent } from './delivery-job.js';
export { COMPLETED_JOBS_KEPT, DELIVERY_BACKOFF, deliveryJobOptions, QUEUE_EVENTS_KEPT } from './job-options.js';
export { deliveryQueueName, destinationQueues, orderLineName, type DestinationQueue } from './queue-names.js';
export { createDeliveryQueues, openDeliveryQueue, type DeliveryQueue, type DeliveryQueues, type DeliveryQueuesOptions } from './delivery-queues.js';
