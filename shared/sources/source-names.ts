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

/** The variables that hold each source's secrets: with none of them set, the source refuses everything. */
export const SOURCE_SECRET_VARIABLES: Record<SourceName, readonly string[]> = {
  generic: ['GENERIC_WEBHOOK_SECRETS', 'GENERIC_BEARER_TOKENS'],
  alertmanager: ['ALERTMANAGER_BEARER_TOKENS'],
  grafana: ['GRAFANA_HMAC_SECRETS', 'GRAFANA_BEARER_TOKENS'],
  cloudmonitor: ['CLOUDMONITOR_TOKENS'],
  slack: ['SLACK_SIGNING_SECRETS'],
  dingtalk: ['DINGTALK_APP_SECRETS'],
  feishu: ['FEISHU_ENCRYPT_KEYS', 'FEISHU_VERIFICATION_TOKENS'],
};
