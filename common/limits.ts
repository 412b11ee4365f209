// Bounds on what a user may ask for, shared by the sweep file and the flags of single commands.

/**
 * The largest compression: beyond a million no network here keeps a weight, and 1 − 1/c soon rounds
 * to a sparsity of 1, which is refused when given as a sparsity.
 */
export const MAX_COMPRESSION = 1_000_000;

/** Budgets above these are typos, not experiments (the longest reference schedule is 120,000 steps). */
export const MAX_ITERATIONS = 10_000_000;
export const MAX_EPOCHS = 10_000;
