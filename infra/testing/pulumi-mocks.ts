// The Pulumi program under pulumi.runtime.setMocks (no CLI, no cluster), shared by the tests that
// inspect what it declares: every registered resource is captured with its type, name and inputs.
import * as pulumi from '@pulumi/pulumi';
import { type InfraConfigInput, parseInfraConfig } from '../config.ts';
import { deploy } from '../stack.ts';

export interface Created {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON in the mocks
  inputs: any;
}

/** What the mocks give generated passwords as their result, to follow where they end up. */
export const SECRET_MARK = 'mock-secret-';

const created: Created[] = [];

await pulumi.runtime.setMocks(
  {
    newResource(args) {
      created.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state = { ...args.inputs };
      if (args.type === 'random:index/randomPassword:RandomPassword')
        state.result = `${SECRET_MARK}${args.name}`;
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  'esweep',
  'test',
  false,
);

export const baseConfig: InfraConfigInput = {
  images: { worker: 'registry.example/esweep-worker:1', orchestrator: 'registry.example/esweep:1' },
};

/** Deploys into fresh mocks state and returns the resources registered by this deployment. */
export async function deployed(input: InfraConfigInput): Promise<Created[]> {
  const start = created.length;
  const stack = deploy(parseInfraConfig(input));
  await Promise.all(stack.resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  return created.slice(start);
}
