// Pulumi entry point (infra/Pulumi.yaml): reads the stack's `settings` config object and deploys.
import * as pulumi from '@pulumi/pulumi';
import { parseInfraConfig } from './config.ts';
import { deploy } from './stack.ts';

const stack = deploy(parseInfraConfig(new pulumi.Config().getObject('settings')));

export const namespace = stack.namespace;
export const grafanaService = stack.grafanaService;
