-- A sweep launched as a Sweep custom resource records the object's uid: the controller expands an
-- object into the sweep it owns (or into an unowned one of the same name), never into another
-- object's, and a second controller or a restart finds the expansion already done.
ALTER TABLE "sweep" ADD COLUMN "resource_uid" TEXT;

CREATE UNIQUE INDEX "sweep_resource_uid_key" ON "sweep"("resource_uid");
