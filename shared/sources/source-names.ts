/** The senders, as they appear in `POST /<function>/<source>`. */
export const SOURCE_NAMES = [
  'generic',
  'alertmanager',
  'grafana',
  'cloudmonitor',
  'slack',
  'dingtalk',
  'feishu',
] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
