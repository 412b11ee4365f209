-- Where each attempt ran, as its worker reports it in the `started` event: backend, device, GPU or
-- not, tfjs and libtensorflow versions, image tag (host and backend already have columns). One JSON
-- column, read back through a zod schema, and the views spread out the fields that panels and queries use.
-- results_view also says which trials were disconnected (nothing left on any input-output path).
ALTER TABLE "attempt" ADD COLUMN "provenance" JSONB;

-- New columns go last: CREATE OR REPLACE VIEW keeps the existing ones as they are.
CREATE OR REPLACE VIEW "results_view" AS
SELECT
    t."id" AS "trial_id",
    t."sweep_id",
    s."name" AS "sweep_name",
    t."key",
    t."arch",
    t."dataset",
    t."pruner",
    t."pruning_type",
    t."target_sparsity",
    t."target_compression",
    t."seed",
    t."status",
    t."attempts",
    t."error",
    t."started_at",
    t."finished_at",
    r."accuracy",
    r."best_accuracy",
    r."loss",
    r."seconds",
    r."direct_sparsity",
    r."effective_sparsity",
    r."direct_compression",
    r."effective_compression",
    -- log10 of the compressions for log-scaled panels (NULL when infinite or missing)
    CASE WHEN r."direct_compression" < 'Infinity'::float8 THEN log(r."direct_compression") END AS "log10_direct_compression",
    CASE WHEN r."effective_compression" < 'Infinity'::float8 THEN log(r."effective_compression") END AS "log10_effective_compression",
    -- Where the current attempt ran (its `started` event), so that GPU and CPU results can be told apart
    a."backend",
    a."provenance"->>'device' AS "device",
    (a."provenance"->>'gpu')::boolean AS "gpu",
    a."provenance"->>'tfjsVersion' AS "tfjs_version",
    a."provenance"->>'imageTag' AS "image_tag",
    a."host",
    -- No path from input to output: the trial was recorded without training (a constant predictor)
    (r."effective_compression" = 'Infinity'::float8) AS "disconnected"
FROM "trial" t
JOIN "sweep" s ON s."id" = t."sweep_id"
LEFT JOIN "result" r ON r."trial_id" = t."id"
LEFT JOIN "attempt" a ON a."trial_id" = t."id" AND a."number" = t."attempts";

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
    a."provenance"->>'imageTag' AS "image_tag"
FROM "attempt" a
JOIN "trial" t ON t."id" = a."trial_id";
