import { randomUUID } from 'node:crypto';

/**
 * The emulated Alibaba Cloud Elasticsearch control plane as a pure state machine: no HTTP, no
 * signatures, no faults. `app.ts` puts the wire in front of it; tests drive it directly.
 *
 * Over 200 lines on purpose: the five operations' transitions, their documented errors and the
 * clientToken rules form one state machine, and reading it in one place is what makes it checkable
 * against the API reference.
 */

export const INSTANCE_STATUSES = ['active', 'activating', 'suspended', 'inactive', 'invalid'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export type InstanceKind = 'elasticsearch' | 'logstash';

export const OPERATIONS = [
  'InterruptElasticsearchTask',
  'ResumeElasticsearchTask',
  'InterruptLogstashTask',
  'ResumeLogstashTask',
  'CancelTask',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface HistoryEntry {
  /** API operation name. */
  action: string;
  clientToken: string | null;
  /** ISO 8601. */
  at: string;
}

/** One instance as `GET /emulator/instances` shows it. */
export interface InstanceSnapshot {
  instanceId: string;
  status: InstanceStatus;
  migrating: boolean;
  history: HistoryEntry[];
}

export interface SeedInstance {
  instanceId: string;
  status: InstanceStatus;
  migrating?: boolean | undefined;
  /** The region the instance lives in; the control plane's default region (`cn-hangzhou`) when omitted. */
  regionId?: string | undefined;
}

/** Where seeded instances live unless they say otherwise, and the region of a call that names none. */
export const DEFAULT_REGION = 'cn-hangzhou';

export interface ApiErrorBody {
  RequestId: string;
  Code: string;
  Message: string;
}

export interface ApiSuccessBody {
  RequestId: string;
  Result: unknown;
}

/** What the API answers: the HTTP status and the JSON body, as Alibaba shapes them. */
export interface ApiReply {
  status: number;
  body: ApiErrorBody | ApiSuccessBody;
}

export interface ActionRequest {
  operation: Operation;
  instanceId: string;
  clientToken?: string | null | undefined;
  /** Every other query parameter (for CancelTask: `taskType`); part of the idempotency fingerprint. */
  params?: Record<string, string> | undefined;
  /**
   * The region the call was made in (the regional endpoint it reached); the default region when
   * omitted. An instance of another region is not found, as on the real API, and each region
   * remembers its own client tokens.
   */
  regionId?: string | undefined;
}

/** Alibaba request IDs are uppercase UUIDs. */
export const newRequestId = (): string => randomUUID().toUpperCase();

export const ERRORS = {
  InstanceNotFound: { status: 400, message: 'The instanceId provided does not exist.' },
  InstanceStatusNotSupportCurrentAction: {
    status: 400,
    message: 'The cluster is running tasks or in an error status. Try again later.',
  },
  InstanceActivating: { status: 400, message: 'Instance is activating.' },
  IdempotentParameterMismatch: {
    status: 400,
    message: 'The request uses the same client token as a previous, but non-identical request.',
  },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ControlPlaneErrorCode = keyof typeof ERRORS;

export const apiError = (code: string, status: number, message: string, requestId = newRequestId()): ApiReply => ({
  status,
  body: { RequestId: requestId, Code: code, Message: message },
});

const controlPlaneError = (code: ControlPlaneErrorCode, message?: string): ApiReply =>
  apiError(code, ERRORS[code].status, message ?? ERRORS[code].message);

/** Alibaba: at most 64 ASCII characters; printable only, so a token survives logs and headers. */
const CLIENT_TOKEN = /^[\x20-\x7e]{1,64}$/;

export const kindOf = (instanceId: string): InstanceKind | undefined =>
  instanceId.startsWith('es-') ? 'elasticsearch' : instanceId.startsWith('ls-') ? 'logstash' : undefined;

const OPERATION_KIND: Record<Operation, InstanceKind> = {
  InterruptElasticsearchTask: 'elasticsearch',
  ResumeElasticsearchTask: 'elasticsearch',
  InterruptLogstashTask: 'logstash',
  ResumeLogstashTask: 'logstash',
  CancelTask: 'elasticsearch',
};

interface Instance {
  instanceId: string;
  kind: InstanceKind;
  regionId: string;
  status: InstanceStatus;
  migrating: boolean;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
}

interface RememberedToken {
  fingerprint: string;
  reply: ApiReply;
}

export interface ControlPlaneOptions {
  instances?: readonly SeedInstance[] | undefined;
  now?: (() => number) | undefined;
  /** Past this many remembered client tokens the oldest is forgotten (bounded memory). */
  maxTokens?: number | undefined;
  /** Region of seed instances that name none, and of calls that name none; default `cn-hangzhou`. */
  defaultRegion?: string | undefined;
}

/** A state change, or the error that says why it does not apply. */
type Transition = { change: (instance: Instance) => void } | { error: ApiReply };

export class ControlPlane {
  private readonly instances = new Map<string, Instance>();
  private readonly tokens = new Map<string, RememberedToken>();
  private readonly now: () => number;
  private readonly maxTokens: number;
  private readonly initial: readonly SeedInstance[];
  readonly defaultRegion: string;

  constructor(options: ControlPlaneOptions = {}) {
    this.now = options.now ?? Date.now;
    this.defaultRegion = options.defaultRegion ?? DEFAULT_REGION;
    this.maxTokens = options.maxTokens ?? 10_000;
    this.initial = options.instances ?? [];
    this.reset();
  }

  /** Back to a seed: the given one, else the one this control plane was created with. Forgets tokens. */
  reset(seed?: readonly SeedInstance[]): void {
    this.instances.clear();
    this.tokens.clear();
    // Fixed, plausible creation time: a demo cluster created a day before the emulator started.
    const createdAt = new Date(this.now() - 86_400_000).toISOString();
    for (const seedInstance of seed ?? this.initial) {
      const kind = kindOf(seedInstance.instanceId);
      if (!kind) throw new Error(`Seed instance ${seedInstance.instanceId}: the ID must start with es- or ls-`);
      this.instances.set(seedInstance.instanceId, {
        instanceId: seedInstance.instanceId,
        kind,
        regionId: seedInstance.regionId ?? this.defaultRegion,
        status: seedInstance.status,
        migrating: seedInstance.migrating ?? false,
        history: [],
        createdAt,
        updatedAt: createdAt,
      });
    }
  }

  snapshot(): { instances: InstanceSnapshot[] } {
    return {
      instances: [...this.instances.values()].map((instance) => ({
        instanceId: instance.instanceId,
        status: instance.status,
        migrating: instance.migrating,
        history: instance.history.map((entry) => ({ ...entry })),
      })),
    };
  }

  /** One of the five state-changing operations, with Alibaba's clientToken semantics. */
  apply(request: ActionRequest): ApiReply {
    const clientToken = request.clientToken ?? null;
    const params = request.params ?? {};
    if (clientToken !== null && !CLIENT_TOKEN.test(clientToken)) {
      return controlPlaneError(
        'InvalidParameter',
        'The parameter clientToken is invalid: at most 64 printable ASCII characters.',
      );
    }
    if (request.operation === 'CancelTask' && params.taskType !== 'MigrateData') {
      return controlPlaneError('InvalidParameter', 'The parameter taskType is invalid: only MigrateData is supported.');
    }

    const region = request.regionId ?? this.defaultRegion;
    // Each region is its own service: a token is remembered, and replayed, only where it was used.
    const tokenKey = clientToken === null ? null : `${region}\n${clientToken}`;
    const fingerprint = JSON.stringify([
      request.operation,
      request.instanceId,
      Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ]);
    if (tokenKey !== null) {
      const remembered = this.tokens.get(tokenKey);
      if (remembered && remembered.fingerprint !== fingerprint) return controlPlaneError('IdempotentParameterMismatch');
      // The first result, byte for byte (same RequestId), and no second change.
      if (remembered) return structuredClone(remembered.reply);
    }

    const instance = this.find(OPERATION_KIND[request.operation], request.instanceId, region);
    if (!instance) return controlPlaneError('InstanceNotFound');
    const transition = this.transition(request.operation, instance);
    if ('error' in transition) return transition.error; // Not remembered: a later retry may succeed.

    transition.change(instance);
    const at = new Date(this.now()).toISOString();
    instance.updatedAt = at;
    instance.history.push({ action: request.operation, clientToken, at });
    const reply: ApiReply = { status: 200, body: { RequestId: newRequestId(), Result: true } };
    if (tokenKey !== null) this.remember(tokenKey, { fingerprint, reply: structuredClone(reply) });
    return reply;
  }

  /** DescribeInstance (`elasticsearch`) or DescribeLogstash (`logstash`), in `regionId` (default region when omitted). */
  describe(kind: InstanceKind, instanceId: string, regionId: string = this.defaultRegion): ApiReply {
    const instance = this.find(kind, instanceId, regionId);
    if (!instance) return controlPlaneError('InstanceNotFound');
    const result = kind === 'elasticsearch' ? describeElasticsearch(instance) : describeLogstash(instance);
    return { status: 200, body: { RequestId: newRequestId(), Result: result } };
  }

  /**
   * An instance of the other kind is invisible (the ES paths never find an ls- instance and vice
   * versa), and so is one of another region: the real API answers InstanceNotFound for both.
   */
  private find(kind: InstanceKind, instanceId: string, regionId: string): Instance | undefined {
    const instance = this.instances.get(instanceId);
    return instance?.kind === kind && instance.regionId === regionId ? instance : undefined;
  }

  private transition(operation: Operation, instance: Instance): Transition {
    const notSupported = { error: controlPlaneError('InstanceStatusNotSupportCurrentAction') };
    switch (operation) {
      case 'InterruptElasticsearchTask':
        return instance.status === 'activating' ? { change: suspend } : notSupported;
      case 'ResumeElasticsearchTask':
      case 'ResumeLogstashTask':
        return instance.status === 'suspended' ? { change: resume } : notSupported;
      case 'InterruptLogstashTask':
        // The API reference lists InstanceActivating as the error code of InterruptLogstashTask, so a
        // Logstash instance with nothing to interrupt answers with it rather than the generic code.
        return instance.status === 'activating'
          ? { change: suspend }
          : { error: controlPlaneError('InstanceActivating') };
      case 'CancelTask':
        if (instance.migrating) return { change: cancelMigration };
        // The CancelTask reference lists InstanceActivating: a cluster busy with another change (not a
        // migration) answers with it; any other status has nothing to cancel.
        return instance.status === 'activating' ? { error: controlPlaneError('InstanceActivating') } : notSupported;
    }
  }

  private remember(tokenKey: string, entry: RememberedToken): void {
    this.tokens.set(tokenKey, entry);
    // Maps iterate in insertion order, so the first key is the oldest token.
    while (this.tokens.size > this.maxTokens) {
      const oldest = this.tokens.keys().next().value;
      if (oldest === undefined) break;
      this.tokens.delete(oldest);
    }
  }
}

const suspend = (instance: Instance): void => {
  instance.status = 'suspended';
};
const resume = (instance: Instance): void => {
  instance.status = 'activating';
};
/** Cancelling the migration leaves the cluster's own status as it was. */
const cancelMigration = (instance: Instance): void => {
  instance.migrating = false;
};

/** A plausible zone of the instance's region (every region has an `a` zone; Hangzhou's demo one is `i`). */
const zoneOf = (instance: Instance): string =>
  instance.regionId === DEFAULT_REGION ? `${DEFAULT_REGION}-i` : `${instance.regionId}-a`;

/** Fields of the SDK model DescribeInstanceResponseBodyResult, with plausible demo values. */
function describeElasticsearch(instance: Instance): Record<string, unknown> {
  const zone = zoneOf(instance);
  return {
    instanceId: instance.instanceId,
    description: instance.instanceId,
    status: instance.status,
    esVersion: '7.10_with_X-Pack',
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
    paymentType: 'postpaid',
    nodeAmount: 3,
    nodeSpec: { spec: 'elasticsearch.sn2ne.large', disk: 20, diskType: 'cloud_ssd', diskEncryption: false },
    dedicateMaster: false,
    advancedDedicateMaster: false,
    haveKibana: true,
    haveClientNode: false,
    warmNode: false,
    instanceCategory: 'x-pack',
    archType: 'public',
    protocol: 'HTTP',
    port: 9200,
    domain: `${instance.instanceId}.elasticsearch.aliyuncs.com`,
    kibanaDomain: `${instance.instanceId}.kibana.elasticsearch.aliyuncs.com`,
    kibanaPort: 5601,
    enablePublic: false,
    enableKibanaPublicNetwork: false,
    enableKibanaPrivateNetwork: false,
    esIPWhitelist: ['0.0.0.0/0'],
    networkConfig: { type: 'vpc', vpcId: 'vpc-emulator', vswitchId: 'vsw-emulator', vsArea: zone },
    zoneCount: 1,
    zoneInfos: [{ zoneId: zone, status: 'NORMAL' }],
    resourceGroupId: 'rg-emulator',
    inited: true,
    serviceVpc: true,
    isNewDeployment: true,
    tags: [],
  };
}

/** Fields of the SDK model DescribeLogstashResponseBodyResult (the SDK maps a few to capitalised names). */
function describeLogstash(instance: Instance): Record<string, unknown> {
  const zone = zoneOf(instance);
  return {
    instanceId: instance.instanceId,
    description: instance.instanceId,
    status: instance.status,
    version: '7.4.0_with_X-Pack',
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
    paymentType: 'postpaid',
    nodeAmount: 2,
    nodeSpec: { spec: 'logstash.n4.small', disk: 20, diskType: 'cloud_efficiency' },
    networkConfig: { type: 'vpc', vpcId: 'vpc-emulator', vswitchId: 'vsw-emulator', vsArea: zone },
    endpointList: [{ host: '192.168.0.10', port: '9600', zoneId: zone }],
    config: {},
    ResourceGroupId: 'rg-emulator',
    ZoneInfos: [{ zoneId: zone, status: 'NORMAL' }],
    Tags: [],
  };
}
