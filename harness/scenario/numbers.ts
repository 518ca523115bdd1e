import { z } from "zod";

/** Ratios are numbers in [0, 1] (0.999 means 99.9%). */
export const ratio = z.number().min(0).max(1);
export const positiveInt = z.number().int().positive();
