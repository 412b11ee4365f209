// The layering of esweep, checked by `npm run lint` (docs/architecture-layers.md explains it).
// A layer imports only layers below it; folders that share a tier do not import each other (the
// storage tier excepted). Tests and test helpers sit above everything, so they are exempt from
// the layer order but still take part in the cycle check.

/** Test files and test-only helpers: the test layer, wherever they live. */
const TESTS =
  '(\\.test\\.ts$|(^|/)test-support\\.ts$|(^|/)testing(/|\\.ts$)|(^|/)test-fixtures\\.ts$|\\.fixture\\.ts$|^test/)';

/** Top-level layers, lowest first. Each may import only the ones before it. */
const TOP = ['common', 'worker', 'orchestrator'];
/** Above orchestrator, side by side: they may import everything below (and infra deploys dashboards). */
const ABOVE = ['bench', 'test', 'infra', 'dashboards'];

/**
 * Tiers inside orchestrator/ and worker/, highest first. A folder imports folders of lower tiers
 * only; `root` stands for the files directly in the layer's folder (the bottom of the layer).
 * `shared` tiers let their folders import each other (cycles are still refused).
 */
const INNER = {
  orchestrator: [
    { folders: ['cli'] },
    { folders: ['run'] },
    { folders: ['controller', 'ingest', 'report'] },
    { folders: ['query', 'scheduler'] },
    { folders: ['store'] },
    { folders: ['events', 'sweep'] },
  ],
  worker: [
    { folders: ['trial'] },
    { folders: ['train'] },
    { folders: ['pruners'] },
    { folders: ['model'] },
    { folders: ['data', 'masks', 'quotas', 'report', 'onnx'] },
    { folders: ['sparsity', 'tf', 'io'] },
    { folders: ['arch'] },
    { folders: ['wasm'] },
  ],
};

const any = (names) => `(${names.join('|')})`;

function innerRules(layer, tiers) {
  return tiers.map((tier, k) => {
    const below = tiers.slice(k + 1).flatMap((t) => t.folders);
    return {
      name: `${layer}-tier-${tier.folders.join('-')}`,
      comment: `${layer}/{${tier.folders.join(',')}} may import only ${below.length ? `${layer}/{${below.join(',')}}` : 'files at the root'} of ${layer}/ (and lower layers)`,
      severity: 'error',
      from: { path: `^${layer}/${any(tier.folders)}/`, pathNot: TESTS },
      to: {
        path: `^${layer}/[^/]+/`,
        // $1 is the importing folder: a folder may import itself.
        pathNot: [`^${layer}/$1/`, `^${layer}/${any(tier.shared ? below.concat(tier.folders) : below)}/`],
      },
    };
  });
}

function innerRootRule(layer) {
  return {
    name: `${layer}-root-imports-no-folder`,
    comment: `files directly in ${layer}/ are its bottom tier: they import no folder of ${layer}/`,
    severity: 'error',
    from: { path: `^${layer}/[^/]+$`, pathNot: TESTS },
    to: { path: `^${layer}/[^/]+/` },
  };
}

/** A folder missing from INNER would escape the tier rules: every folder must be placed. */
function unplacedRule(layer, tiers) {
  return {
    name: `${layer}-folder-without-tier`,
    comment: `every folder of ${layer}/ must be placed in a tier of .dependency-cruiser.cjs`,
    severity: 'error',
    from: {
      path: `^${layer}/[^/]+/`,
      pathNot: [`^${layer}/${any(tiers.flatMap((t) => t.folders))}/`, TESTS, `^${layer}/store/generated/`],
    },
    to: {},
  };
}

/** Host-memory training steps sit below the trainer that chooses between them. */
const trainHostRule = {
  name: 'worker-train-host-below-trainer',
  comment: 'worker/train/host may import only sgd.ts and step.ts of worker/train',
  severity: 'error',
  from: { path: '^worker/train/host/', pathNot: TESTS },
  to: { path: '^worker/train/[^/]+$', pathNot: '^worker/train/(sgd|step)\\.ts$' },
};

/** The storage seam: only orchestrator/store/ talks to the database (its client, drivers and SQL). */
const storageRule = {
  name: 'only-store-touches-the-database',
  comment: 'the generated Prisma client, Prisma, pg and PGlite are imported by orchestrator/store only',
  severity: 'error',
  from: { pathNot: ['^orchestrator/store/', TESTS, '^bench/', '^prisma', '^infra/'] },
  to: {
    path: [
      '(^|/)generated/prisma',
      'node_modules/(@prisma|prisma|pg|@electric-sql/pglite|pglite-prisma-adapter)/',
    ],
  },
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...TOP.map((layer, k) => ({
      name: `${layer}-imports-downward`,
      comment: `${layer}/ may import only ${TOP.slice(0, k).join(', ') || 'nothing of the project'}`,
      severity: 'error',
      from: { path: `^${layer}/`, pathNot: TESTS },
      to: { path: `^${any(TOP.slice(k).concat(ABOVE))}/`, pathNot: `^${layer}/` },
    })),
    {
      name: 'production-imports-no-tests',
      comment: 'code that ships never imports tests or test helpers',
      severity: 'error',
      from: { path: `^${any(TOP)}/`, pathNot: TESTS },
      to: { path: TESTS },
    },
    ...Object.entries(INNER).flatMap(([layer, tiers]) => [
      ...innerRules(layer, tiers),
      innerRootRule(layer),
      unplacedRule(layer, tiers),
    ]),
    trainHostRule,
    storageRule,
  ],
  options: {
    // Scanned, so that imports of the generated client are seen, but not followed into.
    doNotFollow: { path: ['node_modules', '(^|/)generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
