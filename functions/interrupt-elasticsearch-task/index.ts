import { createFunctionHandler } from '../../shared/create-function.ts';

/** Function Compute entry point (`index.handler`): see shared/actions.ts for what it does. */
export const handler = createFunctionHandler('interrupt-elasticsearch-task');
