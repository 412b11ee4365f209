-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "sweep_status" AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "trial_status" AS ENUM ('pending', 'queued', 'running', 'failed', 'cancelled', 'completed');

-- CreateEnum
CREATE TYPE "pruning_type" AS ENUM ('direct', 'effective');

-- CreateTable
CREATE TABLE "sweep" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "status" "sweep_status" NOT NULL DEFAULT 'pending',
    "backend" TEXT NOT NULL DEFAULT 'local',
    "max_parallel" INTEGER,
    "retries" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trial" (
    "id" TEXT NOT NULL,
    "sweep_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "arch" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "pruner" TEXT NOT NULL,
    "pruning_type" "pruning_type" NOT NULL,
    "target_sparsity" DOUBLE PRECISION NOT NULL,
    "target_compression" DOUBLE PRECISION NOT NULL,
    "seed" INTEGER NOT NULL,
    "budget" JSONB NOT NULL,
    "params" JSONB NOT NULL,
    "depends_on_id" TEXT,
    "status" "trial_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "job_name" TEXT,
    "error" TEXT,
    "retryable" BOOLEAN,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "trial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attempt" (
    "trial_id" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "status" "trial_status" NOT NULL DEFAULT 'pending',
    "job_name" TEXT,
    "host" TEXT,
    "backend" TEXT,
    "step" INTEGER,
    "total_steps" INTEGER,
    "phase" TEXT,
    "error" TEXT,
    "retryable" BOOLEAN,
    "artifacts" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "attempt_pkey" PRIMARY KEY ("trial_id","number")
);

-- CreateTable
CREATE TABLE "result" (
    "trial_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "accuracy" DOUBLE PRECISION NOT NULL,
    "best_accuracy" DOUBLE PRECISION,
    "loss" DOUBLE PRECISION,
    "seconds" DOUBLE PRECISION,
    "direct_sparsity" DOUBLE PRECISION NOT NULL,
    "effective_sparsity" DOUBLE PRECISION NOT NULL,
    "direct_compression" DOUBLE PRECISION NOT NULL,
    "effective_compression" DOUBLE PRECISION NOT NULL,
    "artifacts" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "result_pkey" PRIMARY KEY ("trial_id")
);

-- CreateTable
CREATE TABLE "layer_sparsity" (
    "trial_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "idx" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "shape" INTEGER[],
    "params" BIGINT NOT NULL,
    "direct" BIGINT NOT NULL,
    "effective" BIGINT NOT NULL,

    CONSTRAINT "layer_sparsity_pkey" PRIMARY KEY ("trial_id","attempt","idx")
);

-- CreateTable
CREATE TABLE "metric_point" (
    "trial_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "idx" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "metric_point_pkey" PRIMARY KEY ("trial_id","attempt","seq","idx")
);

-- CreateTable
CREATE TABLE "event" (
    "trial_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "sweep_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "time" TIMESTAMPTZ(3) NOT NULL,
    "payload" JSONB NOT NULL,
    "ingested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_pkey" PRIMARY KEY ("trial_id","attempt","seq")
);

-- CreateTable
CREATE TABLE "dead_letter" (
    "id" BIGSERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dead_letter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "sweep_name_key" ON "sweep"("name");

-- CreateIndex
CREATE INDEX "trial_sweep_id_status_idx" ON "trial"("sweep_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "trial_sweep_id_key_key" ON "trial"("sweep_id", "key");

-- CreateIndex
CREATE INDEX "result_effective_compression_idx" ON "result"("effective_compression");

-- CreateIndex
CREATE INDEX "event_sweep_id_time_idx" ON "event"("sweep_id", "time");

-- CreateIndex
CREATE UNIQUE INDEX "dead_letter_source_key" ON "dead_letter"("source");

-- AddForeignKey
ALTER TABLE "trial" ADD CONSTRAINT "trial_sweep_id_fkey" FOREIGN KEY ("sweep_id") REFERENCES "sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial" ADD CONSTRAINT "trial_depends_on_id_fkey" FOREIGN KEY ("depends_on_id") REFERENCES "trial"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attempt" ADD CONSTRAINT "attempt_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "result" ADD CONSTRAINT "result_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Views for the dashboards and ad-hoc SQL (Prisma does not manage views, so they live in the migrations).

-- One row per trial: its parameters, state and result (NULL columns until it completed).
CREATE VIEW "results_view" AS
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
    CASE WHEN r."effective_compression" < 'Infinity'::float8 THEN log(r."effective_compression") END AS "log10_effective_compression"
FROM "trial" t
JOIN "sweep" s ON s."id" = t."sweep_id"
LEFT JOIN "result" r ON r."trial_id" = t."id";

-- Progress of each sweep: trial counts by state and timing.
CREATE VIEW "sweep_progress_view" AS
SELECT
    s."id" AS "sweep_id",
    s."name" AS "sweep_name",
    s."status" AS "sweep_status",
    s."created_at",
    count(t."id")::int AS "trials",
    (count(t."id") FILTER (WHERE t."status" = 'pending'))::int AS "pending",
    (count(t."id") FILTER (WHERE t."status" = 'queued'))::int AS "queued",
    (count(t."id") FILTER (WHERE t."status" = 'running'))::int AS "running",
    (count(t."id") FILTER (WHERE t."status" = 'completed'))::int AS "completed",
    (count(t."id") FILTER (WHERE t."status" = 'failed'))::int AS "failed",
    (count(t."id") FILTER (WHERE t."status" = 'cancelled'))::int AS "cancelled",
    min(t."started_at") AS "first_started_at",
    max(t."finished_at") AS "last_finished_at",
    avg(extract(epoch FROM (t."finished_at" - t."started_at"))) FILTER (WHERE t."status" = 'completed') AS "mean_trial_seconds"
FROM "sweep" s
LEFT JOIN "trial" t ON t."sweep_id" = s."id"
GROUP BY s."id";

-- Every attempt with its trial's parameters (failures, retries, running jobs, heartbeats).
CREATE VIEW "attempts_view" AS
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
    (a."number" = t."attempts") AS "is_current"
FROM "attempt" a
JOIN "trial" t ON t."id" = a."trial_id";

-- Training curves of each trial's current attempt, with the trial's parameters for grouping.
CREATE VIEW "metric_curve_view" AS
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
JOIN "trial" t ON t."id" = m."trial_id" AND m."attempt" = t."attempts";

-- Layerwise sparsity of each trial's current attempt.
CREATE VIEW "layer_sparsity_view" AS
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
JOIN "trial" t ON t."id" = l."trial_id" AND l."attempt" = t."attempts";
