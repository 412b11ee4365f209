-- Incarnations (docs/events.md): a pod replaced within its attempt (eviction, preemption) numbers its
-- events from 0 again under a new incarnation id. Events, curve points and layer counts are keyed on
-- it too, so both processes' events are stored, and the attempt records which incarnation is its own.
-- Rows written before have the incarnation '' (one process per attempt).
ALTER TABLE "event" ADD COLUMN "incarnation" TEXT NOT NULL DEFAULT '';
ALTER TABLE "event" DROP CONSTRAINT "event_pkey";
ALTER TABLE "event" ADD CONSTRAINT "event_pkey" PRIMARY KEY ("trial_id", "attempt", "incarnation", "seq");

ALTER TABLE "metric_point" ADD COLUMN "incarnation" TEXT NOT NULL DEFAULT '';
ALTER TABLE "metric_point" DROP CONSTRAINT "metric_point_pkey";
ALTER TABLE "metric_point" ADD CONSTRAINT "metric_point_pkey" PRIMARY KEY ("trial_id", "attempt", "incarnation", "seq", "idx");

ALTER TABLE "layer_sparsity" ADD COLUMN "incarnation" TEXT NOT NULL DEFAULT '';
ALTER TABLE "layer_sparsity" DROP CONSTRAINT "layer_sparsity_pkey";
ALTER TABLE "layer_sparsity" ADD CONSTRAINT "layer_sparsity_pkey" PRIMARY KEY ("trial_id", "attempt", "incarnation", "idx");

-- NULL until the attempt's first event names its incarnation. Attempts that have events already are
-- the '' incarnation's.
ALTER TABLE "attempt" ADD COLUMN "incarnation" TEXT;
ALTER TABLE "attempt" ADD COLUMN "incarnation_started_at" TIMESTAMPTZ(3);
UPDATE "attempt" a SET "incarnation" = ''
WHERE EXISTS (SELECT 1 FROM "event" e WHERE e."trial_id" = a."trial_id" AND e."attempt" = a."number");

-- The curves and layers of each trial's current attempt are those of its current incarnation (the
-- other incarnations' stay in the tables, as history). Same columns as before.
CREATE OR REPLACE VIEW "metric_curve_view" AS
SELECT
    m."trial_id",
    t."sweep_id",
    t."arch",
    t."pruner",
    t."pruning_type",
    t."seed",
    t."target_compression",
    m."attempt",
    m."step",
    m."name",
    m."value"
FROM "metric_point" m
JOIN "trial" t ON t."id" = m."trial_id" AND m."attempt" = t."attempts"
JOIN "attempt" a ON a."trial_id" = m."trial_id" AND a."number" = m."attempt" AND a."incarnation" = m."incarnation";

CREATE OR REPLACE VIEW "layer_sparsity_view" AS
SELECT
    l."trial_id",
    t."sweep_id",
    t."arch",
    t."pruner",
    t."pruning_type",
    t."seed",
    t."target_compression",
    l."attempt",
    l."idx" AS "layer_index",
    l."name" AS "layer",
    l."shape",
    l."params",
    l."direct",
    l."effective",
    1 - l."direct"::float8 / nullif(l."params", 0) AS "direct_sparsity",
    1 - l."effective"::float8 / nullif(l."params", 0) AS "effective_sparsity"
FROM "layer_sparsity" l
JOIN "trial" t ON t."id" = l."trial_id" AND l."attempt" = t."attempts"
JOIN "attempt" a ON a."trial_id" = l."trial_id" AND a."number" = l."attempt" AND a."incarnation" = l."incarnation";

-- New columns go last: CREATE OR REPLACE VIEW keeps the existing ones as they are.
CREATE OR REPLACE VIEW "attempts_view" AS
SELECT
    a."trial_id",
    a."number" AS "attempt",
    t."sweep_id",
    t."arch",
    t."pruner",
    t."pruning_type",
    t."seed",
    t."target_compression",
    a."status",
    a."job_name",
    a."host",
    a."step",
    a."total_steps",
    a."phase",
    a."error",
    a."retryable",
    a."created_at",
    a."started_at",
    a."finished_at",
    a."heartbeat_at",
    (a."number" = t."attempts") AS "is_current",
    a."backend",
    a."provenance"->>'device' AS "device",
    (a."provenance"->>'gpu')::boolean AS "gpu",
    a."provenance"->>'tfjsVersion' AS "tfjs_version",
    a."provenance"->>'libtensorflowVersion' AS "libtensorflow_version",
    a."provenance"->>'imageTag' AS "image_tag",
    -- The worker process whose events make the row, and how many processes the attempt had
    a."incarnation",
    (SELECT count(DISTINCT e."incarnation") FROM "event" e
     WHERE e."trial_id" = a."trial_id" AND e."attempt" = a."number")::int AS "incarnations"
FROM "attempt" a
JOIN "trial" t ON t."id" = a."trial_id";
