import { Hono } from 'hono';
import type { CapturedReply } from '../shared/async/capturing-reply-sender.ts';

/**
 * `GET /emulator/replies` → `{"replies": [{"url", "body", "at"}]}`: the chat replies local mode
 * captured instead of sending (see `createCapturingReplySender`). Local only, hence unauthenticated.
 */
export function createRepliesApp(store: { replies(): readonly CapturedReply[] }): Hono {
  const app = new Hono();
  app.get('/emulator/replies', (c) => c.json({ replies: store.replies() }, 200, { 'cache-control': 'no-store' }));
  return app;
}
